// Log-probabilities of completions under a model, summed per sequence, computed from the
// hidden states in chunks of tokens so that the full-vocabulary float32 logits of a batch
// never exist at once (neither in the forward nor in the backward pass).
#pragma once
#include <torch/torch.h>

#include "model/model.h"

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

// log p(token) for the masked tokens of each row, summed; `chunk_tokens` rows of logits at a time.
SequenceLogps sequence_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens = 1024);

// log softmax(hidden W^T)[target] for hidden [N, H], weight [V, H], targets [N], chunked;
// the backward recomputes each chunk's logits. Under autocast (model::MixedPrecision) the
// products run in its dtype. Exposed for tests.
torch::Tensor chunked_token_logps(const torch::Tensor& hidden, const torch::Tensor& weight,
                                  const torch::Tensor& targets, int64_t chunk_tokens);

}  // namespace codealign::training
