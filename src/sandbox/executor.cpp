// The worker pool: one thread per worker, distinct jobs handed out in order, a dead worker
// replaced and its job retried once before it is reported as crashed.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/hash.h"
#include "sandbox/container.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/worker.h"

namespace codealign::sandbox {
namespace {

using Json = nlohmann::json;

// Seconds the fork server may take beyond a job's own timeout before it is presumed dead.
constexpr double grace_s = 10.0;

struct Wire {
  std::string message, expected;
  double timeout_s;
};

// A job mixing styles would be judged by one and silently ignore the other's tests.
void check_one_style(const Job& job) {
  if (!job.stdin_inputs.empty() && (!job.tests.empty() || !job.entry_point.empty()))
    throw Error("sandbox: a job with stdin inputs has assertion tests or an entry point too; it takes one style");
}

Wire to_wire(const Job& job, const Limits& limits) {
  check_one_style(job);
  double timeout = job.timeout_s > 0 ? job.timeout_s : limits.timeout_s;
  bool values = !job.entry_point.empty();
  Json j = {{"program", job.program},
            {"tests", job.tests},
            {"stdin_inputs", job.stdin_inputs},
            {"entry_point", job.entry_point},
            {"inputs", values ? job.inputs_json : ""},
            {"adapter", job.input_adapter},
            {"time_limits", job.time_limits_s},
            {"oracle", job.oracle},
            {"atol", job.atol},
            {"record", values && job.expected_json.empty()},
            {"hardened", job.hardened},
            {"timeout", timeout},
            {"limits",
             {{"memory", limits.memory_bytes},
              {"file_size", limits.file_size_bytes},
              {"open_files", limits.open_files},
              {"processes", limits.processes},
              {"output", limits.output_bytes},
              {"test_output", limits.test_output_bytes}}}};
  return {j.dump(-1, ' ', false, Json::error_handler_t::replace), job.expected_json, timeout};
}

Verdict parse_verdict(const std::string& name) {
  if (auto verdict = verdict_from_name(name)) return *verdict;
  throw Error("sandbox: unknown verdict '" + name + "' from the harness");
}

Outcome parse_outcome(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) throw Error("sandbox: the harness sent a result that is not a JSON object");
  if (j.contains("harness_error")) throw Error("sandbox: harness failed: " + j["harness_error"].get<std::string>());
  Outcome o;
  o.verdict = parse_verdict(j.at("verdict"));
  o.error_type = j.at("error_type");
  o.message = j.at("message");
  o.tests_passed = j.at("tests_passed");
  o.tests_total = j.at("tests_total");
  o.test_passed = j.at("test_passed").get<std::vector<bool>>();
  o.wall_s = j.at("wall");
  o.stdout_text = j.at("stdout");
  o.stderr_text = j.at("stderr");
  o.stdout_truncated = j.at("stdout_truncated");
  o.stderr_truncated = j.at("stderr_truncated");
  if (j.contains("outputs")) {
    o.outputs_json = j["outputs"];
    o.input_times_s = j.at("times").get<std::vector<double>>();
  }
  return o;
}

Outcome crashed_outcome(const std::string& why, int attempts) {
  Outcome o;
  o.verdict = Verdict::crashed;
  o.error_type = "WorkerDied";
  o.message = "sandbox worker died twice running this job: " + why;
  o.attempts = attempts;
  return o;
}

}  // namespace

struct Executor::Impl {
  Config config;
  std::vector<char> bpf = seccomp_filter_bpf();
  std::vector<std::unique_ptr<Worker>> workers;  // one per thread, restarted on death
  std::string isolation, interpreter_version;

  std::unique_ptr<Worker> start_worker(int index) {
    return std::make_unique<Worker>(config.interpreter, config.limits.scratch_bytes, index, bpf);
  }

  Outcome execute(int index, const Wire& wire) {
    std::string why;
    for (int attempt = 1; attempt <= 2; ++attempt) {
      try {
        if (!workers[index]) workers[index] = start_worker(index);
        Outcome o = parse_outcome(workers[index]->run(wire.message, wire.expected, wire.timeout_s + grace_s));
        o.attempts = attempt;
        return o;
      } catch (const WorkerDied& died) {
        workers[index].reset();
        why = died.why;
      }
    }
    return crashed_outcome(why, 2);
  }
};

Executor::Executor(Config config) : impl_(std::make_unique<Impl>()) {
  signal(SIGPIPE, SIG_IGN);  // a dead worker must surface as an error, not kill us
  if (config.workers <= 0) config.workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (access(config.interpreter.c_str(), X_OK) != 0)
    throw Error("sandbox: interpreter '" + config.interpreter + "' is not an executable file (hint: --interpreter)");
  impl_->config = std::move(config);
  impl_->workers.resize(impl_->config.workers);
  impl_->workers[0] = impl_->start_worker(0);  // fail early, and settle the isolation level
  impl_->isolation = isolation_description();
  impl_->interpreter_version = impl_->workers[0]->interpreter_version();
}

Executor::~Executor() = default;

const std::string& Executor::isolation() const { return impl_->isolation; }
const Config& Executor::config() const { return impl_->config; }
const std::string& Executor::interpreter_version() const { return impl_->interpreter_version; }

std::string Executor::job_key(const Job& job) const {
  Wire wire = to_wire(job, impl_->config.limits);
  return ContentHash().add(wire.message).add(wire.expected).add(impl_->interpreter_version).hex();
}

Outcome Executor::run_one(const Job& job) { return run({job}).front(); }

std::vector<Outcome> Executor::run(const std::vector<Job>& jobs, const std::function<void(size_t)>& on_done) {
  // Identical (program, tests, limits) jobs run once.
  std::vector<Wire> distinct;
  std::vector<size_t> slot(jobs.size()), copies;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Wire wire = to_wire(jobs[i], impl_->config.limits);
    ContentHash hash;
    std::string key = hash.add(wire.message).add(wire.expected).hex();
    auto [it, inserted] = seen.emplace(key, distinct.size());
    if (inserted) {
      distinct.push_back(std::move(wire));
      copies.push_back(0);
    }
    slot[i] = it->second;
    ++copies[it->second];
  }
  std::vector<Outcome> results(distinct.size());
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  int threads = std::min<int>(impl_->config.workers, std::max<size_t>(distinct.size(), 1));
  auto work = [&](int index) {
    try {
      for (size_t i; (i = next++) < distinct.size();) {
        results[i] = impl_->execute(index, distinct[i]);
        if (on_done) on_done(copies[i]);
      }
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = distinct.size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  std::vector<Outcome> outcomes(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) outcomes[i] = results[slot[i]];
  return outcomes;
}

}  // namespace codealign::sandbox
