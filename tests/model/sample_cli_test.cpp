// End to end: a small random model saved in HF format, `codealign sample` on HumanEval, then
// `codealign evaluate` on its output (a random model scores 0, without errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "model/model.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

TEST(SampleCli, sample_then_evaluate_runs_end_to_end) {
  TempDir dir;
  std::string model_dir = dir.path + "/model";
  auto config = model::parse_config(
      nlohmann::json({{"model_type", "qwen2"}, {"vocab_size", 50257}, {"hidden_size", 32}, {"intermediate_size", 64},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"max_position_embeddings", 2048}, {"tie_word_embeddings", true}, {"eos_token_id", 50256}})
          .dump(),
      "test");
  model::CausalLM::random(config, 1).save(model_dir);
  std::filesystem::copy_file(data_dir() + "/tokenizers/gpt2/encoder.json", model_dir + "/vocab.json");
  std::filesystem::copy_file(data_dir() + "/tokenizers/gpt2/vocab.bpe", model_dir + "/merges.txt");

  std::string samples = dir.path + "/samples.jsonl";
  auto sampled = run_codealign("sample --model " + model_dir + " --benchmark humaneval --n 2 -t 0.8 --seed 1 "
                               "--max-new-tokens 24 --out " + samples + " --data-dir " + data_dir());
  ASSERT_EQ(sampled.status, 0) << sampled.output;
  size_t lines = 0;
  {
    std::string text = read_file(samples);
    for (char c : text) lines += c == '\n';
  }
  EXPECT_EQ(lines, 2 * 164u);
  auto first = nlohmann::json::parse(read_file(samples).substr(0, read_file(samples).find('\n')));
  EXPECT_EQ(first["task_id"], "HumanEval/0");
  EXPECT_TRUE(first["completion"].is_string());

  auto evaluated = run_codealign("evaluate --benchmark humaneval --samples " + samples + " --k 1,2 --json --data-dir " + data_dir());
  ASSERT_EQ(evaluated.status, 0) << evaluated.output;
  auto summary = nlohmann::json::parse(evaluated.output.substr(evaluated.output.find('{')));
  EXPECT_EQ(summary["base"]["pass@1"], 0.0) << summary.dump();
  EXPECT_EQ(summary["samples"], 2 * 164);
}

}  // namespace
}  // namespace codealign::testing
