#include "generation/generation.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <span>

#include "common/error.h"
#include "model/device.h"
#include "generation/decode_step.h"

namespace codealign::generation {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t sample_stream_key(const std::vector<tokenizer::TokenId>& prompt, int64_t sample_index, uint64_t seed) {
  uint64_t prompt_hash = XXH3_64bits_withSeed(prompt.data(), prompt.size() * sizeof(prompt[0]), seed);
  return splitmix64(prompt_hash ^ splitmix64(uint64_t(sample_index)));
}

torch::Tensor stream_uniforms(const std::vector<uint64_t>& keys, int64_t steps) {
  torch::Tensor out = torch::empty({int64_t(keys.size()), steps}, torch::kFloat32);
  float* u = out.data_ptr<float>();
  for (size_t row = 0; row < keys.size(); ++row)
    for (int64_t step = 0; step < steps; ++step)  // the top 24 bits: exact in a float, in [0, 1)
      *u++ = float(splitmix64(keys[row] + uint64_t(step) * 0xD1B54A32D192ED03ull) >> 40) * 0x1p-24f;
  return out;
}

namespace {

// Cumulative sums along the last dimension of [B, V], in blocks of 512: each block's own sum
// plus the blocks before it. torch's CUDA cumsum scans a few long rows in one thread block;
// with it the sampler added 53 ms per step to the model's 22 ms (32 rows, a 152k vocabulary,
// an H200, bench/gpu.sh). Blocks make many short rows, which run in parallel.
torch::Tensor blocked_cumsum(const torch::Tensor& x) {
  const int64_t width = 512;
  int64_t V = x.size(-1), blocks = (V + width - 1) / width;
  torch::Tensor padded = torch::constant_pad_nd(x, {0, blocks * width - V}).view({x.size(0), blocks, width});
  torch::Tensor within = padded.cumsum(-1);
  // Each block starts exactly where the previous one ends (an exclusive prefix, not
  // cumsum - totals, which rounds), so the sums never go down and the first one past a
  // target always belongs to a token with probability.
  torch::Tensor ends = within.select(-1, width - 1).cumsum(-1);
  torch::Tensor before = torch::constant_pad_nd(ends.narrow(-1, 0, blocks - 1), {1, 0});
  return (within + before.unsqueeze(-1)).view({x.size(0), blocks * width}).narrow(-1, 0, V);
}

}  // namespace

torch::Tensor choose_tokens(const torch::Tensor& logits, const SamplingConfig& config, const torch::Tensor& uniforms) {
  torch::Tensor scores = logits.to(torch::kFloat32);
  if (config.temperature <= 0) return scores.argmax(-1);
  scores = scores / config.temperature;
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  if (config.top_k > 0 && config.top_k < scores.size(-1)) {
    torch::Tensor kth = std::get<0>(scores.topk(config.top_k, -1)).slice(-1, config.top_k - 1);
    scores = scores.masked_fill(scores < kth, minus_infinity);
  }
  if (config.top_p < 1.0) {
    auto [sorted, order] = scores.sort(-1, true);
    torch::Tensor probabilities = sorted.softmax(-1);
    // Drop a token when the ones before it already cover top_p (the first always stays).
    torch::Tensor drop = (blocked_cumsum(probabilities) - probabilities) > config.top_p;
    sorted = sorted.masked_fill(drop, minus_infinity);
    scores = torch::full_like(scores, minus_infinity).scatter(-1, order, sorted);
  }
  torch::Tensor cumulative = blocked_cumsum(scores.softmax(-1));
  // The target mass stays just under the row's total, so that rounding never lands past the
  // last token that has any probability.
  torch::Tensor target = uniforms.to(cumulative.device()).unsqueeze(-1) * cumulative.narrow(-1, scores.size(-1) - 1, 1) *
                         (1.0 - 0x1p-22);
  return (cumulative <= target).sum(-1).clamp_max(scores.size(-1) - 1);
}

namespace {

// One sequence being generated.
struct Running {
  Sample sample;
  tokenizer::DecodeOptions decode;
  tokenizer::StreamDecoder decoder;
  bool done = false;
};

// Ends the text at the first stop string; true when one was found.
bool cut_at_stop(std::string& text, size_t searched_from, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const std::string& stop : stops) {
    size_t from = searched_from > stop.size() ? searched_from - stop.size() : 0;
    size_t at = text.find(stop, from);
    if (at < best) best = at;
  }
  if (best == std::string::npos) return false;
  text.resize(best);
  return true;
}

// The longest run of leading ids (`limit` at most) whose text is a prefix of the sample's text.
size_t ids_within_text(const tokenizer::Tokenizer& tokenizer, const Sample& sample, size_t limit,
                       const tokenizer::DecodeOptions& options) {
  size_t k = limit;
  for (; k > 0; --k) {
    std::string text = tokenizer.decode(std::span(sample.ids.data(), k), options);
    if (text.size() <= sample.text.size() && sample.text.compare(0, text.size(), text) == 0) break;
  }
  return k;
}

// The batch being decoded: rows still running, their cache, and what the next step needs.
struct Batch {
  model::KvCache cache;
  torch::Tensor last_logits;    // [B, V] on the device
  torch::Tensor next_position;  // [B] on the device
  torch::Tensor uniforms;       // [B, max_new_tokens] on the device: each row's stream
  std::vector<size_t> rows;     // index into the Running list, per batch row
};

// Left-padded prefill [P, T0] of every prompt (positions count real tokens only), then each
// prompt's row made n rows that share its cached keys.
Batch prefill(const model::CausalLM& model, const std::vector<std::vector<tokenizer::TokenId>>& prompts,
              const SamplingConfig& config) {
  int64_t P = int64_t(prompts.size()), n = config.samples_per_prompt, T0 = 0;
  for (const auto& prompt : prompts) T0 = std::max(T0, int64_t(prompt.size()));
  torch::Tensor ids = torch::zeros({P, T0}, torch::kInt64), valid = torch::zeros({P, T0}, torch::kBool);
  std::vector<uint64_t> keys;
  for (int64_t p = 0; p < P; ++p) {
    const auto& prompt = prompts[size_t(p)];
    int64_t offset = T0 - int64_t(prompt.size());
    ids[p].slice(0, offset).copy_(torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end())));
    valid[p].slice(0, offset).fill_(true);
    for (int64_t j = 0; j < n; ++j) keys.push_back(sample_stream_key(prompt, j, config.seed));
  }
  torch::Device device = model.device();
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  Batch batch{model::KvCache(T0 + config.max_new_tokens), {}, {}, {}, {}};
  // Only the last position's logits are needed: project just that hidden state.
  torch::Tensor last_hidden = model.hidden_states(ids, positions, valid, &batch.cache).select(1, T0 - 1);  // [P, H]
  batch.last_logits = at::linear(last_hidden, model.output_weight()).repeat_interleave(n, 0);
  if (n > 1) batch.cache.share_prefix(n);  // the n samples of a prompt read its keys once per step
  batch.next_position = (positions.select(1, T0 - 1).repeat_interleave(n, 0) + 1).to(device);
  if (config.temperature > 0) batch.uniforms = stream_uniforms(keys, config.max_new_tokens).to(device);
  for (size_t r = 0; r < keys.size(); ++r) batch.rows.push_back(r);
  return batch;
}

// Keeps the batch rows `keep` (indices into batch.rows) and forgets the others.
void keep_rows(Batch& batch, const std::vector<int64_t>& keep, torch::Tensor& chosen) {
  torch::Tensor index = torch::tensor(keep, torch::kInt64).to(batch.next_position.device());
  batch.cache.select_rows(index);
  chosen = chosen.index_select(0, index);
  batch.next_position = batch.next_position.index_select(0, index);
  if (batch.uniforms.defined()) batch.uniforms = batch.uniforms.index_select(0, index);
  std::vector<size_t> rows;
  for (int64_t row : keep) rows.push_back(batch.rows[size_t(row)]);
  batch.rows = std::move(rows);
}

}  // namespace

std::vector<tokenizer::TokenId> stop_ids(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer) {
  std::vector<tokenizer::TokenId> ids = tokenizer.stop_ids();
  for (int64_t id : model.config().eos_token_ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(tokenizer::TokenId(id));
  return ids;
}

std::vector<Sample> generate(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer,
                             const std::vector<std::vector<tokenizer::TokenId>>& prompts,
                             const SamplingConfig& config, const std::function<void(const Sample&)>& on_sample) {
  if (prompts.empty()) return {};
  if (config.samples_per_prompt < 1) throw Error("generation: samples_per_prompt must be at least 1");
  torch::NoGradGuard no_grad;
  int64_t n = config.samples_per_prompt;
  size_t longest = 0;
  for (const auto& prompt : prompts) {
    if (prompt.empty()) throw Error("generation: a prompt has no tokens (add BOS, or give text)");
    longest = std::max(longest, prompt.size());
  }
  if (int64_t(longest) + config.max_new_tokens > model.config().max_position_embeddings)
    throw Error("generation: prompt (" + std::to_string(longest) + " tokens) + max_new_tokens (" +
                std::to_string(config.max_new_tokens) + ") exceeds max_position_embeddings (" +
                std::to_string(model.config().max_position_embeddings) + ")");
  if (config.max_new_tokens < 1) throw Error("generation: max_new_tokens must be at least 1");

  if (model.device().is_cpu()) model::reuse_freed_cpu_memory();
  Batch batch = prefill(model, prompts, config);
  std::vector<Running> running;
  running.reserve(batch.rows.size());
  for (size_t r = 0; r < batch.rows.size(); ++r) {
    // The text continues the prompt's, unless the prompt holds no text (BOS alone): then the
    // first token's leading space is dropped, as llama2.c and HF's decode do.
    const auto& prompt = prompts[r / size_t(n)];
    tokenizer::DecodeOptions decode;
    decode.continuation = std::any_of(prompt.begin(), prompt.end(), [&](auto id) { return !tokenizer.is_special(id); });
    running.push_back({Sample{r / size_t(n), {}, {}, 0, ""}, decode, tokenizer::StreamDecoder(tokenizer, decode), false});
  }
  auto finish = [&](Running& r, const char* reason, bool by_stop_id = false) {
    r.done = true;
    r.sample.finish_reason = reason;
    r.sample.text_ids = ids_within_text(tokenizer, r.sample, r.sample.ids.size() - (by_stop_id ? 1 : 0), r.decode);
    if (on_sample) on_sample(r.sample);
  };
  // Takes one token into a row; false when the row has finished.
  auto take = [&](Running& r, tokenizer::TokenId id) {
    r.sample.ids.push_back(id);
    if (std::find(config.stop_ids.begin(), config.stop_ids.end(), id) != config.stop_ids.end()) {
      r.sample.text += r.decoder.finish();
      cut_at_stop(r.sample.text, 0, config.stop_strings);
      finish(r, "stop", true);
      return false;
    }
    size_t before = r.sample.text.size();
    r.sample.text += r.decoder.push(id);
    if (cut_at_stop(r.sample.text, before, config.stop_strings)) {
      finish(r, "stop");
      return false;
    }
    return true;
  };

  // The host reads the chosen tokens every `window` steps (each read waits for the GPU); rows
  // that finish inside a window run on to its end and what they make there is dropped. Their
  // own random streams keep the other rows' samples the same whatever the window. Finished
  // rows leave the batch at a read; with graphs only once a quarter of the rows have finished,
  // since each new batch size is a new capture.
  DecodeStep decode(model, batch.cache, config.decode);
  const int64_t window = model.device().is_cuda() ? 8 : 1;
  const int64_t vocabulary = int64_t(tokenizer.vocab_size());
  std::vector<torch::Tensor> pending;  // [B] chosen ids per step since the last read
  for (int64_t step = 0; step < config.max_new_tokens && !batch.rows.empty(); ++step) {
    torch::Tensor scores = batch.last_logits;
    if (scores.size(-1) > vocabulary) scores = scores.slice(-1, 0, vocabulary);  // padded rows are not tokens
    torch::Tensor uniforms = batch.uniforms.defined() ? batch.uniforms.select(1, step) : torch::Tensor();
    torch::Tensor chosen = choose_tokens(scores, config, uniforms).to(torch::kInt64);
    pending.push_back(chosen);
    bool last_step = step + 1 == config.max_new_tokens;
    if (int64_t(pending.size()) == window || last_step) {
      torch::Tensor read = torch::stack(pending, 1).to(torch::kCPU);  // [B, k]
      auto tokens = read.accessor<int64_t, 2>();
      pending.clear();
      std::vector<int64_t> keep;
      for (size_t row = 0; row < batch.rows.size(); ++row) {
        Running& r = running[batch.rows[row]];
        bool going = !r.done;
        for (int64_t k = 0; k < read.size(1) && going; ++k) going = take(r, tokenizer::TokenId(tokens[int64_t(row)][k]));
        if (going) keep.push_back(int64_t(row));
      }
      if (last_step || keep.empty()) break;
      size_t rows = batch.rows.size();
      if (keep.size() != rows && (!decode.uses_graphs() || 4 * keep.size() <= 3 * rows)) {
        keep_rows(batch, keep, chosen);
        decode.rows_changed();
      }
    }
    batch.last_logits = decode.next_logits(chosen, batch.next_position);
    batch.next_position = batch.next_position + 1;
  }
  std::vector<Sample> samples;
  samples.reserve(running.size());
  for (Running& r : running) {
    if (!r.done) {
      r.sample.text += r.decoder.finish();
      cut_at_stop(r.sample.text, 0, config.stop_strings);
      finish(r, "length");
    }
    samples.push_back(std::move(r.sample));
  }
  return samples;
}

}  // namespace codealign::generation
