#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "tasks/loaders.h"

namespace codealign::tasks {
namespace {

std::vector<std::string> string_list(const Json& j, const char* name, const JsonlLine& line) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_array()) throw Error(line.where() + "field '" + name + "' is missing or not a list");
  std::vector<std::string> items;
  for (const auto& item : *it) {
    if (!item.is_string()) throw Error(line.where() + "field '" + name + "' holds a non-string");
    items.push_back(item.get<std::string>());
  }
  return items;
}

int task_number(const Json& j, const JsonlLine& line) {
  auto it = j.find("task_id");
  if (it == j.end() || !it->is_number_integer()) throw Error(line.where() + "field 'task_id' is missing or not an integer");
  return it->get<int>();
}

// MBPP asserts are separable: each is one test, preceded by the task's set-up code.
Task mbpp_task(int number, const std::string& text, const std::string& code, const std::string& setup,
               const std::vector<std::string>& asserts) {
  Task task;
  task.task_id = std::to_string(number);
  task.prompt = mbpp_prompt(text, asserts);
  task.canonical_solution = code;
  task.split = mbpp_split(number);
  for (const auto& a : asserts) task.tests.push_back(setup.empty() ? a : setup + "\n" + a);
  return task;
}

}  // namespace

std::string mbpp_prompt(const std::string& text, const std::vector<std::string>& tests) {
  std::string prompt = "You are an expert Python programmer, and here is your task: " + text +
                       " Your code should pass these tests:\n\n";
  for (const auto& t : tests) prompt += t + "\n";
  return prompt;
}

std::string mbpp_split(int n) {
  if (n >= 1 && n <= 10) return "prompt";
  if (n >= 11 && n <= 510) return "test";
  if (n >= 511 && n <= 600) return "validation";
  return "train";
}

TaskSet load_mbpp(const std::string& path) {
  TaskSet set{"mbpp", path, "", {}};
  std::string text = read_source(set);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    set.tasks.push_back(mbpp_task(task_number(j, line), string_field(j, "text", line), string_field(j, "code", line),
                                  string_field(j, "test_setup_code", line), string_list(j, "test_list", line)));
  });
  check_unique_ids(set);
  return set;
}

TaskSet load_mbpp_sanitized(const std::string& path) {
  TaskSet set{"mbpp-sanitized", path, "", {}};
  std::string text = read_source(set);
  Json all = Json::parse(text, nullptr, false);
  if (!all.is_array()) throw Error("tasks: '" + path + "' is not a JSON array of tasks");
  int index = 0;
  for (const Json& j : all) {
    ++index;
    std::string where = path + " (task #" + std::to_string(index) + ")";
    JsonlLine line{where, 0, ""};
    if (!j.is_object()) throw Error("tasks: '" + where + "' is not an object");
    std::string setup;
    for (const auto& import : string_list(j, "test_imports", line)) setup += import + "\n";
    if (!setup.empty()) setup.pop_back();
    set.tasks.push_back(mbpp_task(task_number(j, line), string_field(j, "prompt", line), string_field(j, "code", line),
                                  setup, string_list(j, "test_list", line)));
  }
  check_unique_ids(set);
  return set;
}

}  // namespace codealign::tasks
