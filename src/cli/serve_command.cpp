// `codealign serve`: the sandbox as an HTTP service (service/service.h).
#include <cstdlib>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "evaluation/evaluation.h"
#include "service/service.h"
#include "tasks/tasks.h"

namespace codealign::cli {

Command add_serve_command(CLI::App& app) {
  struct Options {
    service::Config config;
    size_t max_body_mb = 16, output_kb = 1024, memory_mb = 4096, max_memory_mb = 16384;
  };
  auto o = std::make_shared<Options>();
  o->config.data_dir = tasks::default_data_dir();
  o->config.cache_dir = evaluation::default_cache_dir();
  if (const char* token = std::getenv("CODEALIGN_SERVE_TOKEN")) o->config.token = token;
  CLI::App* sub = app.add_subcommand(
      "serve", "Serve the sandbox over HTTP: SandboxFusion's /run_code (verl, SandboxFusion clients), "
               "/v1/evaluate for batches, /metrics");
  sub->add_option("--host", o->config.host, "Address to listen on (other than loopback needs --token)")->capture_default_str();
  sub->add_option("--port", o->config.port, "Port (0: any free one, printed)")->capture_default_str()
      ->check(in_range(0, 65535));
  sub->add_option("-j,--workers", o->config.workers, "Sandbox workers (default: one per core)")->check(at_least(1));
  sub->add_option("--max-queue", o->config.max_queue, "Jobs that may wait beyond those running; more are refused")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--busy-status", o->config.busy_status,
                  "HTTP status of a refusal when the queue is full (verl's client retries only 504)")
      ->capture_default_str()
      ->check(in_range(400, 599));
  sub->add_option("--deadline-slack", o->config.deadline_slack_s,
                  "Seconds a /run_code client waits beyond compile_timeout + run_timeout (verl: 10); a job that "
                  "cannot finish by then is answered 504 and its retry keeps its place in line (0: no deadlines)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--token", o->config.token,
                  "Require 'Authorization: Bearer TOKEN' or ?token=TOKEN ($CODEALIGN_SERVE_TOKEN)");
  sub->add_option("--max-body-mb", o->max_body_mb, "Largest request body in MiB")->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--max-timeout", o->config.max_timeout_s, "Largest run_timeout a request may ask, in seconds")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--memory-mb", o->memory_mb,
                  "A job's address-space limit in MiB when its request gives none (or -1, SandboxFusion's \"no limit\")")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--max-memory-mb", o->max_memory_mb, "The largest memory_limit_MB a request may ask")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--output-kb", o->output_kb, "Stdout and stderr kept per job, each, in KiB")->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--interpreter", o->config.interpreter, "Python interpreter run in the sandbox")->capture_default_str();
  sub->add_option("--data-dir", o->config.data_dir, "Benchmarks for /v1/evaluate ($CODEALIGN_DATA_DIR)")
      ->capture_default_str();
  sub->add_option("--cache-dir", o->config.cache_dir, "Where canonical outputs of HumanEval+/MBPP+ are cached")
      ->capture_default_str();
  return [o] {
    o->config.max_body_bytes = o->max_body_mb << 20;
    o->config.output_bytes = o->output_kb << 10;
    o->config.memory_bytes = o->memory_mb << 20;
    o->config.max_memory_bytes = o->max_memory_mb << 20;
    service::serve(o->config);
    return exit_ok;
  };
}

}  // namespace codealign::cli
