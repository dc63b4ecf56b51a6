// The worker pool: workers lent to jobs first come, first served (across concurrent run()
// calls), distinct jobs handed out in order, a dead worker replaced and its job retried once
// before it is reported as crashed.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/hash.h"
#include "sandbox/container.h"
#include "sandbox/harness_result.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"
#include "sandbox/worker.h"

namespace codealign::sandbox {
namespace {

using Json = nlohmann::json;

// Seconds the worker may take beyond a job's own timeout before it is presumed dead.
constexpr double grace_s = 10.0;

struct Wire {
  std::string message, expected;
  double timeout_s;
};

// A job mixing styles would be judged by one and silently ignore the other's tests.
void check_job(const Job& job) {
  bool in_process = !job.tests.empty() || !job.entry_point.empty();
  if (in_process + !job.stdin_inputs.empty() + job.script > 1)
    throw Error("sandbox: a job mixes test styles (assertion tests, an entry point, stdin inputs, script); it takes one");
  for (const auto& [path, content] : job.files_base64)
    if (!is_safe_relative_path(path)) throw Error("sandbox: file path '" + path + "' leaves the job's directory");
  for (const auto& path : job.fetch_files)
    if (!is_safe_relative_path(path)) throw Error("sandbox: fetched path '" + path + "' leaves the job's directory");
}

Wire to_wire(const Job& job, const Limits& limits) {
  check_job(job);
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
             {{"memory", job.memory_bytes > 0 ? job.memory_bytes : limits.memory_bytes},
              {"file_size", limits.file_size_bytes},
              {"open_files", limits.open_files},
              {"processes", limits.processes},
              {"output", limits.output_bytes},
              {"test_output", limits.test_output_bytes}}}};
  // Only when used, so that the keys of jobs that use none stay what they were (caches).
  if (job.script) j.update({{"script", true}, {"stdin", job.stdin_text}});
  if (!job.files_base64.empty()) j["files"] = job.files_base64;
  if (!job.fetch_files.empty()) j["fetch_files"] = job.fetch_files;
  return {j.dump(-1, ' ', false, Json::error_handler_t::replace), job.expected_json, timeout};
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
  std::vector<std::unique_ptr<Worker>> workers;  // started when first lent, restarted on death
  std::string isolation, interpreter_version;
  std::string outcome_inputs;  // hash of what decides outcomes beyond the job: interpreter and harness

  // Lending: a job gets a free worker once it is first in line.
  using Ticket = std::pair<Schedule::Time, uint64_t>;  // (priority, arrival number)
  std::mutex lend_mutex;
  std::condition_variable lend_changed;
  std::vector<int> free_workers;  // a stack: the most recently used (warm) worker goes out first
  std::set<Ticket> line;          // the jobs waiting, first in line first
  uint64_t next_ticket = 0;

  std::unique_ptr<Worker> start_worker(int index) {
    return std::make_unique<Worker>(config.interpreter, config.limits.scratch_bytes, index, bpf);
  }

  // Whether the waiting job leaves the line: cancelled (throws Cancelled) or late (throws Late).
  // Called with the lock held; asks `cancelled` without it.
  void leave_if_gone(std::unique_lock<std::mutex>& lock, const Ticket& ticket, const std::function<bool()>& cancelled,
                     const Schedule& schedule) {
    bool late = schedule.start_by && std::chrono::steady_clock::now() >= *schedule.start_by, gave_up = false;
    if (!late && cancelled) {
      lock.unlock();
      gave_up = true;  // a test that throws gives up too: the ticket must not block the line
      try {
        gave_up = cancelled();
      } catch (...) {
      }
      lock.lock();
    }
    if (!late && !gave_up) return;
    line.erase(ticket);
    lend_changed.notify_all();  // the job behind may now be first
    if (late) throw Late("sandbox: the job could not start before its deadline");
    throw Cancelled("sandbox: the jobs were cancelled");
  }

  // A free worker's index for the caller, who must give it back; throws Cancelled or Late.
  int borrow(const std::function<bool()>& cancelled, const Schedule& schedule) {
    std::unique_lock lock(lend_mutex);
    Ticket ticket{schedule.priority.value_or(std::chrono::steady_clock::now()), next_ticket++};
    line.insert(ticket);
    auto my_turn = [&] { return *line.begin() == ticket && !free_workers.empty(); };
    while (!my_turn()) {
      if (!cancelled && !schedule.start_by) {
        lend_changed.wait(lock);
        continue;
      }
      auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
      lend_changed.wait_until(lock, schedule.start_by ? std::min(wake, *schedule.start_by) : wake);
      if (my_turn()) break;
      leave_if_gone(lock, ticket, cancelled, schedule);
    }
    line.erase(line.begin());
    int index = free_workers.back();
    free_workers.pop_back();
    lend_changed.notify_all();
    return index;
  }

  void give_back(int index) {
    std::lock_guard lock(lend_mutex);
    free_workers.push_back(index);
    lend_changed.notify_all();
  }

  // Runs one job on worker `index` (which the caller holds).
  Outcome execute(int index, const Wire& wire, const std::function<bool()>& cancelled) {
    std::string why;
    for (int attempt = 1; attempt <= 2; ++attempt) {
      try {
        if (!workers[index]) workers[index] = start_worker(index);
        Outcome o = parse_harness_result(workers[index]->run(wire.message, wire.expected, wire.timeout_s + grace_s, cancelled));
        o.attempts = attempt;
        return o;
      } catch (const WorkerDied& died) {
        workers[index].reset();
        why = died.why;
      } catch (const WorkerCancelled&) {
        workers[index].reset();
        throw Cancelled("sandbox: the jobs were cancelled");
      }
    }
    return crashed_outcome(why, 2);
  }

  Outcome borrow_and_execute(const Wire& wire, const std::function<bool()>& cancelled, const Schedule& schedule) {
    int index = borrow(cancelled, schedule);
    struct Return {
      Impl* impl;
      int index;
      ~Return() { impl->give_back(index); }
    } give_back_later{this, index};
    return execute(index, wire, cancelled);
  }
};

Executor::Executor(Config config) : impl_(std::make_unique<Impl>()) {
  signal(SIGPIPE, SIG_IGN);  // a dead worker must surface as an error, not kill us
  if (config.workers <= 0) config.workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (access(config.interpreter.c_str(), X_OK) != 0)
    throw Error("sandbox: interpreter '" + config.interpreter + "' is not an executable file (hint: --interpreter)");
  impl_->config = std::move(config);
  impl_->workers.resize(impl_->config.workers);
  for (int index = impl_->config.workers - 1; index >= 0; --index) impl_->free_workers.push_back(index);
  impl_->workers[0] = impl_->start_worker(0);  // fail early, and settle the isolation level
  impl_->isolation = isolation_description();
  impl_->interpreter_version = impl_->workers[0]->interpreter_version();
  impl_->outcome_inputs = ContentHash().add(impl_->interpreter_version).add(harness_source()).hex();
}

Executor::~Executor() = default;

const std::string& Executor::isolation() const { return impl_->isolation; }
const Config& Executor::config() const { return impl_->config; }
const std::string& Executor::interpreter_version() const { return impl_->interpreter_version; }

std::string Executor::job_key(const Job& job) const {
  Wire wire = to_wire(job, impl_->config.limits);
  return ContentHash().add(wire.message).add(wire.expected).add(impl_->outcome_inputs).hex();
}

Outcome Executor::run_one(const Job& job) { return run({job}).front(); }

std::vector<Outcome> Executor::run(const std::vector<Job>& jobs, const std::function<void(size_t)>& on_done,
                                   const std::function<bool()>& cancelled, const Schedule& schedule) {
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
  auto work = [&] {
    try {
      for (size_t i; (i = next++) < distinct.size();) {
        results[i] = impl_->borrow_and_execute(distinct[i], cancelled, schedule);
        if (on_done) on_done(copies[i]);
      }
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = distinct.size();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  std::vector<Outcome> outcomes(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) outcomes[i] = results[slot[i]];
  return outcomes;
}

}  // namespace codealign::sandbox
