#include "training/train_support.h"

#include <filesystem>
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
