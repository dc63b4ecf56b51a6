#include "cli/model_options.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"

namespace codealign::cli {

void ModelOptions::add_to(CLI::App* sub, double default_temperature, int64_t default_max_new_tokens) {
  sampling.temperature = default_temperature;
  sampling.max_new_tokens = default_max_new_tokens;
  sub->add_option("-m,--model", model, "HF model directory (config.json + safetensors) or a llama2.c .bin")->required();
  sub->add_option("--tokenizer", tokenizer, "Tokenizer file or directory (default: the model directory)");
  sub->add_option("--chat", chat, "Chat format for instruct models: none (completion style), auto "
                                  "(from tokenizer_config.json), chatml, qwen2.5, llama-2, deepseek-coder, or a JSON file")
      ->capture_default_str();
  sub->add_option("--max-new-tokens", sampling.max_new_tokens, "Tokens to generate at most")->capture_default_str();
  sub->add_option("-t,--temperature", sampling.temperature, "Sampling temperature; 0 is greedy")->capture_default_str();
  sub->add_option("--top-p", sampling.top_p, "Nucleus sampling: keep the most likely tokens covering this mass")
      ->capture_default_str();
  sub->add_option("--top-k", sampling.top_k, "Keep only the k most likely tokens (0: off)")->capture_default_str();
  sub->add_option("--seed", sampling.seed, "Random seed (the same seed gives the same samples)")->capture_default_str();
  sub->add_option("-n,--n", sampling.samples_per_prompt, "Samples per prompt")->capture_default_str();
  sub->add_option("--stop", sampling.stop_strings, "A stop string (repeatable)");
}

model::CausalLM ModelOptions::load_model() const {
  at::set_num_threads(1);
  return model::CausalLM::load(model);
}

tokenizer::Tokenizer ModelOptions::load_tokenizer() const {
  if (!tokenizer.empty()) return tokenizer::Tokenizer::load(tokenizer);
  if (std::filesystem::is_directory(model)) return tokenizer::Tokenizer::load(model);
  throw Error("a llama2.c model needs --tokenizer (its tok*.bin)");
}

std::optional<tokenizer::ChatFormat> ModelOptions::chat_format() const {
  if (chat == "none") return std::nullopt;
  if (chat == "auto") {
    std::string config = (std::filesystem::path(tokenizer.empty() ? model : tokenizer) / "tokenizer_config.json").string();
    if (!std::filesystem::exists(config)) return std::nullopt;
    return tokenizer::detect_chat_format(config);
  }
  if (chat.ends_with(".json")) return tokenizer::load_chat_format(chat);
  return tokenizer::builtin_chat_format(chat);
}

std::vector<tokenizer::TokenId> ModelOptions::stop_ids(const model::CausalLM& m, const tokenizer::Tokenizer& tok) const {
  std::vector<tokenizer::TokenId> ids = tok.stop_ids();
  for (int64_t id : m.config().eos_token_ids)
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(tokenizer::TokenId(id));
  return ids;
}

}  // namespace codealign::cli
