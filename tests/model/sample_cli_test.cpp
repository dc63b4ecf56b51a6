// End to end: a small random model saved in HF format, `codealign sample` on HumanEval, then
// `codealign evaluate` on its output (a random model scores 0, without errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "training/train_support.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

TEST(SampleCli, sample_then_evaluate_runs_end_to_end) {
  TempDir dir;
  std::string model_dir = dir.path + "/model";
  write_tiny_model(model_dir);

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
