// Batched sampling from a CausalLM with a KV cache: each prompt is prefilled once and then
// continued `samples_per_prompt` times; sequences leave the batch when they stop (EOS/stop
// ids, a stop string, or max_new_tokens), so finished ones cost little more.
//
// Every sample has a random stream of its own, drawn from the seed, its prompt's ids and its
// index among the prompt's samples: the same seed and prompt give the same sample whatever
// else is in the batch (up to the float rounding of batched matrix products, which in
// bfloat16 on a GPU often differs with the batch's shape); two identical prompts get identical
// samples. Tokens are
// chosen on the model's device; on a GPU the host reads them every few steps, not per token,
// and each decode step is a replayed CUDA graph (generation/decode_step.h).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "generation/config.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace codealign::generation {

struct Sample {
  size_t prompt_index = 0;
  std::vector<tokenizer::TokenId> ids;  // generated ids, the stopping id included
  std::string text;                     // their text, cut before a stop string
  // How many leading ids decode to `text` or a prefix of it: the sampled ids a trainer uses for
  // the text (the stopping id, and tokens that reach into a stop string, left out).
  size_t text_ids = 0;
  std::string finish_reason;            // "stop" or "length"
};

// Ids that end generation: the tokenizer's end-of-text and end-of-turn ids and the model
// config's eos ids.
std::vector<tokenizer::TokenId> stop_ids(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer);

// Samples for every prompt (token ids, BOS included when the model wants one), in the order
// prompt 0 sample 0..n-1, prompt 1 ...; `on_sample` is called as each one finishes.
std::vector<Sample> generate(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer,
                             const std::vector<std::vector<tokenizer::TokenId>>& prompts,
                             const SamplingConfig& config,
                             const std::function<void(const Sample&)>& on_sample = {});

// Picks the next token of each row of logits [B, V] by the config (greedy, temperature,
// top-k, top-p), by inverse transform: row b takes the token where the cumulative probability
// passes uniforms[b] in [0, 1). Exposed for tests.
torch::Tensor choose_tokens(const torch::Tensor& logits, const SamplingConfig& config, const torch::Tensor& uniforms);

// The uniforms [R, steps] (float32) of the random streams of rows keyed by `keys`; a row's
// key is sample_stream_key's. Exposed for tests.
uint64_t sample_stream_key(const std::vector<tokenizer::TokenId>& prompt, int64_t sample_index, uint64_t seed);
torch::Tensor stream_uniforms(const std::vector<uint64_t>& keys, int64_t steps);

}  // namespace codealign::generation
