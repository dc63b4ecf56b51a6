#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "tasks/loaders.h"

namespace codealign::tasks {

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
    auto tests = j.find("tests");
    if (tests == j.end() || !tests->is_array() || tests->empty())
      throw Error(line.where() + "field 'tests' must be a non-empty list of strings");
    for (const auto& t : *tests) {
      if (!t.is_string()) throw Error(line.where() + "field 'tests' holds a non-string");
      task.tests.push_back(t.get<std::string>());
    }
    set.tasks.push_back(std::move(task));
  });
  if (set.tasks.empty()) throw Error("tasks: '" + path + "' holds no tasks");
  return set;
}

}  // namespace codealign::tasks
