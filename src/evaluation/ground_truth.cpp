#include "evaluation/ground_truth.h"

#include <sys/stat.h>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "common/jsonl.h"
#include "common/progress.h"

namespace codealign::evaluation {
namespace {

constexpr double canonical_timeout_s = 300;

sandbox::Job recording_job(const tasks::Task& task, const std::string& inputs) {
  sandbox::Job job;
  job.program = task.canonical_solution;
  job.entry_point = task.entry_point;
  job.inputs_json = inputs;
  job.input_adapter = task.input_adapter;
  job.oracle = task.oracle;  // "not_none" tasks record whether the output is None
  job.timeout_s = canonical_timeout_s;
  return job;
}

std::string cache_path(const tasks::TaskSet& tasks, const Options& options, const sandbox::Executor& executor) {
  if (options.cache_dir.empty()) return "";
  // The interpreter's path and version: a new Python can change canonical outputs.
  std::string key = ContentHash()
                        .add(tasks.source_hash)
                        .add(executor.config().interpreter)
                        .add(executor.interpreter_version())
                        .hex()
                        .substr(0, 16);
  std::string name = tasks.name;
  for (char& c : name)
    if (c == '+') c = 'p';
  return options.cache_dir + "/ground-truth-" + name + "-" + key + ".jsonl";
}

std::map<std::string, GroundTruth> read_cache(const std::string& path) {
  std::map<std::string, GroundTruth> truth;
  std::string text = read_file(path);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    try {
      truth[j.at("task_id")] = {j.at("base"), j.at("plus"), j.at("base_times"), j.at("plus_times")};
    } catch (const Json::exception& e) {
      throw Error(line.where() + "corrupt ground-truth cache (delete it, or pass --no-cache): " + e.what());
    }
  });
  return truth;
}

void write_cache(const std::string& path, const std::map<std::string, GroundTruth>& truth) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
    mkdir(path.substr(0, slash).c_str(), 0755);
  AtomicFile file(path);
  for (const auto& [id, t] : truth)
    file.write(Json({{"task_id", id}, {"base", t.base_outputs}, {"plus", t.plus_outputs},
                     {"base_times", t.base_times}, {"plus_times", t.plus_times}}).dump() + "\n");
  file.commit();
}

}  // namespace

std::map<std::string, GroundTruth> ground_truth(const tasks::TaskSet& tasks, sandbox::Executor& executor,
                                                const Options& options) {
  std::string cache = cache_path(tasks, options, executor);
  if (!cache.empty() && file_exists(cache)) {
    auto truth = read_cache(cache);
    for (const auto& task : tasks.tasks)
      if (!truth.count(task.task_id))
        throw Error(cache + ": corrupt ground-truth cache (delete it, or pass --no-cache): task '" + task.task_id +
                    "' is missing");
    return truth;
  }

  std::vector<sandbox::Job> jobs;
  for (const auto& task : tasks.tasks) {
    jobs.push_back(recording_job(task, task.base_inputs_json));
    jobs.push_back(recording_job(task, task.plus_inputs_json));
  }
  Progress progress("ground truth (" + tasks.name + ")", jobs.size(), options.show_progress);
  auto outcomes = executor.run(jobs, [&](size_t n) { progress.advance(n); }, options.cancelled);
  std::map<std::string, GroundTruth> truth;
  for (size_t i = 0; i < tasks.tasks.size(); ++i) {
    const auto& base = outcomes[2 * i];
    const auto& plus = outcomes[2 * i + 1];
    for (const auto* o : {&base, &plus})
      if (o->verdict != sandbox::Verdict::passed)
        throw Error("evaluation: canonical solution of '" + tasks.tasks[i].task_id + "' in '" + tasks.source_path +
                    "' does not run on its own inputs: " + sandbox::verdict_name(o->verdict) + " " + o->error_type +
                    ": " + o->message);
    truth[tasks.tasks[i].task_id] = {base.outputs_json, plus.outputs_json, base.input_times_s, plus.input_times_s};
  }
  if (!cache.empty()) write_cache(cache, truth);
  return truth;
}

}  // namespace codealign::evaluation
