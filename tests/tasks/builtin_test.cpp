// The built-in suite: the same seed gives the same tasks; held-out compositions never occur in
// training while each of their blocks does; and in the real sandbox every held-out task and a
// sample of training tasks passes with its canonical solution and fails with its buggy one.
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace {

std::string composition(const BuiltinTask& task) {
  std::string out;
  for (const std::string& block : task.blocks) out += (out.empty() ? "" : " > ") + block;
  return out;
}

// The sets, generated once for all tests here (about a second for the training set).
const std::vector<BuiltinTask>& train_tasks() {
  static const std::vector<BuiltinTask> tasks = generate_builtin_tasks("train");
  return tasks;
}

const std::vector<BuiltinTask>& heldout_tasks() {
  static const std::vector<BuiltinTask> tasks = generate_builtin_tasks("heldout");
  return tasks;
}

void expect_same(const std::vector<BuiltinTask>& a, const std::vector<BuiltinTask>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].task.task_id, b[i].task.task_id);
    EXPECT_EQ(a[i].task.prompt, b[i].task.prompt) << a[i].task.task_id;
    EXPECT_EQ(a[i].task.canonical_solution, b[i].task.canonical_solution) << a[i].task.task_id;
    EXPECT_EQ(a[i].task.buggy_completion, b[i].task.buggy_completion) << a[i].task.task_id;
    EXPECT_EQ(a[i].task.tests, b[i].task.tests) << a[i].task.task_id;
    EXPECT_EQ(a[i].blocks, b[i].blocks) << a[i].task.task_id;
  }
}

TEST(Builtin, TheSameSeedGivesTheSameTasksAndAnotherSeedOthers) {
  const std::vector<BuiltinTask>& heldout = heldout_tasks();
  expect_same(heldout, generate_builtin_tasks("heldout", builtin_default_seed));
  std::vector<BuiltinTask> other = generate_builtin_tasks("heldout", builtin_default_seed + 1);
  ASSERT_EQ(other.size(), heldout.size());
  size_t same_prompt = 0;
  for (size_t i = 0; i < heldout.size(); ++i) same_prompt += other[i].task.prompt == heldout[i].task.prompt;
  EXPECT_EQ(same_prompt, 0u);
  // A smaller count is a prefix of the whole set.
  std::vector<BuiltinTask> some = generate_builtin_tasks("heldout", builtin_default_seed, 40);
  expect_same(some, std::vector<BuiltinTask>(heldout.begin(), heldout.begin() + 40));
  EXPECT_THROW(generate_builtin_tasks("test"), Error);
}

// The sets are content, not just a seed: their hashes key ground-truth caches, and a change of the
// generator must show here (then update the hash below).
TEST(Builtin, NamedSetsHaveTheirSizesIdsAndAStableHash) {
  auto start = std::chrono::steady_clock::now();
  TaskSet train = load_task_source("builtin:train", testing::data_dir());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("builtin:train: %zu tasks in %.2f s\n", train.tasks.size(), seconds);
  ASSERT_EQ(train.tasks.size(), 20000u);
  EXPECT_EQ(train.name, "builtin:train");
  EXPECT_EQ(train.tasks[123].task_id, "builtin/train/123");
  EXPECT_EQ(train.tasks[123].split, "train");
  std::set<std::string> prompts;
  for (const Task& task : train.tasks) prompts.insert(task.prompt);
  EXPECT_EQ(prompts.size(), 20000u);
  EXPECT_EQ(train.tasks[19999].prompt, train_tasks()[19999].task.prompt);

  TaskSet heldout = load_task_source("builtin:heldout", testing::data_dir());
  ASSERT_EQ(heldout.tasks.size(), 300u);
  EXPECT_EQ(heldout.source_hash, "25ad4b2abfe2506777e32c78a1515b32");
  EXPECT_EQ(load_task_source("builtin:heldout", testing::data_dir()).source_hash, heldout.source_hash);
  EXPECT_NE(train.source_hash, heldout.source_hash);
  TaskSet slice = load_task_source("builtin:heldout[10:15]", testing::data_dir());
  ASSERT_EQ(slice.tasks.size(), 5u);
  EXPECT_EQ(slice.name, "builtin:heldout[10:15]");
  EXPECT_EQ(slice.tasks[0].prompt, heldout.tasks[10].prompt);

  const Task& first = heldout.tasks[0];
  EXPECT_EQ(first.code_prompt, first.prompt);
  EXPECT_TRUE(first.prompt.starts_with("def " + first.entry_point + "(")) << first.prompt;
  EXPECT_NE(first.prompt.find("    >>> " + first.entry_point + "("), std::string::npos) << first.prompt;
  EXPECT_TRUE(first.canonical_solution.starts_with(first.prompt));
  for (const Task& task : heldout.tasks) {
    EXPECT_EQ(task.tests.size(), 5u) << task.task_id;
    EXPECT_EQ(std::set<std::string>(task.tests.begin(), task.tests.end()).size(), 5u) << task.task_id;
    std::set<std::string> results;  // what follows "== " in each assert
    for (const std::string& test : task.tests) {
      size_t at = test.find(" == ") + 4;
      results.insert(test.substr(at, test.find('\n', at) - at));
    }
    bool boolean = results.count("True") || results.count("False");
    EXPECT_GE(results.size(), boolean ? 2u : 3u) << task.task_id;
  }
}

TEST(Builtin, HeldOutCompositionsNeverOccurInTrainingButEachOfTheirBlocksDoes) {
  std::set<std::string> train_compositions, train_blocks, families;
  for (const BuiltinTask& task : train_tasks()) {
    train_compositions.insert(composition(task));
    train_blocks.insert(task.blocks.begin(), task.blocks.end());
  }
  std::set<std::string> heldout_compositions;
  for (const BuiltinTask& task : heldout_tasks()) {
    heldout_compositions.insert(composition(task));
    EXPECT_FALSE(train_compositions.count(composition(task))) << composition(task);
    for (const std::string& block : task.blocks) EXPECT_TRUE(train_blocks.count(block)) << block;
    families.insert(task.blocks[0].substr(0, task.blocks[0].find('.')));
  }
  EXPECT_EQ(families, (std::set<std::string>{"dict", "list", "number", "string"}));
  EXPECT_GE(heldout_compositions.size(), 60u);
  EXPECT_GE(train_compositions.size(), 600u);
  std::printf("compositions: %zu in training, %zu held out\n", train_compositions.size(), heldout_compositions.size());
}

// "assert name(ARGS) == RESULT" from the docstring's example.
std::string example_test(const Task& task) {
  size_t call = task.prompt.find(">>> ") + 4, end = task.prompt.find('\n', call);
  size_t result = task.prompt.find_first_not_of(' ', end + 1);
  std::string expected = task.prompt.substr(result, task.prompt.find('\n', result) - result);
  return "assert " + task.prompt.substr(call, end - call) + " == " + expected;
}

// Every held-out task and every 80th training task: 550 tasks, 1100 jobs in one batch (about
// 6 s on 2 cores: a job costs some 10 ms of CPU, mostly the kernel's).
TEST(Builtin, CanonicalSolutionsPassTheirTestsAndBuggyOnesFailOne) {
  std::vector<Task> tasks;
  for (const BuiltinTask& task : heldout_tasks()) tasks.push_back(task.task);
  for (size_t i = 0; i < train_tasks().size(); i += 80) tasks.push_back(train_tasks()[i].task);
  std::vector<sandbox::Job> jobs;
  for (const Task& task : tasks) {
    sandbox::Job canonical = job_for(task, task.canonical_solution);
    canonical.tests.push_back(example_test(task));  // the docstring tells the truth too
    jobs.push_back(canonical);
    jobs.push_back(job_for(task, sample_program(task, task.buggy_completion, true)));
  }
  sandbox::Executor executor(testing::test_config(10));
  auto start = std::chrono::steady_clock::now();
  std::vector<sandbox::Outcome> outcomes = executor.run(jobs);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu jobs in %.2f s\n", jobs.size(), seconds);
  std::map<std::string, int> bug_verdicts;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const sandbox::Outcome& canonical = outcomes[2 * i];
    const sandbox::Outcome& buggy = outcomes[2 * i + 1];
    EXPECT_EQ(canonical.verdict, sandbox::Verdict::passed)
        << tasks[i].task_id << ": " << canonical.message << "\n" << tasks[i].canonical_solution;
    EXPECT_EQ(canonical.tests_passed, 6) << tasks[i].task_id;
    EXPECT_NE(buggy.verdict, sandbox::Verdict::passed)
        << tasks[i].task_id << "\n" << tasks[i].prompt << tasks[i].buggy_completion;
    EXPECT_LT(buggy.tests_passed, 5) << tasks[i].task_id;
    ++bug_verdicts[sandbox::verdict_name(buggy.verdict)];
  }
  // Bugs are mostly wrong answers; some raise (IndexError, int('-')).
  EXPECT_GT(bug_verdicts["failed"], 400);
  EXPECT_GT(bug_verdicts["runtime_error"], 5);
}

}  // namespace
}  // namespace codealign::tasks
