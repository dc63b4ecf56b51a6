// Outcomes are classified finely and tests are counted where they are separable.
#include <algorithm>
#include <mutex>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace codealign::sandbox {
namespace {

class Verdicts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(testing::test_config()); }
  static void TearDownTestSuite() { delete executor; }
  static Executor* executor;
};
Executor* Verdicts::executor = nullptr;

Job assertions(const std::string& program, std::vector<std::string> tests) {
  Job job;
  job.program = program;
  job.tests = std::move(tests);
  return job;
}

TEST_F(Verdicts, AssertionStyle) {
  const std::string add = "def add(a, b):\n    return a + b\n";
  Outcome passed = executor->run_one(assertions(add, {"assert add(1, 2) == 3", "assert add(2, 2) == 4"}));
  EXPECT_EQ(passed.verdict, Verdict::passed);
  EXPECT_EQ(passed.tests_passed, 2);

  Outcome failed = executor->run_one(assertions(add, {"assert add(1, 2) == 3", "assert add(2, 2) == 5", "assert add(0, 0) == 0"}));
  EXPECT_EQ(failed.verdict, Verdict::failed);
  EXPECT_EQ(failed.error_type, "AssertionError");
  EXPECT_EQ(failed.tests_passed, 2);
  EXPECT_EQ(failed.tests_total, 3);
  EXPECT_EQ(failed.test_passed, (std::vector<bool>{true, false, true}));

  Outcome error = executor->run_one(assertions("def add(a, b):\n    return a / 0\n", {"assert add(1, 2) == 3"}));
  EXPECT_EQ(error.verdict, Verdict::runtime_error);
  EXPECT_EQ(error.error_type, "ZeroDivisionError");

  Outcome syntax = executor->run_one(assertions("def add(a, b)\n    return a + b\n", {"assert True"}));
  EXPECT_EQ(syntax.verdict, Verdict::syntax_error);
  EXPECT_EQ(executor->run_one(assertions("def f():\n\treturn 1\n        return 2\n", {"assert True"})).verdict,
            Verdict::syntax_error);
  EXPECT_EQ(executor->run_one(assertions("import nonexistent_module\n", {"assert True"})).error_type,
            "ModuleNotFoundError");
}

TEST_F(Verdicts, OutputIsCaptured) {
  Outcome o = executor->run_one(assertions("import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n", {"assert True"}));
  EXPECT_EQ(o.stdout_text, "hello\n");
  EXPECT_EQ(o.stderr_text, "oops\n");
  EXPECT_FALSE(o.stdout_truncated);
}

Job values(const std::string& program, const std::string& inputs, const std::string& expected = "") {
  Job job;
  job.program = program;
  job.entry_point = "f";
  job.inputs_json = inputs;
  job.expected_json = expected;
  return job;
}

TEST_F(Verdicts, ValueStyleRecordsThenCompares) {
  const std::string inputs = "[[1], [2], [99999999999999999999999999], [Infinity]]";
  Outcome truth = executor->run_one(values("def f(x):\n    return (x, [x], {x: str(x)})\n", inputs));
  ASSERT_EQ(truth.verdict, Verdict::passed) << truth.message;
  EXPECT_EQ(truth.input_times_s.size(), 4u);

  Outcome same = executor->run_one(values("def f(x):\n    return (x, [x], {x: str(x)})\n", inputs, truth.outputs_json));
  EXPECT_EQ(same.verdict, Verdict::passed) << same.message;
  EXPECT_EQ(same.tests_passed, 4);

  // A list where a tuple is expected is wrong, as in Python.
  Outcome list = executor->run_one(values("def f(x):\n    return [x, [x], {x: str(x)}]\n", inputs, truth.outputs_json));
  EXPECT_EQ(list.verdict, Verdict::failed);
  EXPECT_EQ(list.error_type, "WrongAnswer");
  EXPECT_EQ(list.tests_passed, 0);

  Outcome partial = executor->run_one(values("def f(x):\n    if x == 2: raise KeyError(x)\n    return (x, [x], {x: str(x)})\n",
                                             inputs, truth.outputs_json));
  EXPECT_EQ(partial.verdict, Verdict::runtime_error);
  EXPECT_EQ(partial.error_type, "KeyError");
  EXPECT_EQ(partial.test_passed, (std::vector<bool>{true, false, true, true}));
}

TEST_F(Verdicts, FloatsCompareWithTolerance) {
  Outcome truth = executor->run_one(values("def f(x):\n    return x / 3\n", "[[1], [2]]"));
  Job close = values("def f(x):\n    return x / 3 + 1e-9\n", "[[1], [2]]", truth.outputs_json);
  EXPECT_EQ(executor->run_one(close).verdict, Verdict::passed);
  Job far = values("def f(x):\n    return x / 3 + 1e-3\n", "[[1], [2]]", truth.outputs_json);
  EXPECT_EQ(executor->run_one(far).verdict, Verdict::failed);
}

TEST_F(Verdicts, LargeOutputsCompareByDigest) {
  const std::string program = "def f(n):\n    return [(i, str(i)) for i in range(n)]\n";
  Outcome truth = executor->run_one(values(program, "[[2000000]]"));
  ASSERT_EQ(truth.verdict, Verdict::passed);
  EXPECT_LT(truth.outputs_json.size(), 200u);  // a digest, not 40 MB of values
  EXPECT_EQ(executor->run_one(values(program, "[[2000000]]", truth.outputs_json)).verdict, Verdict::passed);
  Job off = values("def f(n):\n    return [(i, str(i)) for i in range(n)] + [(0, '')]\n", "[[2000000]]", truth.outputs_json);
  EXPECT_EQ(executor->run_one(off).verdict, Verdict::failed);
}

TEST_F(Verdicts, PerInputTimeLimit) {
  Job job = values("def f(x):\n    while x: pass\n    return x\n", "[[0], [1], [0]]", "[0, 1, 0]");
  job.time_limits_s = {0.5, 0.5, 0.5};
  job.timeout_s = 3;
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_EQ(o.tests_passed, 1);
  EXPECT_LT(o.wall_s, 2.0);
}

TEST_F(Verdicts, IdenticalJobsRunOnce) {
  std::vector<Job> jobs(50, assertions("import random\nprint(random.random())\n", {"assert True"}));
  jobs.push_back(assertions("x = 2\n", {"assert x == 2"}));
  std::vector<size_t> answered;
  std::mutex mutex;
  auto outcomes = executor->run(jobs, [&](size_t n) {
    std::lock_guard lock(mutex);
    answered.push_back(n);
  });
  ASSERT_EQ(outcomes.size(), 51u);
  std::sort(answered.begin(), answered.end());
  EXPECT_EQ(answered, (std::vector<size_t>{1, 50}));  // two runs, one of them answering 50 jobs
  for (size_t i = 1; i < 50; ++i) EXPECT_EQ(outcomes[i].stdout_text, outcomes[0].stdout_text);
}

}  // namespace
}  // namespace codealign::sandbox
