// Task sets out: as users' tasks JSONL (load_task_file's format) and as SFT examples.
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "tasks/builtin.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace {

std::string dumped(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"; }

void write_atomically(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}

std::string task_where(const Task& task, const TaskSet& set) {
  return "task '" + task.task_id + "' of '" + set.name + "'";
}

// What a model appends to the prompt to give the canonical solution.
std::string canonical_completion(const Task& task, const TaskSet& set) {
  if (task.canonical_solution.empty())
    throw Error("tasks: " + task_where(task, set) + " has no canonical_solution to write as an SFT example");
  if (!task.canonical_solution.starts_with(task.code_prompt))
    throw Error("tasks: " + task_where(task, set) + ": its canonical_solution does not begin with its prompt");
  return task.canonical_solution.substr(task.code_prompt.size());
}

Json user_task_json(const Task& task, const TaskSet& set) {
  if (task.has_value_tests())
    throw Error("tasks: cannot write " + task_where(task, set) +
                " as users' tasks: its tests are evalplus value tests (users' tasks hold assertions or "
                "stdin/stdout tests)");
  if (task.code_prompt != task.prompt)
    throw Error("tasks: cannot write " + task_where(task, set) +
                " as users' tasks: its prompt is prose and its solutions whole programs, while users' tasks "
                "append a completion to the prompt");
  Json j = {{"task_id", task.task_id}, {"prompt", task.prompt}};
  Json tests = Json::array();
  for (const std::string& test : task.tests) tests.push_back(test);
  for (const Task::IoTest& test : task.io_tests) tests.push_back({{"input", test.input}, {"output", test.output}});
  j["tests"] = tests;
  if (!task.entry_point.empty()) j["entry_point"] = task.entry_point;
  if (!task.canonical_solution.empty()) j["canonical_solution"] = canonical_completion(task, set);
  return j;
}

// Which tasks carry their bug: round(fraction x tasks) of them, by a seeded shuffle.
std::vector<bool> choose_buggy(size_t tasks, double fraction, uint64_t seed) {
  std::vector<size_t> order(tasks);
  std::iota(order.begin(), order.end(), 0);
  builtin::Rng rng(seed);
  for (size_t i = tasks; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  std::vector<bool> buggy(tasks);
  size_t count = size_t(std::llround(fraction * double(tasks)));
  for (size_t i = 0; i < count; ++i) buggy[order[i]] = true;
  return buggy;
}

}  // namespace

void write_task_file(const TaskSet& set, const std::string& path) {
  std::string text;
  for (const Task& task : set.tasks) text += dumped(user_task_json(task, set));
  write_atomically(path, text);
}

size_t write_sft_file(const TaskSet& set, const std::string& path, double buggy_fraction, uint64_t seed) {
  if (!(buggy_fraction >= 0 && buggy_fraction <= 1))
    throw Error("tasks: buggy fraction " + std::to_string(buggy_fraction) + " is not between 0 and 1");
  std::vector<bool> buggy = choose_buggy(set.tasks.size(), buggy_fraction, seed);
  std::string text;
  size_t written_buggy = 0;
  for (size_t i = 0; i < set.tasks.size(); ++i) {
    const Task& task = set.tasks[i];
    std::string completion = canonical_completion(task, set);
    if (buggy[i]) {
      if (task.buggy_completion.empty())
        throw Error("tasks: " + task_where(task, set) +
                    " has no buggy variant (only built-in tasks have them; hint: --buggy-fraction 0)");
      completion = task.buggy_completion;
      ++written_buggy;
    }
    text += dumped({{"prompt", task.prompt},
                    {"completion", completion},
                    {"task_id", task.task_id},
                    {"buggy", bool(buggy[i])}});
  }
  write_atomically(path, text);
  return written_buggy;
}

}  // namespace codealign::tasks
