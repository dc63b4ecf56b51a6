// codealign service: the sandbox as a long-running HTTP service (`codealign serve`) that Python
// RL stacks already speak. Torch-free.
//
//   POST /run_code     SandboxFusion's endpoint (python): verl's reward_model.sandbox_fusion.url
//                      and other SandboxFusion clients work unchanged
//   GET  /v1/ping      "pong"
//   POST /v1/evaluate  a batch of (program, tests) jobs, or samples of a named benchmark, in one
//                      request; codealign verdicts (and pass@k) out
//   GET  /metrics      Prometheus text: requests, jobs by verdict, queue depth, latency quantiles
//
// Under load: jobs admitted are bounded (workers + max_queue); a request that does not fit is
// refused with `busy_status` (429) and Retry-After. A /run_code job still waiting when it could
// no longer finish before its client gives up (compile_timeout + run_timeout + deadline_slack
// after it arrived, as verl's client computes its timeout) is answered 504, which clients
// retry; the retry keeps its place in line. A client that goes away has its jobs dropped
// or killed. SIGTERM or SIGINT stops accepting and answers what is in flight; a second one
// cancels the in-flight jobs, which are answered as SandboxError (run_code) or 503.
#pragma once
#include <cstddef>
#include <string>

namespace codealign::service {

struct Config {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (the one taken is printed)
  int workers = 0;  // sandbox workers; 0: one per core
  int max_queue = 128;             // jobs that may wait beyond those running
  int busy_status = 429;           // answer to a request that does not fit (verl retries only 504)
  // Seconds a /run_code client waits beyond compile_timeout + run_timeout (verl's API_TIMEOUT);
  // 0: no deadlines, jobs wait for a worker however long.
  double deadline_slack_s = 10;
  std::string token;               // when set: "Authorization: Bearer TOKEN" or ?token=TOKEN required
  size_t max_body_bytes = 16 << 20;
  double max_timeout_s = 300;      // the largest run_timeout / timeout a request may ask
  size_t memory_bytes = 4ull << 30;       // a job's address space when its request asks none (or -1)
  size_t max_memory_bytes = 16ull << 30;  // the most a request may ask (memory_limit_MB)
  size_t output_bytes = 1 << 20;   // stdout and stderr kept per job, each (SandboxFusion keeps 1 MiB)
  std::string interpreter = "/usr/bin/python3";
  std::string data_dir;            // benchmarks for /v1/evaluate's samples form
  std::string cache_dir;           // their ground-truth cache ("" none)
};

// Serves until SIGTERM or SIGINT; prints "codealign serve: listening on http://HOST:PORT" on
// stdout once it accepts. Throws Error when the configuration is refused or it cannot bind.
void serve(const Config& config);

}  // namespace codealign::service
