// Outcomes are classified finely and tests are counted where they are separable.
// Jobs run under a timeout far beyond their work, so that no verdict depends on speed; the one
// job that must time out never ends.
#include <algorithm>
#include <mutex>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace codealign::sandbox {

// Failure messages name verdicts (found by gtest through argument-dependent lookup).
void PrintTo(Verdict verdict, std::ostream* out) { *out << verdict_name(verdict); }

namespace {

class Verdicts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(testing::test_config(120.0)); }
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

Job hardened(const std::string& program, std::vector<std::string> tests) {
  Job job = assertions(program, std::move(tests));
  job.hardened = true;
  return job;
}

// Reward hacking: objects whose comparisons lie pass the official semantics, and hardened mode
// catches them, HumanEval's check(candidate) shape included.
TEST_F(Verdicts, LyingObjectsPassCompatAndFailHardened) {
  const std::vector<std::string> cheats = {
      "class Anything:\n    def __eq__(self, other): return True\n    def __ne__(self, other): return False\n"
      "def f(x): return Anything()\n",
      "class Int(int):\n    def __eq__(self, other): return True\ndef f(x): return Int(0)\n",
      "class Anything:\n    def __eq__(self, other): return True\ndef f(x): return [Anything(), Anything()]\n",
  };
  const std::vector<std::string> tests = {"def check(candidate):\n    assert candidate(1) == [2, 3]\n    assert candidate(2) != 5 or True\n",
                                          "check(f)"};
  for (const std::string& cheat : cheats) {
    EXPECT_EQ(executor->run_one(assertions(cheat, tests)).verdict, Verdict::passed) << cheat;
    Outcome caught = executor->run_one(hardened(cheat, tests));
    EXPECT_EQ(caught.verdict, Verdict::failed) << cheat;
    EXPECT_EQ(caught.error_type, "UntrustedValue") << cheat;
  }
}

TEST_F(Verdicts, HardenedModeAcceptsPlainValues) {
  const std::string program =
      "import collections, fractions\n"
      "def f(n):\n    return {'a': [1, 2.5, (3, 'x')], 'b': {frozenset({1}), None}, 'c': collections.Counter('aab'),"
      " 'd': fractions.Fraction(1, 3), 'e': b'z', 'f': True}\n"
      "def g(n): return (i * i for i in range(n))\n"
      "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
      "import numpy as np\ndef h(): return np.arange(3).sum()\n";
  Outcome o = executor->run_one(hardened(program, {"assert f(1)['c']['a'] == 2", "assert list(g(3)) == [0, 1, 4]",
                                                   "assert fib(15) == 610", "assert h() == 3",
                                                   "assert sorted(map(abs, [-2, 1])) == [1, 2]"}));
  EXPECT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  EXPECT_EQ(o.tests_passed, 5);
}

// A hardened test stops at its first failed assertion, as the test as written would: calls after
// it never change a later test, and one that never returns does not turn "failed" into a timeout
// (the child runs the job's last test without waiting for each answer).
TEST_F(Verdicts, HardenedTestsStopAtTheFirstFailedAssertion) {
  const std::string counting = "calls = []\ndef f(x):\n    calls.append(x)\n    return x\ndef count():\n    return len(calls)\n";
  const std::vector<std::string> tests = {"assert f(1) == 0\nassert f(2) == 2", "assert count() == 1"};
  for (const Job& job : {assertions(counting, tests), hardened(counting, tests)}) {
    Outcome o = executor->run_one(job);
    EXPECT_EQ(o.verdict, Verdict::failed) << job.hardened;
    EXPECT_EQ(o.test_passed, (std::vector<bool>{false, true})) << job.hardened;
  }
  const std::string hangs_on_2 = "def f(x):\n    while x == 2:\n        pass\n    return x\n";
  const std::vector<std::string> check = {
      "def check(candidate):\n    assert candidate(1) == 0\n    assert candidate(2) == 2\n\ncheck(f)\n"};
  for (Job job : {assertions(hangs_on_2, check), hardened(hangs_on_2, check)}) {
    job.timeout_s = 2;
    Outcome o = executor->run_one(job);
    EXPECT_EQ(o.verdict, Verdict::failed) << job.hardened;
    EXPECT_EQ(o.error_type, "AssertionError") << job.hardened;
  }
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
  // About 20 MB pickled, beyond the harness's 16 MiB threshold, and cheap to build.
  const std::string program = "def f(n):\n    return [(i, 'x' * 1000) for i in range(n)]\n";
  Outcome truth = executor->run_one(values(program, "[[20000]]"));
  ASSERT_EQ(truth.verdict, Verdict::passed) << truth.error_type << ": " << truth.message;
  EXPECT_LT(truth.outputs_json.size(), 200u) << "recorded as values, not as a digest";
  Outcome same = executor->run_one(values(program, "[[20000]]", truth.outputs_json));
  EXPECT_EQ(same.verdict, Verdict::passed) << same.error_type << ": " << same.message;
  Job off = values("def f(n):\n    return [(i, 'x' * 1000) for i in range(n)] + [(0, '')]\n", "[[20000]]",
                   truth.outputs_json);
  EXPECT_EQ(executor->run_one(off).verdict, Verdict::failed);
}

// Input 1 never returns. Only its own limit can report it as timed out: the job's timeout
// (the suite's, far longer) would end the job with input 1 unreported.
TEST_F(Verdicts, PerInputTimeLimit) {
  Job job = values("def f(x):\n    while x: pass\n    return x\n", "[[0], [1], [0]]", "[0, 1, 0]");
  job.time_limits_s = {0.5, 0.5, 0.5};
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_EQ(o.error_type, "Timeout");
  EXPECT_EQ(o.tests_passed, 1);
  EXPECT_EQ(o.test_passed, (std::vector<bool>{true, false})) << "input 1 was not stopped by its own limit";
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
