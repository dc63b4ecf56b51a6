// `codealign tasks` as a user runs it: export the built-in suite as tasks and SFT data, evaluate the
// export, and the errors for misspelt sets and misused options.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace codealign {
namespace {

using testing::run_codealign;

TEST(TasksCli, ExportsTasksThatEvaluateReadsAndSftExamples) {
  testing::TempDir dir;
  std::string tasks = dir.path + "/heldout.jsonl", sft = dir.path + "/sft.jsonl";
  auto result = run_codealign("tasks 'builtin:heldout[:20]' --out " + tasks + " --sft-out " + sft +
                              " --buggy-fraction 0.25 --seed 3");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.substr(0, result.output.find(" (source hash")), "builtin:heldout[:20]: 20 tasks");
  EXPECT_NE(result.output.find("  tasks: " + tasks + "\n  sft: " + sft + " (20 examples, 5 with a bug)\n"),
            std::string::npos)
      << result.output;
  std::vector<nlohmann::json> examples = testing::read_jsonl(sft);
  ASSERT_EQ(examples.size(), 20u);
  int buggy = 0;
  for (const auto& example : examples) buggy += example["buggy"].get<bool>();
  EXPECT_EQ(buggy, 5);

  // The export and the built-in set give the same results.
  for (const std::string& source : {"--tasks " + tasks, std::string("--tasks 'builtin:heldout[:20]'")}) {
    auto evaluated = run_codealign("evaluate " + source + " --json -j 2 --out " + dir.path + "/results.jsonl");
    ASSERT_EQ(evaluated.status, 0) << evaluated.output;
    auto summary = nlohmann::json::parse(evaluated.output);
    EXPECT_EQ(summary["tasks"], 20);
    EXPECT_DOUBLE_EQ(summary["base"]["pass@1"].get<double>(), 1.0) << source;
  }
}

TEST(TasksCli, MisspeltSetsAndOptionsWithoutSftOutAreRefused) {
  auto misspelt = run_codealign("tasks builtin:tran");
  EXPECT_EQ(misspelt.status, 1);
  EXPECT_EQ(misspelt.output,
            "codealign: error: tasks: 'builtin:tran': unknown built-in set 'tran' (did you mean 'train'?); "
            "expected one of: train, heldout\n");
  auto without = run_codealign("tasks builtin:heldout --buggy-fraction 0.2");
  EXPECT_EQ(without.status, 2);
  EXPECT_NE(without.output.find("--buggy-fraction requires --sft-out"), std::string::npos) << without.output;
  testing::TempDir dir;
  auto out_of_range = run_codealign("tasks builtin:heldout --sft-out " + dir.path + "/sft.jsonl --buggy-fraction 1.5");
  EXPECT_EQ(out_of_range.status, 2) << out_of_range.output;
  EXPECT_EQ(testing::run_command("ls -A " + dir.path).output, "");
}

}  // namespace
}  // namespace codealign
