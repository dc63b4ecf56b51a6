#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "tasks/loaders.h"
#include "tasks/tasks.h"

namespace codealign::tasks {

const Task* TaskSet::find(const std::string& task_id) const {
  for (const Task& task : tasks)
    if (task.task_id == task_id) return &task;
  return nullptr;
}

const std::vector<std::string>& benchmark_names() {
  static const std::vector<std::string> names = {"humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+"};
  return names;
}

TaskSet load_benchmark(const std::string& name, const std::string& data_dir) {
  std::string root = data_dir + "/benchmarks/";
  if (name == "humaneval") return load_humaneval(root + "humaneval/HumanEval.jsonl.gz");
  if (name == "humaneval+") return load_evalplus(root + "humanevalplus/HumanEvalPlus.jsonl.gz", name);
  if (name == "mbpp") return load_mbpp(root + "mbpp/mbpp.jsonl");
  if (name == "mbpp-sanitized") return load_mbpp_sanitized(root + "mbpp/sanitized-mbpp.json");
  if (name == "mbpp+") return load_evalplus(root + "mbppplus/MbppPlus.jsonl.gz", name);
  std::string valid;
  for (const auto& n : benchmark_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("tasks: unknown benchmark '" + name + "'" + did_you_mean(name, benchmark_names()) +
              "; expected one of: " + valid + " (or --tasks FILE)");
}

TaskSet load_task_source(const std::string& spec, const std::string& data_dir) {
  if (spec.find('/') != std::string::npos || spec.ends_with(".jsonl")) return load_task_file(spec);
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return load_benchmark(spec, data_dir);
  std::string name = spec.substr(0, colon), split = spec.substr(colon + 1);
  static const std::vector<std::string> splits = {"prompt", "test", "validation", "train"};
  if (name != "mbpp" && name != "mbpp-sanitized")
    throw Error("tasks: '" + spec + "': only mbpp and mbpp-sanitized have splits");
  if (std::find(splits.begin(), splits.end(), split) == splits.end())
    throw Error("tasks: '" + spec + "': unknown split '" + split + "'" + did_you_mean(split, splits) +
                "; expected one of: prompt, test, validation, train");
  TaskSet set = load_benchmark(name, data_dir);
  std::erase_if(set.tasks, [&](const Task& task) { return task.split != split; });
  if (set.tasks.empty()) throw Error("tasks: '" + spec + "' holds no tasks in '" + set.source_path + "'");
  set.name = spec;
  return set;
}

std::string sample_program(const Task& task, const std::string& text, bool is_completion) {
  return is_completion ? task.code_prompt + text : text;
}

sandbox::Job assertion_job(const Task& task, const std::string& program) {
  sandbox::Job job;
  job.program = program;
  job.tests = task.tests;
  return job;
}

std::string default_data_dir() {
  const char* env = std::getenv("CODEALIGN_DATA_DIR");
  return env && *env ? env : CODEALIGN_BUNDLED_DATA_DIR;
}

std::string read_source(TaskSet& set) {
  std::string text = read_file(set.source_path);
  set.source_hash = ContentHash().add(text).hex();
  return text;
}

void check_unique_ids(const TaskSet& set) {
  std::vector<std::string> ids;
  for (const Task& task : set.tasks) ids.push_back(task.task_id);
  std::sort(ids.begin(), ids.end());
  auto dup = std::adjacent_find(ids.begin(), ids.end());
  if (dup != ids.end()) throw Error("tasks: duplicate task_id '" + *dup + "' in '" + set.source_path + "'");
}

}  // namespace codealign::tasks
