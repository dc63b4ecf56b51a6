#include <algorithm>
#include <chrono>
#include <numeric>

#include "common/progress.h"
#include "evaluation/evaluation.h"
#include "evaluation/ground_truth.h"
#include "evaluation/summarize.h"

namespace codealign::evaluation {
namespace {

// evalplus's rule: each input may take max(min, factor x canonical time); the whole job gets
// min(cap, sum of those) + 1 s.
sandbox::Job value_job(const tasks::Task& task, const std::string& program, const std::string& inputs,
                       const std::string& expected, const std::vector<double>& times, const Options& options) {
  sandbox::Job job;
  job.program = program;
  job.entry_point = task.entry_point;
  job.inputs_json = inputs;
  job.input_adapter = task.input_adapter;
  job.expected_json = expected;
  job.oracle = task.oracle;
  job.atol = task.atol;
  for (double t : times) job.time_limits_s.push_back(std::max(options.min_time_limit_s, options.time_limit_factor * t));
  double sum = std::accumulate(job.time_limits_s.begin(), job.time_limits_s.end(), 0.0);
  job.timeout_s = std::min(options.max_task_timeout_s, sum) + 1.0;
  return job;
}

sandbox::Outcome too_large(size_t bytes, size_t limit) {
  sandbox::Outcome o;
  o.verdict = sandbox::Verdict::runtime_error;
  o.error_type = "ProgramTooLarge";
  o.message = "program of " + std::to_string(bytes) + " bytes exceeds the limit of " + std::to_string(limit) + " (not run)";
  o.attempts = 0;
  return o;
}

// Runs the jobs the execution cache (if any) has not seen, and keeps their outcomes there.
std::vector<sandbox::Outcome> run_jobs(const std::vector<sandbox::Job>& jobs, sandbox::Executor& executor,
                                       const Options& options, const std::string& label, Report& report) {
  ExecutionCache* cache = options.execution_cache;
  std::vector<sandbox::Outcome> outcomes(jobs.size());
  std::vector<std::string> keys(jobs.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::optional<sandbox::Outcome> known;
    if (cache) known = cache->find(keys[i] = executor.job_key(jobs[i]));
    if (known) outcomes[i] = std::move(*known);
    else missing.push_back(i);
  }
  std::vector<sandbox::Job> to_run;
  for (size_t i : missing) to_run.push_back(jobs[i]);
  std::vector<sandbox::Outcome> ran;
  {
    Progress progress("evaluate (" + label + ")", to_run.size(), options.show_progress);
    ran = executor.run(to_run, [&](size_t n) { progress.advance(n); }, options.cancelled);
  }
  std::vector<std::pair<std::string, sandbox::Outcome>> fresh;
  for (size_t j = 0; j < missing.size(); ++j) {
    outcomes[missing[j]] = ran[j];
    if (cache && ran[j].verdict != sandbox::Verdict::crashed) fresh.emplace_back(keys[missing[j]], ran[j]);
  }
  if (cache) cache->store(fresh);
  report.jobs = jobs.size();
  report.cached_jobs = jobs.size() - missing.size();
  return outcomes;
}

}  // namespace

Report evaluate(const tasks::TaskSet& tasks, const std::vector<Sample>& samples, sandbox::Executor& executor,
                const Options& options) {
  auto start = std::chrono::steady_clock::now();
  Report report;
  report.benchmark = tasks.name;
  report.isolation = executor.isolation();
  report.hardened = options.hardened;
  bool values = std::any_of(tasks.tasks.begin(), tasks.tasks.end(), [](const auto& t) { return t.has_value_tests(); });
  std::map<std::string, GroundTruth> truth;
  if (values) truth = ground_truth(tasks, executor, options);

  // Jobs in sample order; value-test samples contribute two (base, plus).
  std::vector<sandbox::Job> jobs;
  std::vector<long> base_job(samples.size(), -1), plus_job(samples.size(), -1);
  report.results.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    const tasks::Task& task = *tasks.find(s.task_id);
    report.results[i].sample = s;
    std::string program = tasks::sample_program(task, s.text, s.is_completion);
    if (program.size() > options.max_program_bytes) {
      report.results[i].base = too_large(program.size(), options.max_program_bytes);
      if (task.has_value_tests()) report.results[i].plus = report.results[i].base;
      continue;
    }
    base_job[i] = jobs.size();
    if (task.has_value_tests()) {
      const GroundTruth& t = truth.at(task.task_id);
      jobs.push_back(value_job(task, program, task.base_inputs_json, t.base_outputs, t.base_times, options));
      plus_job[i] = jobs.size();
      jobs.push_back(value_job(task, program, task.plus_inputs_json, t.plus_outputs, t.plus_times, options));
    } else {
      jobs.push_back(tasks::job_for(task, program));
      jobs.back().timeout_s = options.timeout_s;
      // Stdin/stdout jobs compare text outside the process: hardening has nothing to check there,
      // and leaving it off keeps their execution-cache keys one per program.
      jobs.back().hardened = options.hardened && !task.has_io_tests();
    }
  }
  std::vector<sandbox::Outcome> outcomes = run_jobs(jobs, executor, options, tasks.name, report);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (base_job[i] >= 0) report.results[i].base = outcomes[base_job[i]];
    if (plus_job[i] >= 0) report.results[i].plus = outcomes[plus_job[i]];
  }
  summarize(report, options.ks, values);
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace codealign::evaluation
