// Log-probabilities of completions under a model, summed per sequence, computed from the
// hidden states in chunks of tokens so that the full-vocabulary float32 logits of a batch
// never exist at once (neither in the forward nor in the backward pass). A preference pair's
// two sequences can share one forward of their common prompt (pair_logps).
#pragma once
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "model/model.h"
#include "training/data.h"

namespace codealign::training {

// A right-padded batch (attention relies on it): ids [B, T], valid [B, T], and loss_mask [B, T] marking the tokens
// whose probability counts (the completion's).
struct TokenBatch {
  torch::Tensor ids, valid, loss_mask;
};

struct SequenceLogps {
  torch::Tensor sums;    // [B] float32, differentiable
  torch::Tensor tokens;  // [B] float32 counts of loss tokens
};

// The sequences right-padded to the longest, the loss on each one's completion.
TokenBatch make_batch(const std::vector<const Sequence*>& sequences);

// log p(token) for the masked tokens of each row, summed; `chunk_tokens` rows of logits at a time.
SequenceLogps sequence_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens = 1024);

// Per-token log-probs of the masked tokens, for losses that weigh tokens one by one (GRPO):
// logps [N] (differentiable) in row-major order of the loss mask, rows [N] (the batch row of
// each), and, when asked, the entropy [N] of each predicted distribution (detached). Logits
// are divided by `temperature` first (the distribution the tokens were sampled from).
struct TokenLogps {
  torch::Tensor logps, rows, entropy;
};
TokenLogps token_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens = 1024,
                       double temperature = 1.0, bool with_entropy = false);

// Preference pairs as (chosen, rejected); the sequences are not owned.
using SequencePairs = std::vector<std::pair<const Sequence*, const Sequence*>>;
struct PairSequenceLogps {
  SequenceLogps chosen, rejected;  // [B] each
  bool shared_prompt = false;      // whether the packed form ran (the values agree either way)
};

// The chosen and rejected log-probs of each pair. With `share_prompt`, when every pair's two
// sequences start with the same prompt ids, each pair is one row [prompt | chosen | rejected]
// in which the rejected tokens take the positions after the prompt and do not see the chosen
// ones: the prompt is computed once instead of twice. Otherwise (or when a prompt differs) the
// 2B sequences run as one right-padded batch. The sums agree up to float rounding.
PairSequenceLogps pair_logps(const model::CausalLM& model, const SequencePairs& pairs, int64_t chunk_tokens = 1024,
                             bool share_prompt = true);

// log softmax(hidden W^T)[target] for hidden [N, H], weight [V, H], targets [N], chunked;
// the backward recomputes each chunk's logits. Under autocast (model::MixedPrecision) the
// products run in its dtype. Exposed for tests.
torch::Tensor chunked_token_logps(const torch::Tensor& hidden, const torch::Tensor& weight,
                                  const torch::Tensor& targets, int64_t chunk_tokens);

}  // namespace codealign::training
