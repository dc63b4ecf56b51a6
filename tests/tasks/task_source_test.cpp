// Task sources as every command names them: benchmarks, MBPP splits, files, and slices of each.
#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace {

std::vector<std::string> ids(const TaskSet& set) {
  std::vector<std::string> out;
  for (const Task& task : set.tasks) out.push_back(task.task_id);
  return out;
}

std::string error_of(const std::string& spec, const std::string& data) {
  try {
    load_task_source(spec, data);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TaskSource, SplitsHoldTheirTaskRanges) {
  const std::string data = testing::data_dir();
  TaskSet train = load_task_source("mbpp:train", data);
  ASSERT_EQ(train.tasks.size(), 374u);
  EXPECT_EQ(train.tasks.front().task_id, "601");
  EXPECT_EQ(train.tasks.back().task_id, "974");
  EXPECT_EQ(train.name, "mbpp:train");
  EXPECT_EQ(load_task_source("mbpp:validation", data).tasks.size(), 90u);
  EXPECT_EQ(error_of("mbpp:tran", data),
            "tasks: 'mbpp:tran': unknown split 'tran' (did you mean 'train'?); expected one of: prompt, test, validation, "
            "train");
  EXPECT_EQ(error_of("humaneval:train", data), "tasks: 'humaneval:train': only mbpp and mbpp-sanitized have splits");
}

TEST(TaskSource, SlicesTakeTasksInFileOrderAsPythonDoes) {
  const std::string data = testing::data_dir();
  TaskSet some = load_task_source("mbpp:train[211:214]", data);
  EXPECT_EQ(ids(some), (std::vector<std::string>{"812", "813", "814"}));
  EXPECT_EQ(some.name, "mbpp:train[211:214]");
  EXPECT_EQ(ids(load_task_source("humaneval[:2]", data)), (std::vector<std::string>{"HumanEval/0", "HumanEval/1"}));
  EXPECT_EQ(ids(load_task_source("humaneval[162:]", data)), (std::vector<std::string>{"HumanEval/162", "HumanEval/163"}));
  EXPECT_EQ(load_task_source("humaneval[:]", data).tasks.size(), 164u);
  EXPECT_EQ(ids(load_task_source("humaneval[163:1000]", data)), (std::vector<std::string>{"HumanEval/163"}));

  testing::TempDir dir;
  std::string file = dir.path + "/mine.jsonl";
  testing::write_text(file, R"({"task_id": "a", "prompt": "", "tests": ["assert True"]})" "\n"
                            R"({"task_id": "b", "prompt": "", "tests": ["assert True"]})" "\n");
  EXPECT_EQ(ids(load_task_source(file + "[1:]", data)), (std::vector<std::string>{"b"}));

  EXPECT_EQ(error_of("humaneval[164:]", data), "tasks: 'humaneval[164:]' holds no tasks ('humaneval' has 164)");
  EXPECT_EQ(error_of("humaneval[5:3]", data), "tasks: 'humaneval[5:3]' holds no tasks ('humaneval' has 164)");
  for (const std::string bad : {"humaneval[3]", "humaneval[-3:]", "humaneval[a:b]", "humaneval[1:2:3]", "[1:2]"})
    EXPECT_EQ(error_of(bad, data),
              "tasks: '" + bad + "': a slice is SOURCE[begin:end] with whole numbers, e.g. mbpp:train[:50]");
}

}  // namespace
}  // namespace codealign::tasks
