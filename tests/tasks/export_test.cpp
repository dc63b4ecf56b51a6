// Task sets written out: as users' tasks (read back to the same tasks) and as SFT examples with a
// seeded fraction of buggy answers.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace {

using testing::error_of;

TEST(Export, TasksReadBackAsTheSameTasksAndStillPass) {
  testing::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> exports = {  // a task set and its file
      {"builtin:heldout[:40]", "/builtin.jsonl"}, {"humaneval[:5]", "/he.jsonl"}};
  for (const auto& [spec, file] : exports) {
    TaskSet set = load_task_source(spec, testing::data_dir());
    std::string path = dir.path + file;
    write_task_file(set, path);
    TaskSet back = load_task_file(path);
    ASSERT_EQ(back.tasks.size(), set.tasks.size()) << spec;
    for (size_t i = 0; i < set.tasks.size(); ++i) {
      const Task &a = set.tasks[i], &b = back.tasks[i];
      EXPECT_EQ(b.task_id, a.task_id);
      EXPECT_EQ(b.prompt, a.prompt);
      EXPECT_EQ(b.code_prompt, a.code_prompt);
      EXPECT_EQ(b.entry_point, a.entry_point);
      EXPECT_EQ(b.canonical_solution, a.canonical_solution);
      EXPECT_EQ(b.tests, a.tests);
    }
  }
  std::vector<sandbox::Job> jobs;
  for (const Task& task : load_task_file(dir.path + "/builtin.jsonl").tasks)
    jobs.push_back(job_for(task, task.canonical_solution));
  sandbox::Executor executor(testing::test_config(10));
  for (const sandbox::Outcome& outcome : executor.run(jobs)) EXPECT_EQ(outcome.verdict, sandbox::Verdict::passed);
}

TEST(Export, TasksThatUsersTasksCannotHoldAreRefused) {
  testing::TempDir dir;
  const std::string data = testing::data_dir();
  std::string path = dir.path + "/out.jsonl";
  EXPECT_EQ(error_of([&] { write_task_file(load_task_source("mbpp:prompt", data), path); }),
            "tasks: cannot write task '1' of 'mbpp:prompt' as users' tasks: its prompt is prose and its solutions "
            "whole programs, while users' tasks append a completion to the prompt");
  EXPECT_EQ(error_of([&] { write_task_file(load_task_source("humaneval+[:1]", data), path); }),
            "tasks: cannot write task 'HumanEval/0' of 'humaneval+[:1]' as users' tasks: its tests are evalplus value "
            "tests (users' tasks hold assertions or stdin/stdout tests)");
  EXPECT_EQ(testing::run_command("ls -A " + dir.path).output, "");  // no file, not even a temporary one
}

TEST(Export, SftExamplesCarryTheStatedFractionOfBugsChosenBySeed) {
  testing::TempDir dir;
  TaskSet set = load_task_source("builtin:heldout[:100]", testing::data_dir());
  std::string path = dir.path + "/sft.jsonl";
  EXPECT_EQ(write_sft_file(set, path, 0.2, 7), 20u);
  std::vector<nlohmann::json> rows = testing::read_jsonl(path);
  ASSERT_EQ(rows.size(), 100u);
  std::vector<bool> buggy;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Task& task = set.tasks[i];
    EXPECT_EQ(rows[i]["task_id"], task.task_id);
    EXPECT_EQ(rows[i]["prompt"], task.prompt);
    buggy.push_back(rows[i]["buggy"].get<bool>());
    std::string completion = rows[i]["completion"];
    if (buggy.back()) EXPECT_EQ(completion, task.buggy_completion);
    else EXPECT_EQ(task.prompt + completion, task.canonical_solution);
  }
  EXPECT_EQ(std::count(buggy.begin(), buggy.end(), true), 20);

  write_sft_file(set, path, 0.2, 7);
  std::vector<nlohmann::json> again = testing::read_jsonl(path);
  EXPECT_EQ(again, rows);
  write_sft_file(set, path, 0.2, 8);
  std::vector<nlohmann::json> other = testing::read_jsonl(path);
  EXPECT_NE(other, rows);
  EXPECT_EQ(write_sft_file(set, path, 0, 7), 0u);

  // MBPP's prompt is prose: the completion is the whole program.
  TaskSet mbpp = load_task_source("mbpp:prompt", testing::data_dir());
  write_sft_file(mbpp, path, 0, 0);
  EXPECT_EQ(testing::read_jsonl(path)[0]["completion"], mbpp.tasks[0].canonical_solution);
  EXPECT_EQ(error_of([&] { write_sft_file(mbpp, path, 0.5, 0); }),
            "tasks: task '3' of 'mbpp:prompt' has no buggy variant (only built-in tasks have them; hint: "
            "--buggy-fraction 0)");
}

}  // namespace
}  // namespace codealign::tasks
