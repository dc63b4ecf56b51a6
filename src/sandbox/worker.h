// One worker: the sandboxed harness (its judge) and the pipes to it (private to the sandbox part).
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/container.h"

namespace codealign::sandbox {

// The harness the workers run (sandbox/harness/, joined and compiled into the binary by embed.cmake).
std::string_view harness_source();

// The worker's interpreter died or stopped answering; the job may be retried on a new one.
struct WorkerDied {
  std::string why;
};

// The caller gave up on the job; the worker was killed with it and is unusable.
struct WorkerCancelled {};

class Worker {
 public:
  Worker(const std::string& interpreter, size_t scratch_bytes, int index, const std::vector<char>& seccomp_bpf);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Sends a job and its expected outputs, returns the result message. Throws WorkerDied when the
  // interpreter dies or gives no answer within `deadline_s`, WorkerCancelled when `cancelled`
  // (optional, asked every 100 ms) says yes; the worker is then unusable.
  std::string run(const std::string& job, const std::string& expected, double deadline_s,
                  const std::function<bool()>& cancelled = {});

  // What the harness reported at start-up: the interpreter's version and whether numpy loads,
  // e.g. "python 3.11.2, numpy".
  const std::string& interpreter_version() const { return interpreter_version_; }

 private:
  void stop();
  Container container_;
  std::string interpreter_version_;
};

}  // namespace codealign::sandbox
