// The service's request and response bodies (private to the service part): SandboxFusion's
// run_code, and codealign's /v1/evaluate. Pure functions of JSON, so that every rule is tested
// without a socket.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/evaluation.h"
#include "sandbox/sandbox.h"

namespace codealign::service {

using Json = nlohmann::json;

// A request the service refuses: the HTTP status and the field at fault ("files[\"../x\"]").
struct BadRequest {
  int status;
  std::string field, message;
};

// FastAPI's shape for a refused request ({"detail": [{"loc", "msg", "type"}]}, as SandboxFusion
// answers), with the whole reason in "message" too.
Json bad_request_body(const BadRequest& bad);

// Limits a request may ask for.
struct RequestLimits {
  double default_timeout_s = 10;
  double max_timeout_s = 300;
  size_t max_memory_bytes = 16ull << 30;
};

// SandboxFusion's POST /run_code. A python request becomes a script job; a language SandboxFusion
// knows but this service does not run is `unsupported` (answered with SandboxError, as
// SandboxFusion does for a language without a runner). Throws BadRequest.
struct RunCodeRequest {
  sandbox::Job job;
  double compile_timeout_s = 0;  // python compiles nothing; part of the client's own deadline
  std::string unsupported_language;
};
RunCodeRequest parse_run_code(const Json& body, const RequestLimits& limits);

// SandboxFusion's RunCodeResponse for an outcome (status Success | Failed | SandboxError).
Json run_code_response(const sandbox::Outcome& outcome);
// The SandboxError answer with `message` (unsupported language, cancelled, shutting down).
Json run_code_sandbox_error(const std::string& message);

// POST /v1/evaluate: either {"jobs": [{"program", "tests" | "stdin_tests", "timeout",
// "memory_limit_MB", "hardened"}]} or {"benchmark", "samples": [{"task_id", "completion" |
// "solution"}], "timeout", "hardened"}; "hardened" is true unless the request says false (its
// answers are training signal). Throws BadRequest.
struct EvaluateRequest {
  std::vector<sandbox::Job> jobs;            // jobs form
  std::string benchmark;                     // samples form
  std::vector<Json> samples;                 // checked against the benchmark's tasks later
  double timeout_s = 10;
  bool hardened = true, with_output = false;
};
EvaluateRequest parse_evaluate(const Json& body, const RequestLimits& limits);

// The samples form's samples, checked against `tasks` (BadRequest names "samples[i].task_id").
std::vector<evaluation::Sample> evaluate_samples(const EvaluateRequest& request, const tasks::TaskSet& tasks);

// {"results": [...]} for the jobs form: codealign's verdict fields per job (as results JSONL
// names them) and "passed".
Json evaluate_jobs_response(const std::vector<sandbox::Outcome>& outcomes, bool with_output);
// The samples form: per-sample results (task_id, passed, verdict ..., plus_*), pass@k, verdicts.
Json evaluate_samples_response(const evaluation::Report& report, bool with_output);

// Whether `text` is strict base64 (RFC 4648 alphabet, padded, length a multiple of 4).
bool is_base64(const std::string& text);

}  // namespace codealign::service
