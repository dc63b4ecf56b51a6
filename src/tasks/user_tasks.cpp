#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "tasks/loaders.h"

namespace codealign::tasks {
namespace {

// One {"input": ..., "output": ...} test; other keys (a converter's leftovers) are ignored.
Task::IoTest read_io_test(const Json& test, size_t index, const JsonlLine& line) {
  Task::IoTest io;
  for (auto [name, target] : {std::pair{"input", &io.input}, std::pair{"output", &io.output}}) {
    std::string where = line.where() + "tests[" + std::to_string(index) + "]: field '" + name + "' ";
    auto it = test.find(name);
    if (it == test.end()) throw Error(where + "is missing");
    if (!it->is_string()) throw Error(where + "is not a string");
    *target = it->get<std::string>();
  }
  return io;
}

// "tests": assertion snippets, or stdin/stdout objects; the first item decides which, since a
// task is judged one way.
void read_tests(const Json& j, Task& task, const JsonlLine& line) {
  auto tests = j.find("tests");
  if (tests == j.end() || !tests->is_array() || tests->empty())
    throw Error(line.where() +
                "field 'tests' must be a non-empty list of strings or of {\"input\", \"output\"} objects");
  bool io = tests->front().is_object();
  for (size_t i = 0; i < tests->size(); ++i) {
    const Json& test = (*tests)[i];
    if ((io && test.is_string()) || (!io && test.is_object()))
      throw Error(line.where() + "field 'tests' mixes assertion strings and {\"input\", \"output\"} objects");
    if (io) {
      if (!test.is_object()) throw Error(line.where() + "tests[" + std::to_string(i) + "] is not an object");
      task.io_tests.push_back(read_io_test(test, i, line));
    } else {
      if (!test.is_string()) throw Error(line.where() + "field 'tests' holds a non-string");
      task.tests.push_back(test.get<std::string>());
    }
  }
}

}  // namespace

TaskSet load_task_file(const std::string& path) {
  std::string stem = path.substr(path.rfind('/') + 1);
  TaskSet set{stem.substr(0, stem.find('.')), path, "", {}};
  std::string text = read_source(set);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    Task task;
    task.task_id = string_field(j, "task_id", line);
    if (set.find(task.task_id)) throw Error(line.where() + "duplicate task_id '" + task.task_id + "'");
    task.prompt = task.code_prompt = string_field(j, "prompt", line);
    if (j.contains("entry_point")) task.entry_point = string_field(j, "entry_point", line);
    if (j.contains("canonical_solution")) task.canonical_solution = task.prompt + string_field(j, "canonical_solution", line);
    read_tests(j, task, line);
    set.tasks.push_back(std::move(task));
  });
  if (set.tasks.empty()) throw Error("tasks: '" + path + "' holds no tasks");
  return set;
}

}  // namespace codealign::tasks
