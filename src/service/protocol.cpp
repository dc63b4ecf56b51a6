#include "service/protocol.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace codealign::service {
namespace {

// SandboxFusion's languages (its Language literal): anything else is a validation error there.
const std::vector<std::string> sandbox_fusion_languages = {
    "python", "pytest", "cpp", "go", "go_test", "java", "junit", "nodejs", "js", "ts", "typescript", "csharp",
    "rust", "php", "bash", "jest", "lua", "R", "perl", "D_ut", "ruby", "scala", "julia", "kotlin_script",
    "verilog", "lean", "swift", "racket", "cuda", "python_gpu"};

[[noreturn]] void refuse(const std::string& field, const std::string& message) {
  throw BadRequest{422, field, field + ": " + message};
}

// The member, or nullptr when it is absent or null (pydantic's Optional).
const Json* member(const Json& object, const std::string& name) {
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_member(const Json& object, const std::string& name, const std::string& path, bool required) {
  const Json* value = member(object, name);
  if (!value) {
    if (required) refuse(path, "a string is required");
    return "";
  }
  if (!value->is_string()) refuse(path, "must be a string, not " + std::string(value->type_name()));
  return value->get<std::string>();
}

double number_member(const Json& object, const std::string& name, const std::string& path, double otherwise,
                     double low, double high) {
  const Json* value = member(object, name);
  if (!value) return otherwise;
  if (!value->is_number()) refuse(path, "must be a number, not " + std::string(value->type_name()));
  double number = value->get<double>();
  if (!std::isfinite(number) || number < low || number > high)
    refuse(path, "must be between " + nlohmann::json(low).dump() + " and " + nlohmann::json(high).dump());
  return number;
}

bool bool_member(const Json& object, const std::string& name, const std::string& path, bool fallback = false) {
  const Json* value = member(object, name);
  if (!value) return fallback;
  if (!value->is_boolean()) refuse(path, "must be true or false");
  return value->get<bool>();
}

const Json& array_member(const Json& object, const std::string& name, const std::string& path) {
  static const Json empty = Json::array();
  const Json* value = member(object, name);
  if (!value) return empty;
  if (!value->is_array()) refuse(path, "must be an array, not " + std::string(value->type_name()));
  return *value;
}

std::vector<std::string> strings(const Json& array, const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) refuse(path + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back(array[i].get<std::string>());
  }
  return out;
}

// memory_limit_MB: -1 (SandboxFusion's "no limit") and other values <= 0 keep the service's limit.
size_t memory_member(const Json& object, const std::string& path, const RequestLimits& limits) {
  const Json* value = member(object, "memory_limit_MB");
  if (!value) return 0;
  if (!value->is_number_integer()) refuse(path, "must be an integer (MiB)");
  long long mib = value->get<long long>();
  if (mib <= 0) return 0;
  if (static_cast<unsigned long long>(mib) > (limits.max_memory_bytes >> 20))
    refuse(path, "at most " + std::to_string(limits.max_memory_bytes >> 20) + " MiB");
  return static_cast<size_t>(mib) << 20;
}

std::map<std::string, std::string> files_member(const Json& body) {
  std::map<std::string, std::string> files;
  const Json* value = member(body, "files");
  if (!value) return files;
  if (!value->is_object()) refuse("files", "must be an object of path -> base64 content");
  for (const auto& [path, content] : value->items()) {
    std::string field = "files[" + Json(path).dump() + "]";
    if (!sandbox::is_safe_relative_path(path)) refuse(field, "the path must be relative and stay inside the working directory");
    if (content.is_null()) continue;  // SandboxFusion skips these
    if (!content.is_string()) refuse(field, "must be a base64 string");
    if (!is_base64(content.get<std::string>())) refuse(field, "is not valid base64");
    files[path] = content.get<std::string>();
  }
  return files;
}

std::vector<std::string> fetch_files_member(const Json& body) {
  std::vector<std::string> paths = strings(array_member(body, "fetch_files", "fetch_files"), "fetch_files");
  for (size_t i = 0; i < paths.size(); ++i)
    if (!sandbox::is_safe_relative_path(paths[i]))
      refuse("fetch_files[" + std::to_string(i) + "]", "the path must be relative and stay inside the working directory");
  return paths;
}

Json command_result(const char* status, const sandbox::Outcome& o) {
  Json result = {{"status", status}, {"execution_time", o.wall_s}, {"return_code", nullptr},
                 {"stdout", o.stdout_text}, {"stderr", o.stderr_text}};
  if (o.exit_code) result["return_code"] = *o.exit_code;
  return result;
}

Json response(const char* status, const std::string& message, Json run_result, Json files) {
  return {{"status", status}, {"message", message}, {"compile_result", nullptr}, {"run_result", std::move(run_result)},
          {"executor_pod_name", nullptr}, {"files", std::move(files)}};
}

sandbox::Job evaluate_job(const Json& item, const std::string& path, const RequestLimits& limits) {
  if (!item.is_object()) refuse(path, "must be an object");
  sandbox::Job job;
  job.program = string_member(item, "program", path + ".program", true);
  job.tests = strings(array_member(item, "tests", path + ".tests"), path + ".tests");
  const Json& io = array_member(item, "stdin_tests", path + ".stdin_tests");
  Json expected = Json::array();
  for (size_t i = 0; i < io.size(); ++i) {
    std::string test = path + ".stdin_tests[" + std::to_string(i) + "]";
    if (!io[i].is_object()) refuse(test, "must be an object with input and output");
    job.stdin_inputs.push_back(string_member(io[i], "input", test + ".input", true));
    expected.push_back(string_member(io[i], "output", test + ".output", true));
  }
  if (!job.stdin_inputs.empty()) job.expected_json = expected.dump();
  if (job.tests.empty() == job.stdin_inputs.empty()) refuse(path, "needs either tests or stdin_tests");
  job.timeout_s = number_member(item, "timeout", path + ".timeout", limits.default_timeout_s, 0.001, limits.max_timeout_s);
  job.memory_bytes = memory_member(item, path + ".memory_limit_MB", limits);
  job.hardened = bool_member(item, "hardened", path + ".hardened", true);
  return job;
}

}  // namespace

Json bad_request_body(const BadRequest& bad) {
  Json loc = Json::array({"body"});
  if (!bad.field.empty()) loc.push_back(bad.field);
  return {{"detail", Json::array({{{"loc", loc}, {"msg", bad.message}, {"type", "value_error"}}})},
          {"message", bad.message}};
}

bool is_base64(const std::string& text) {
  if (text.empty()) return true;
  size_t last = text.find_last_not_of('=');
  if (text.size() % 4 != 0 || last == std::string::npos || text.size() - last - 1 > 2) return false;
  return std::all_of(text.begin(), text.begin() + last + 1,
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/'; });
}

RunCodeRequest parse_run_code(const Json& body, const RequestLimits& limits) {
  if (!body.is_object()) refuse("", "the body must be a JSON object");
  RunCodeRequest request;
  std::string language = string_member(body, "language", "language", true);
  if (std::find(sandbox_fusion_languages.begin(), sandbox_fusion_languages.end(), language) ==
      sandbox_fusion_languages.end())
    refuse("language", "'" + language + "' is not a SandboxFusion language (this service runs python)");
  sandbox::Job& job = request.job;
  job.program = string_member(body, "code", "code", true);
  request.compile_timeout_s = number_member(body, "compile_timeout", "compile_timeout", 0, 0, limits.max_timeout_s);
  job.timeout_s = number_member(body, "run_timeout", "run_timeout", limits.default_timeout_s, 0.001, limits.max_timeout_s);
  job.memory_bytes = memory_member(body, "memory_limit_MB", limits);
  job.stdin_text = string_member(body, "stdin", "stdin", false);
  job.files_base64 = files_member(body);
  job.fetch_files = fetch_files_member(body);
  job.script = true;
  if (language != "python") request.unsupported_language = language;
  return request;
}

Json run_code_sandbox_error(const std::string& message) { return response("SandboxError", message, nullptr, Json::object()); }

// SandboxFusion's rule: a run that could not happen is SandboxError; a timeout or a non-zero
// exit code is Failed; else Success. A timeout has no return code.
Json run_code_response(const sandbox::Outcome& o) {
  Json files = o.files_base64;
  if (o.verdict == sandbox::Verdict::timeout) return response("Failed", "", command_result("TimeLimitExceeded", o), files);
  if (!o.exit_code) return run_code_sandbox_error(o.error_type + ": " + o.message);
  return response(*o.exit_code == 0 ? "Success" : "Failed", "", command_result("Finished", o), files);
}

EvaluateRequest parse_evaluate(const Json& body, const RequestLimits& limits) {
  if (!body.is_object()) refuse("", "the body must be a JSON object");
  EvaluateRequest request;
  request.with_output = bool_member(body, "with_output", "with_output");
  bool has_jobs = member(body, "jobs"), has_samples = member(body, "samples") || member(body, "benchmark");
  if (has_jobs == has_samples) refuse("", "give either jobs, or a benchmark and its samples");
  if (has_jobs) {
    const Json& jobs = array_member(body, "jobs", "jobs");
    for (size_t i = 0; i < jobs.size(); ++i)
      request.jobs.push_back(evaluate_job(jobs[i], "jobs[" + std::to_string(i) + "]", limits));
    return request;
  }
  request.benchmark = string_member(body, "benchmark", "benchmark", true);
  const Json& samples = array_member(body, "samples", "samples");
  request.samples.assign(samples.begin(), samples.end());
  request.timeout_s = number_member(body, "timeout", "timeout", limits.default_timeout_s, 0.001, limits.max_timeout_s);
  request.hardened = bool_member(body, "hardened", "hardened", true);
  return request;
}

std::vector<evaluation::Sample> evaluate_samples(const EvaluateRequest& request, const tasks::TaskSet& tasks) {
  std::vector<evaluation::Sample> samples;
  for (size_t i = 0; i < request.samples.size(); ++i) {
    const Json& item = request.samples[i];
    std::string path = "samples[" + std::to_string(i) + "]";
    if (!item.is_object()) refuse(path, "must be an object with task_id and completion or solution");
    const Json* id = member(item, "task_id");
    if (!id || !(id->is_string() || id->is_number_integer())) refuse(path + ".task_id", "a string or integer is required");
    evaluation::Sample sample;
    sample.line = static_cast<int>(i) + 1;
    sample.task_id = id->is_string() ? id->get<std::string>() : std::to_string(id->get<long long>());
    if (!tasks.find(sample.task_id))
      refuse(path + ".task_id", "'" + sample.task_id + "' is not a task of " + request.benchmark);
    bool completion = member(item, "completion"), solution = member(item, "solution");
    if (completion == solution) refuse(path, "needs either completion or solution");
    sample.is_completion = completion;
    sample.text = string_member(item, completion ? "completion" : "solution", path + (completion ? ".completion" : ".solution"), true);
    samples.push_back(std::move(sample));
  }
  return samples;
}

Json evaluate_jobs_response(const std::vector<sandbox::Outcome>& outcomes, bool with_output) {
  Json results = Json::array();
  for (const auto& o : outcomes) {
    Json j = {{"passed", o.verdict == sandbox::Verdict::passed}};
    evaluation::add_outcome_json(j, o, "", with_output);
    j["test_passed"] = o.test_passed;
    results.push_back(std::move(j));
  }
  return {{"results", std::move(results)}};
}

Json evaluate_samples_response(const evaluation::Report& report, bool with_output) {
  Json results = Json::array();
  for (const auto& r : report.results) {
    Json j = {{"task_id", r.sample.task_id}, {"passed", r.passed()}};
    evaluation::add_outcome_json(j, r.base, "", with_output);
    if (r.plus) {
      j["plus_passed"] = r.plus_passed();
      evaluation::add_outcome_json(j, *r.plus, "plus_", with_output);
    }
    results.push_back(std::move(j));
  }
  Json out = {{"benchmark", report.benchmark}, {"results", std::move(results)}, {"verdicts", report.verdicts}};
  for (const auto& [group, values] : report.pass_at_k) out["pass_at_k"][group] = values;
  return out;
}

}  // namespace codealign::service
