// codealign sandbox: runs untrusted Python programs against tests, in isolation, fast.
//
// What it does: each worker is a pre-started Python interpreter living in its own user, pid,
// network, mount, IPC and UTS namespaces, behind a seccomp filter, on a read-only root with only
// system directories and a size-capped /tmp, with a capability bounding set cut to what the
// harness needs. Inside, the judge (trusted, pid 1) holds the jobs and decides verdicts; a clean
// zygote, forked before any job and never handed a job's bytes, forks each job's child ahead of
// its job, so that no job finds an earlier job's data in its memory. A job costs one fork (one more per stdin/stdout
// test). The child drops to an unprivileged uid, gets rlimits (address space, CPU, file size,
// open files, processes), an empty environment, no inherited descriptors and a fresh scratch
// directory; after it, every process left in the namespace is killed and /tmp emptied. The
// verdict is decided by the judge from messages on a private pipe, never from the program's exit
// status or output; expected outputs never enter the child.
//
// What it does not do: assertion tests that run in the child (all of them with `hardened` off;
// with it on, only shapes that cannot be split, counted in Outcome::tests_unprotected) are not
// tamper-proof against code that deliberately tampers with the harness inside its own
// interpreter. docs/ARCHITECTURE.md ("Trust boundaries") says what is split and what is not.
//
// Where the kernel refuses namespaces the executor falls back (see isolation()) and says so once
// on stderr. Executor is thread-safe: concurrent run() calls share the worker pool, and each
// job waits its turn (first come, first served) for a free worker.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace codealign::sandbox {

// Resource limits of one job. Defaults suit HumanEval/MBPP solutions.
struct Limits {
  double timeout_s = 10.0;                  // wall clock for the whole job
  size_t memory_bytes = 4ull << 30;         // RLIMIT_AS (evalplus uses 4 GiB)
  size_t file_size_bytes = 16ull << 20;     // RLIMIT_FSIZE
  size_t scratch_bytes = 64ull << 20;       // size of the tmpfs holding the scratch directory
  int open_files = 256;                     // RLIMIT_NOFILE
  int processes = 32;                       // RLIMIT_NPROC for the job's own uid namespace
  size_t output_bytes = 64ull << 10;        // stdout and stderr kept, each
  size_t test_output_bytes = 16ull << 20;   // stdin/stdout tests: stdout kept per test; more fails the test
};

struct Config {
  std::string interpreter = "/usr/bin/python3";
  int workers = 0;  // 0: one per core
  Limits limits;
};

enum class Verdict { passed, failed, runtime_error, syntax_error, timeout, out_of_memory, crashed };
const char* verdict_name(Verdict verdict);
std::optional<Verdict> verdict_from_name(std::string_view name);  // nullopt for an unknown name

// How a program is tested. Exactly one of `tests`, `inputs_json`, `stdin_inputs` and `script`
// is used.
struct Job {
  std::string program;  // the whole Python program (prompt + completion, or a solution)

  // Assertion style: snippets run one by one in the program's globals; each is one test.
  std::vector<std::string> tests;

  // Value style (evalplus): call `entry_point(*args)` for each argument list in `inputs_json`
  // (a JSON array, parsed by Python: big ints and Infinity are fine). With `expected_json` empty
  // the outputs are recorded (ground truth); otherwise each is compared with the expected one.
  std::string entry_point;
  std::string inputs_json;
  std::string input_adapter;          // evalplus input reshaping, e.g. "mbpp+/2"
  std::vector<double> time_limits_s;  // per input
  std::string expected_json;          // outputs as recorded by a ground-truth job (stdin style: see below)
  std::string oracle;                 // special comparison: "find_zero", "set_equal", ...
  double atol = 0;

  // Stdin/stdout style (APPS, CodeContests, TACO): the program runs as a script (__name__ ==
  // "__main__") once per input, with the input as its standard input; each run is one test. Its
  // stdout must equal the same test's entry of `expected_json` (a JSON array of strings) once
  // "\r\n" is "\n" and trailing whitespace of lines and trailing empty lines are dropped.
  // exit() and sys.exit(0) end a run normally. Needs no entry_point.
  std::vector<std::string> stdin_inputs;

  // Script style (SandboxFusion's run_code): the program runs once as a script with
  // `stdin_text` as its standard input and nothing compared. The outcome holds its exit code and
  // its whole stdout (up to Limits::test_output_bytes); it passes when the exit code is 0. An
  // uncaught exception prints its traceback on stderr and exits with 1, as python does.
  bool script = false;
  std::string stdin_text;

  // Any style: files written into the job's working directory before the program runs
  // (relative path -> base64 content, as SandboxFusion sends them), and relative paths read back
  // after it ends (Outcome::files_base64). Paths must stay inside the directory.
  std::map<std::string, std::string> files_base64;
  std::vector<std::string> fetch_files;

  double timeout_s = 0;     // 0: Limits::timeout_s; covers all of a job's tests together
  size_t memory_bytes = 0;  // 0: Limits::memory_bytes

  // Assertion style: assertions of the usual shapes are split, the program's process evaluating
  // only the calls into the program and the judge the rest, on the values as plain values (exact
  // built-in types, recursively; anything else fails the test as UntrustedValue); other tests
  // run in the program's process, where the values a function returns to them must be plain.
  // Off: the official harnesses' semantics, every test in the program's process. Stdin style
  // ignores it: its outputs are compared as text outside the process, with nothing to forge.
  bool hardened = false;
};

struct Outcome {
  Verdict verdict = Verdict::crashed;
  std::string error_type;  // exception type, signal, "EarlyExit", ...
  std::string message;     // one line for humans
  int tests_passed = 0, tests_total = 0;
  // Assertion tests that ran whole in the program's process (all of them in compat mode; in
  // hardened mode those that could not be split): a program that tampers with the harness can
  // fake their verdict.
  int tests_unprotected = 0;
  std::vector<bool> test_passed;  // per test or input, as far as the job got
  double wall_s = 0;
  std::string stdout_text, stderr_text;
  bool stdout_truncated = false, stderr_truncated = false;
  // Ground-truth jobs only: the recorded outputs (JSON, opaque) and per-input seconds.
  std::string outputs_json;
  std::vector<double> input_times_s;
  int attempts = 1;  // 2 when the worker died and the job was retried
  // Script style: the exit status, or minus the signal that killed it; none when the program
  // never ended (a timeout) or never started.
  std::optional<int> exit_code;
  std::map<std::string, std::string> files_base64;  // the fetch_files that existed, as base64
};

// Thrown by Executor::run when its `cancelled` said yes: jobs not yet started are dropped and
// running ones killed (their workers start again).
class Cancelled : public Error {
 public:
  using Error::Error;
};

// Thrown by Executor::run when a job was still waiting for a worker at its Schedule's start_by:
// it could not have finished in time, so it never started.
class Late : public Error {
 public:
  using Error::Error;
};

// When a run's jobs may start. Jobs wait in one line across concurrent run() calls, ordered by
// `priority` (earlier first; unset: the moment each job asks for a worker, first come first
// served). A job not started by `start_by` (unset: no limit) is dropped and run() throws Late.
struct Schedule {
  using Time = std::chrono::steady_clock::time_point;
  std::optional<Time> priority, start_by;
};

// Whether a job's path (files_base64, fetch_files) is relative and stays inside the working
// directory: no "..", no empty or absolute path, no NUL.
bool is_safe_relative_path(std::string_view path);

class Executor {
 public:
  explicit Executor(Config config);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs all jobs on the worker pool; identical jobs run once. `on_done` (optional) is called
  // from worker threads after each distinct job with the number of jobs it answered.
  // `cancelled` (optional) is asked about ten times a second while jobs wait or run; once it
  // says yes, run() throws Cancelled. Throws Error for a malformed job (two styles, unsafe path),
  // Late for one that could not start by `schedule.start_by`.
  std::vector<Outcome> run(const std::vector<Job>& jobs, const std::function<void(size_t)>& on_done = {},
                           const std::function<bool()>& cancelled = {}, const Schedule& schedule = {});
  Outcome run_one(const Job& job);

  // Which isolation the workers got, e.g. "user,pid,net,mount,ipc,uts namespaces + seccomp".
  const std::string& isolation() const;
  const Config& config() const;
  // The sandboxed interpreter's version as its harness reported it ("python 3.11.2, numpy"):
  // part of every cache key of results that depend on the interpreter.
  const std::string& interpreter_version() const;
  // A content hash of all that decides `job`'s outcome here: the job, the limits, the
  // interpreter's version and the harness. Keys caches of outcomes kept across runs.
  std::string job_key(const Job& job) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace codealign::sandbox
