// `codealign execute`: run one program against tests by hand.
#include <cstdio>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "common/error.h"
#include "common/files.h"
#include "evaluation/evaluation.h"
#include "sandbox/sandbox.h"

namespace codealign::cli {

Command add_execute_command(CLI::App& app) {
  struct Options {
    std::string program = "-";
    std::vector<std::string> tests;
    std::string interpreter = "/usr/bin/python3";
    double timeout = 10;
    size_t memory_mb = 4096;
    bool json = false, hardened = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("execute", "Run one Python program (and tests) in the sandbox; print its outcome");
  sub->add_option("program", options->program, "Python file to run, or - for standard input")->capture_default_str();
  sub->add_option("-t,--test", options->tests, "A test snippet run after the program (repeatable), e.g. 'assert f(1) == 2'")->allow_extra_args(false);
  sub->add_option("--interpreter", options->interpreter, "Python interpreter")->capture_default_str();
  sub->add_option("--timeout", options->timeout, "Wall-clock limit in seconds")->capture_default_str()->check(above(0));
  sub->add_option("--memory-mb", options->memory_mb, "Address-space limit in MiB")->capture_default_str()
      ->check(at_least(1));
  sub->add_flag("--json", options->json, "Print the outcome as one JSON object");
  sub->add_flag("--hardened", options->hardened,
                "Verdicts the program cannot fake: assertions of the usual shapes are decided outside its "
                "process, on plain values only; default: the official harnesses' semantics");
  return [options] {
    sandbox::Job job;
    job.program = options->program == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {})
                                          : read_file(options->program);
    job.tests = options->tests;
    job.hardened = options->hardened;
    sandbox::Config config;
    config.interpreter = options->interpreter;
    config.workers = 1;
    config.limits.timeout_s = options->timeout;
    config.limits.memory_bytes = options->memory_mb << 20;
    sandbox::Executor executor(config);
    sandbox::Outcome outcome = executor.run_one(job);
    if (options->json) {
      nlohmann::json j;
      evaluation::add_outcome_json(j, outcome, "", true);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << sandbox::verdict_name(outcome.verdict);
      if (!outcome.error_type.empty()) std::cout << " (" << outcome.error_type << ": " << outcome.message << ")";
      std::cout << "  tests " << outcome.tests_passed << "/" << outcome.tests_total << "  " << outcome.wall_s << " s\n";
      if (!outcome.stdout_text.empty()) std::cout << "--- stdout" << (outcome.stdout_truncated ? " (truncated)" : "") << "\n" << outcome.stdout_text << "\n";
      if (!outcome.stderr_text.empty()) std::cout << "--- stderr" << (outcome.stderr_truncated ? " (truncated)" : "") << "\n" << outcome.stderr_text << "\n";
    }
    return outcome.verdict == sandbox::Verdict::passed ? exit_ok : exit_failure;
  };
}

}  // namespace codealign::cli
