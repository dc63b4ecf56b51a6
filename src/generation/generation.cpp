#include "generation/generation.h"

#include <algorithm>
#include <limits>
#include <span>

#include "common/error.h"

namespace codealign::generation {

torch::Tensor choose_tokens(const torch::Tensor& logits, const SamplingConfig& config, at::Generator& generator) {
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
    torch::Tensor drop = (probabilities.cumsum(-1) - probabilities) > config.top_p;
    sorted = sorted.masked_fill(drop, minus_infinity);
    scores = torch::full_like(scores, minus_infinity).scatter(-1, order, sorted);
  }
  return torch::multinomial(scores.softmax(-1), 1, false, generator).squeeze(-1);
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
  int64_t P = int64_t(prompts.size()), n = config.samples_per_prompt;
  size_t longest = 0;
  for (const auto& prompt : prompts) {
    if (prompt.empty()) throw Error("generation: a prompt has no tokens (add BOS, or give text)");
    longest = std::max(longest, prompt.size());
  }
  if (int64_t(longest) + config.max_new_tokens > model.config().max_position_embeddings)
    throw Error("generation: prompt (" + std::to_string(longest) + " tokens) + max_new_tokens (" +
                std::to_string(config.max_new_tokens) + ") exceeds max_position_embeddings (" +
                std::to_string(model.config().max_position_embeddings) + ")");

  // Left-padded prefill [P, T0]; positions count real tokens only.
  int64_t T0 = int64_t(longest);
  torch::Tensor ids = torch::zeros({P, T0}, torch::kInt64), valid = torch::zeros({P, T0}, torch::kBool);
  for (int64_t p = 0; p < P; ++p) {
    const auto& prompt = prompts[size_t(p)];
    int64_t offset = T0 - int64_t(prompt.size());
    for (size_t t = 0; t < prompt.size(); ++t) ids[p][offset + int64_t(t)] = int64_t(prompt[t]);
    valid[p].slice(0, offset).fill_(true);
  }
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  model::KvCache cache(T0 + config.max_new_tokens);
  // Only the last position's logits are needed: project just that hidden state.
  torch::Tensor last_hidden = model.hidden_states(ids, positions, valid, &cache).select(1, T0 - 1);  // [P, H]
  torch::Tensor last = at::linear(last_hidden, model.output_weight());                               // [P, V]
  if (n > 1) cache.share_prefix(n);  // the n samples of a prompt read its keys once per step
  last = last.repeat_interleave(n, 0);
  torch::Tensor next_position = positions.select(1, T0 - 1).repeat_interleave(n, 0) + 1;

  std::vector<Running> running;
  running.reserve(size_t(P * n));
  for (int64_t r = 0; r < P * n; ++r) {
    // The text continues the prompt's, unless the prompt holds no text (BOS alone): then the
    // first token's leading space is dropped, as llama2.c and HF's decode do.
    const auto& prompt = prompts[size_t(r / n)];
    tokenizer::DecodeOptions decode;
    decode.continuation = std::any_of(prompt.begin(), prompt.end(), [&](auto id) { return !tokenizer.is_special(id); });
    running.push_back({Sample{size_t(r / n), {}, {}, 0, ""}, decode, tokenizer::StreamDecoder(tokenizer, decode), false});
  }
  std::vector<size_t> active(running.size());
  for (size_t i = 0; i < active.size(); ++i) active[i] = i;

  auto generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  auto finish = [&](Running& r, const char* reason, bool by_stop_id = false) {
    if (r.done) return;
    r.done = true;
    r.sample.finish_reason = reason;
    r.sample.text_ids = ids_within_text(tokenizer, r.sample, r.sample.ids.size() - (by_stop_id ? 1 : 0), r.decode);
    if (on_sample) on_sample(r.sample);
  };
  for (int64_t step = 0; step < config.max_new_tokens && !active.empty(); ++step) {
    torch::Tensor scores = last.to(torch::kCPU);
    if (scores.size(-1) > int64_t(tokenizer.vocab_size()))  // padded embedding rows are not tokens
      scores = scores.slice(-1, 0, int64_t(tokenizer.vocab_size()));
    torch::Tensor chosen = choose_tokens(scores, config, generator).to(torch::kInt64);
    auto chosen_ids = chosen.accessor<int64_t, 1>();
    std::vector<int64_t> keep;
    for (size_t row = 0; row < active.size(); ++row) {
      Running& r = running[active[row]];
      auto id = tokenizer::TokenId(chosen_ids[int64_t(row)]);
      r.sample.ids.push_back(id);
      if (std::find(config.stop_ids.begin(), config.stop_ids.end(), id) != config.stop_ids.end()) {
        r.sample.text += r.decoder.finish();
        cut_at_stop(r.sample.text, 0, config.stop_strings);
        finish(r, "stop", true);
        continue;
      }
      size_t before = r.sample.text.size();
      r.sample.text += r.decoder.push(id);
      if (cut_at_stop(r.sample.text, before, config.stop_strings)) {
        finish(r, "stop");
        continue;
      }
      keep.push_back(int64_t(row));
    }
    if (step + 1 == config.max_new_tokens) break;
    if (keep.size() != active.size()) {  // finished rows leave the batch
      torch::Tensor rows = torch::tensor(keep, torch::kInt64);
      if (keep.empty()) {
        active.clear();
        break;
      }
      cache.select_rows(rows);
      chosen = chosen.index_select(0, rows);
      next_position = next_position.index_select(0, rows);
      std::vector<size_t> still;
      for (int64_t row : keep) still.push_back(active[size_t(row)]);
      active = std::move(still);
    }
    int64_t B = int64_t(active.size());
    last = model.forward(chosen.view({B, 1}), next_position.view({B, 1}), torch::ones({B, 1}, torch::kBool), &cache)
               .select(1, 0);
    next_position = next_position + 1;
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
