#include <algorithm>
#include <cstdlib>
#include <optional>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "common/install_paths.h"
#include "common/jsonl.h"
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
              "; expected one of: " + valid +
              " (or builtin:train, builtin:heldout, a split such as mbpp:test, or a tasks JSONL file)");
}

namespace {

// "SOURCE[begin:end]": the tasks of SOURCE from `begin` up to, not including, `end`, in file
// order (either bound may be left out, as in Python and in HF datasets' "train[:100]").
struct Slice {
  size_t begin = 0, end = SIZE_MAX;
};

std::optional<Slice> parse_slice(const std::string& spec, std::string& source) {
  source = spec;
  size_t open = spec.rfind('[');
  if (!spec.ends_with(']') || open == std::string::npos) return std::nullopt;
  std::string inside = spec.substr(open + 1, spec.size() - open - 2);
  size_t colon = inside.find(':');
  auto bound = [](const std::string& digits, size_t fallback) -> std::optional<size_t> {
    if (digits.empty()) return fallback;
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoul(digits);
  };
  std::optional<size_t> begin, end;
  if (colon != std::string::npos) {
    begin = bound(inside.substr(0, colon), 0);
    end = bound(inside.substr(colon + 1), SIZE_MAX);
  }
  if (!begin || !end || open == 0)
    throw Error("tasks: '" + spec + "': a slice is SOURCE[begin:end] with whole numbers, e.g. mbpp:train[:50]");
  source = spec.substr(0, open);
  return Slice{*begin, *end};
}

TaskSet load_unsliced_source(const std::string& spec, const std::string& data_dir) {
  if (spec.find('/') != std::string::npos || spec.ends_with(".jsonl")) return load_task_file(spec);
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return load_benchmark(spec, data_dir);
  std::string name = spec.substr(0, colon), split = spec.substr(colon + 1);
  if (name == "builtin") return load_builtin_set(split);
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

}  // namespace

TaskSet load_task_source(const std::string& spec, const std::string& data_dir) {
  std::string source;
  std::optional<Slice> slice = parse_slice(spec, source);
  TaskSet set = load_unsliced_source(source, data_dir);
  if (!slice) return set;
  size_t size = set.tasks.size(), end = std::min(slice->end, size), begin = std::min(slice->begin, end);
  set.tasks = std::vector<Task>(set.tasks.begin() + long(begin), set.tasks.begin() + long(end));
  if (set.tasks.empty())
    throw Error("tasks: '" + spec + "' holds no tasks ('" + source + "' has " + std::to_string(size) + ")");
  set.name = spec;
  return set;
}

TaskSet load_tasks_argument(const std::string& value, const std::string& data_dir) {
  return value.starts_with("builtin:") ? load_task_source(value, data_dir) : load_task_file(value);
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

sandbox::Job io_job(const Task& task, const std::string& program) {
  sandbox::Job job;
  job.program = program;
  Json expected = Json::array();
  for (const Task::IoTest& test : task.io_tests) {
    job.stdin_inputs.push_back(test.input);
    expected.push_back(test.output);
  }
  // The outputs travel apart from the job and reach only the sandbox's judge, never the program.
  job.expected_json = expected.dump(-1, ' ', false, Json::error_handler_t::replace);
  return job;
}

sandbox::Job job_for(const Task& task, const std::string& program) {
  return task.has_io_tests() ? io_job(task, program) : assertion_job(task, program);
}

std::string default_data_dir() {
  const char* env = std::getenv("CODEALIGN_DATA_DIR");
  return env && *env ? env : bundled_data_dir();
}

std::string bundled_data_dir() {
  return installed_or_build_path(CODEALIGN_INSTALLED_DATA_DIR, CODEALIGN_BUNDLED_DATA_DIR);
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
