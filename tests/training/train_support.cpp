#include "training/train_support.h"

#include <filesystem>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "support/test_support.h"

namespace codealign::testing {

void write_tiny_model(const std::string& directory, uint64_t seed) {
  auto config = model::parse_config(
      nlohmann::json({{"model_type", "qwen2"}, {"vocab_size", 50257}, {"hidden_size", 32}, {"intermediate_size", 64},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"max_position_embeddings", 2048}, {"tie_word_embeddings", false}, {"eos_token_id", 50256}})
          .dump(),
      "tiny");
  model::CausalLM::random(config, seed).save(directory);
  std::filesystem::copy_file(data_dir() + "/tokenizers/gpt2/encoder.json", directory + "/vocab.json");
  std::filesystem::copy_file(data_dir() + "/tokenizers/gpt2/vocab.bpe", directory + "/merges.txt");
}

void write_chain_model(const std::string& directory, int64_t vocab_size, const std::vector<int64_t>& chain, int64_t lure) {
  const int64_t hidden = 32;
  if (chain.empty() || int64_t(chain.size()) > hidden) throw std::runtime_error("write_chain_model: 1 to 32 tokens");
  for (size_t i = 0; i < chain.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (chain[i] == chain[j]) throw std::runtime_error("write_chain_model: token " + std::to_string(chain[i]) + " twice");
  auto config = model::parse_config(
      nlohmann::json({{"model_type", "qwen2"}, {"vocab_size", vocab_size}, {"hidden_size", hidden}, {"intermediate_size", 64},
                      {"num_hidden_layers", 1}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"max_position_embeddings", 4096}, {"tie_word_embeddings", false}})
          .dump(),
      "chain");
  auto m = model::CausalLM::random(config, 1);
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : m.parameters())
    if (name.find("layers.") != std::string::npos && name.find("norm") == std::string::npos) tensor.zero_();
  auto& embed = m.parameters().at("model.embed_tokens.weight");
  auto& head = m.parameters().at("lm_head.weight");
  int64_t last = int64_t(chain.size()) - 1;
  embed.zero_();
  embed.select(1, last).fill_(1.0f);
  head.zero_();
  for (int64_t i = 0; i <= last; ++i) {
    embed[chain[size_t(i)]].zero_();
    embed[chain[size_t(i)]][i] = 1.0f;
    head[chain[size_t((i + 1) % chain.size())]][i] = 10.0f;
  }
  if (lure >= 0) head[lure][0] = 20.0f;  // outscores chain[1] after chain[0]
  m.save(directory);
}

void write_pairs(const std::string& path, int count) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += nlohmann::json{{"prompt", "def add_" + std::to_string(i) + "(a, b):\n    return"},
                           {"chosen", " a + b\n"}, {"rejected", " a - b\n"}, {"task_id", i}}
                .dump() + "\n";
  write_text(path, text);
}

void write_sft(const std::string& path, int count) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += nlohmann::json{{"prompt", "# task " + std::to_string(i) + "\ndef square(x):\n"}, {"completion", "    return x * x\n"}}
                .dump() + "\n";
  write_text(path, text);
}

}  // namespace codealign::testing
