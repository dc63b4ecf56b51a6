// The sections of the report that summarise a run: the headline, training curves, the outcome
// mix, and the configuration with its provenance.
#include "report/sections.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "report/html.h"

namespace codealign::report {
namespace {

std::string esc(std::string_view text) { return html_escape(text); }

// ---- Verdicts ---------------------------------------------------------------------------

// The sandbox's verdicts in the order of the score (best first), with their colours.
const std::vector<std::pair<std::string, std::string>>& verdict_colors() {
  static const std::vector<std::pair<std::string, std::string>> colors = {
      {"passed", "#1B7F3B"},  {"failed", "#E69F00"},        {"runtime_error", "#D55E00"}, {"timeout", "#7B3294"},
      {"syntax_error", "#6D4C41"}, {"out_of_memory", "#C51B7D"}, {"crashed", "#37474F"}};
  return colors;
}

// ---- Headline ---------------------------------------------------------------------------

// HumanEval+/MBPP+ sets report base + extra tests ("plus"), as the align table does.
const char* group_of(const Json& report) { return report.contains("plus") ? "plus" : "base"; }

int k_of(const std::string& metric) { return std::atoi(metric.c_str() + metric.find('@') + 1); }

struct Column {
  std::string evaluation, set, metric;  // evaluation: "eval" (greedy) or "eval_sampled"
};

// A row of the headline: the starting model or one method's model after a round.
struct Row {
  int round;
  std::string method;  // "start" for round 0
  const Json* record;
};

std::vector<Row> headline_rows(const Json& summary) {
  std::vector<Row> rows;
  if (!summary.contains("rounds")) return rows;
  for (const Json& round : summary["rounds"]) {
    int r = round.value("round", 0);
    if (r == 0) rows.push_back({0, "start", &round});
    else if (round.contains("methods"))
      for (const auto& [method, record] : round["methods"].items()) rows.push_back({r, method, &record});
  }
  // Methods in the order the run names them.
  std::vector<std::string> order;
  if (summary.contains("methods"))
    for (const Json& m : summary["methods"]) order.push_back(m.get<std::string>());
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    auto rank = [&](const Row& row) { return size_t(std::find(order.begin(), order.end(), row.method) - order.begin()); };
    return std::make_pair(a.round, rank(a)) < std::make_pair(b.round, rank(b));
  });
  return rows;
}

std::vector<Column> headline_columns(const std::vector<Row>& rows) {
  std::vector<Column> columns;
  auto add = [&](const Column& c) {
    for (const Column& have : columns)
      if (have.evaluation == c.evaluation && have.set == c.set && have.metric == c.metric) return;
    columns.push_back(c);
  };
  for (const char* evaluation : {"eval", "eval_sampled"})
    for (const Row& row : rows) {
      if (!row.record->contains(evaluation)) continue;
      for (const auto& [set, report] : (*row.record)[evaluation].items()) {
        const char* group = group_of(report);
        if (!report.contains(group)) continue;
        std::vector<std::string> metrics;
        for (const auto& [metric, value] : report[group].items())
          if (std::string(evaluation) == "eval_sampled" || metric == "pass@1") metrics.push_back(metric);
        std::sort(metrics.begin(), metrics.end(), [](const auto& a, const auto& b) { return k_of(a) < k_of(b); });
        for (const std::string& metric : metrics) add({evaluation, set, metric});
      }
    }
  std::stable_sort(columns.begin(), columns.end(), [](const Column& a, const Column& b) {
    return std::make_pair(a.evaluation, a.set) < std::make_pair(b.evaluation, b.set);
  });
  return columns;
}

struct Estimate {
  double value = no_value, tasks = 0, samples = 0;
  Interval ci{no_value, no_value};
  std::string group, raw;  // raw: the number as summary.json writes it
};

std::optional<Estimate> estimate(const Json& record, const Column& c) {
  if (!record.contains(c.evaluation) || !record[c.evaluation].contains(c.set)) return std::nullopt;
  const Json& report = record[c.evaluation][c.set];
  const char* group = group_of(report);
  if (!report.contains(group) || !report[group].contains(c.metric)) return std::nullopt;
  Estimate e;
  e.value = report[group][c.metric].get<double>();
  e.raw = report[group][c.metric].dump();
  e.tasks = number_of(report, "tasks");
  e.samples = number_of(report, "samples");
  if (std::isnan(e.tasks)) e.tasks = 0;
  e.ci = wilson_interval(e.value * e.tasks, e.tasks);
  e.group = group;
  return e;
}

std::string column_header(const Column& c, const Json& summary) {
  std::string text = esc(c.set) + "<br>" + esc(c.metric) + (c.evaluation == "eval" ? " greedy" : " sampled");
  // The number of tasks and samples per task, from the first record that has the set.
  for (const Row& row : headline_rows(summary))
    if (auto e = estimate(*row.record, c)) {
      text += "<br><span class=\"sub\">" + format_short(e->tasks) + " tasks";
      if (c.evaluation == "eval_sampled" && e->tasks > 0) text += ", " + format_short(e->samples / e->tasks) + " per task";
      if (e->group == "plus") text += ", base + extra tests";
      text += "</span>";
      break;
    }
  return text;
}

std::string estimate_cell(const Row& row, const Column& c) {
  std::optional<Estimate> e = estimate(*row.record, c);
  if (!e) return "<td class=\"num missing\">-</td>";
  std::string key = "round-" + std::to_string(row.round) + "/" + row.method + "/" + c.evaluation + "/" + c.set + "/" +
                    e->group + "/" + c.metric;
  return "<td class=\"num\" data-cell=\"" + esc(key) + "\" data-value=\"" + esc(e->raw) + "\">" + format_fixed(e->value, 3) +
         " <span class=\"ci\">[" + format_fixed(e->ci.low, 3) + ", " + format_fixed(e->ci.high, 3) + "]</span></td>";
}

// Plain sentences: each method's last evaluated round against the start, per set and metric.
std::string headline_findings(const std::vector<Row>& rows, const std::vector<Column>& columns) {
  std::string items;
  for (const Column& c : columns) {
    if (c.metric != "pass@1" || rows.empty() || rows[0].method != "start") continue;
    std::optional<Estimate> start = estimate(*rows[0].record, c);
    if (!start) continue;
    std::map<std::string, const Row*> last;  // method -> its last evaluated row
    std::vector<std::string> methods;
    for (const Row& row : rows)
      if (row.round > 0 && estimate(*row.record, c)) {
        if (!last.count(row.method)) methods.push_back(row.method);
        last[row.method] = &row;
      }
    for (const std::string& method : methods) {
      const Row& row = *last[method];
      Estimate now = *estimate(*row.record, c);
      double delta = 100 * (now.value - start->value);
      bool overlap = now.ci.low <= start->ci.high && start->ci.low <= now.ci.high;
      items += "<li><b>" + esc(method) + "</b> after round " + std::to_string(row.round) + " on <b>" + esc(c.set) +
               "</b> (" + (c.evaluation == "eval" ? "greedy" : "sampled") + " pass@1): " + format_fixed(now.value, 3) +
               " against " + format_fixed(start->value, 3) + " at the start, " + (delta >= 0 ? "+" : "") +
               format_fixed(delta, 1) + " points; " +
               (overlap ? "the 95% intervals overlap, so this is no clear difference"
                        : std::string("the 95% intervals do not overlap: a clear ") + (delta > 0 ? "gain" : "loss")) +
               ".</li>";
    }
  }
  return items.empty() ? "" : "<ul class=\"findings\">" + items + "</ul>";
}

std::string pass_chart(const std::vector<Row>& rows, const Column& c, const std::vector<std::string>& methods) {
  std::vector<ChartSeries> series;
  std::optional<Estimate> start = rows.empty() ? std::nullopt : estimate(*rows[0].record, c);
  for (size_t m = 0; m < methods.size(); ++m) {
    ChartSeries s{methods[m], palette(m), {}};
    // Methods side by side within a round, so that equal values and their whiskers stay visible.
    double dodge = methods.size() > 1 ? 0.08 * (double(m) - double(methods.size() - 1) / 2) : 0;
    auto tip = [&](int round, const Estimate& e) {
      return methods[m] + ", round " + std::to_string(round) + ": " + format_fixed(e.value, 3) + " [" +
             format_fixed(e.ci.low, 3) + ", " + format_fixed(e.ci.high, 3) + "]";
    };
    if (start) s.points.push_back({dodge, start->value, start->ci.low, start->ci.high, tip(0, *start)});
    for (const Row& row : rows)
      if (row.method == methods[m])
        if (auto e = estimate(*row.record, c))
          s.points.push_back({double(row.round) + dodge, e->value, e->ci.low, e->ci.high, tip(row.round, *e)});
    series.push_back(std::move(s));
  }
  ChartOptions o;
  o.title = c.set + " " + c.metric + (c.evaluation == "eval" ? " (greedy)" : " (sampled)");
  o.x_label = "round";
  o.y_label = c.metric;
  o.width = 420;
  o.height = 240;
  o.y_min = 0;
  o.y_max = 1;
  o.integer_x = true;
  return line_chart(series, o);
}

// ---- Configuration and provenance -------------------------------------------------------

std::string stage_kind(const std::string& stage) {
  if (stage.ends_with("/sample")) return stage.starts_with("off-policy") ? "take off-policy samples" : "sample";
  if (stage.ends_with("/execute")) return "execute";
  if (stage.ends_with("/preferences")) return "pairs + RFT data";
  if (stage.ends_with("/train")) return "train";
  if (stage.find("/eval-sampled/") != std::string::npos) return "evaluate (sampled)";
  if (stage.find("/eval/") != std::string::npos) return "evaluate (greedy)";
  return "other";
}

}  // namespace

// ---- Shared by the sections -------------------------------------------------------------

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

double number_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : no_value;
}

std::string verdict_color(const std::string& verdict) {
  for (const auto& [name, color] : verdict_colors())
    if (name == verdict) return color;
  return "#999999";
}

// Known verdicts first in score order, then any other in name order.
std::vector<std::string> ordered_verdicts(const std::set<std::string>& present) {
  std::vector<std::string> order;
  for (const auto& [name, color] : verdict_colors())
    if (present.count(name)) order.push_back(name);
  for (const std::string& name : present)
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  return order;
}

std::string verdict_badge(const std::string& verdict) {
  return "<span class=\"v\" style=\"background:" + verdict_color(verdict) + "\">" + esc(verdict.empty() ? "?" : verdict) +
         "</span>";
}

// ---- Headline ---------------------------------------------------------------------------

// The run's paired comparisons (summary.json "comparisons": per-task pass rates of two models on
// the same tasks, a paired bootstrap 95% interval), each as a sentence that says what holds.
std::string paired_findings(const Json& summary) {
  if (!summary.contains("comparisons") || !summary["comparisons"].is_array() || summary["comparisons"].empty()) return "";
  std::string items;
  for (const Json& c : summary["comparisons"]) {
    if (!c.contains("low") || !c.contains("high") || !c.contains("difference")) continue;
    double mean = 100 * c["difference"].get<double>(), low = 100 * c["low"].get<double>(), high = 100 * c["high"].get<double>();
    std::string a = text_of(c, "a"), b = text_of(c, "b");
    std::string verdict = low > 0   ? a + " is ahead of " + b
                          : high < 0 ? b + " is ahead of " + a
                                     : "no difference detected";
    auto signed_points = [](double x) { return (x >= 0 ? "+" : "") + format_fixed(x, 1); };
    items += "<li><b>" + esc(a) + " − " + esc(b) + "</b> on <b>" + esc(text_of(c, "set")) + "</b> (" +
             esc(text_of(c, "evaluation")) + ", paired over " + text_of(c, "tasks") + " tasks): " + signed_points(mean) +
             " points, 95% interval [" + signed_points(low) + ", " + signed_points(high) + "]: " + esc(verdict) + ".</li>";
  }
  if (items.empty()) return "";
  return "<p>Paired comparisons (the same tasks, tasks resampled; one run: bench/demo.sh pools seeds):</p>"
         "<ul class=\"findings\">" + items + "</ul>";
}

std::string headline_section(const RunFiles& run, const Options& options) {
  std::string out = "<section id=\"headline\"><h2>Headline: pass@k per round and method</h2>";
  for (const std::string& note : options.notes) out += "<p class=\"note\">" + esc(note) + "</p>";
  if (run.summary.is_null()) {
    out += "<p class=\"warning\">summary.json is missing: the run has not finished (or was cut off). The headline "
           "needs it; the sections below show the stages that are there.</p></section>";
    return out;
  }
  std::vector<Row> rows = headline_rows(run.summary);
  std::vector<Column> columns = headline_columns(rows);
  std::vector<std::string> methods;
  if (run.summary.contains("methods"))
    for (const Json& m : run.summary["methods"]) methods.push_back(m.get<std::string>());

  out += headline_findings(rows, columns);
  out += paired_findings(run.summary);
  out += "<table class=\"headline\"><thead><tr><th>round</th><th>method</th><th>examples</th><th>last loss</th>";
  for (const Column& c : columns) out += "<th>" + column_header(c, run.summary) + "</th>";
  out += "</tr></thead><tbody>";
  for (const Row& row : rows) {
    const Json& r = *row.record;
    out += "<tr><td class=\"num\">" + std::to_string(row.round) + "</td><td>" + esc(row.method) + "</td>";
    out += "<td class=\"num\">" + (r.contains("examples") ? esc(text_of(r, "examples")) : std::string("-")) +
           (r.contains("skipped") ? " <span class=\"sub\">(" + esc(text_of(r, "skipped")) + ")</span>" : "") + "</td>";
    double loss = r.contains("metrics") ? number_of(r["metrics"], "loss") : no_value;
    out += "<td class=\"num\">" + format_short(loss) + "</td>";
    for (const Column& c : columns) out += estimate_cell(row, c);
    out += "</tr>";
  }
  out += "</tbody></table>";
  out += "<p class=\"explain\">Each cell: the estimate and its 95% Wilson score interval over the set's tasks. "
         "Greedy pass@1 counts each task as one Bernoulli trial. Sampled pass@k averages each task's unbiased pass@k "
         "estimate (Chen et al. 2021), a number in [0, 1] that varies at most as much as a Bernoulli trial of the "
         "same mean, so the same interval is conservative for it. The intervals are about the draw of tasks, not "
         "of seeds: small sets give wide ones.</p>";
  out += "<div class=\"charts\">";
  for (const Column& c : columns)
    if (c.metric == "pass@1") out += pass_chart(rows, c, methods);
  out += "</div></section>";
  return out;
}

// ---- Training ---------------------------------------------------------------------------

std::string training_section(const RunFiles& run) {
  std::string out = "<section id=\"training\"><h2>Training curves</h2>";
  if (run.training.empty()) return out + "<p>No training stage has logged metrics.</p></section>";
  out += "<p class=\"explain\">Per optimizer step, from each train stage's metrics.jsonl (TRL's names), one row "
         "of charts per method (their losses differ in kind: DPO's against SFT's) and one line per round. DPO's "
         "rewards are β times the policy's log-ratio against the reference; margins are chosen minus rejected, "
         "accuracies the fraction of pairs whose chosen reward is higher. GRPO's reward is the execution reward of "
         "the step's completions (reward_std its spread; frac_reward_zero_std the share of groups with nothing to "
         "learn), entropy that of the policy's next-token distributions, clip_ratio the share of tokens whose ratio "
         "was clipped, kl the estimate against the reference. With held-out pairs (train --eval-data) DPO's rows also "
         "chart what each step did to them: the loss, each side's log-prob change from the reference, the share of "
         "pairs whose chosen log-prob fell (likelihood displacement) and a per-token KL estimate.</p>";
  const std::vector<std::pair<const char*, const char*>> metrics = {{"loss", "loss"},
                                                                     {"rewards/margins", "rewards/margins"},
                                                                     {"rewards/accuracies", "rewards/accuracies"},
                                                                     {"reward", "reward"},
                                                                     {"reward_std", "reward_std"},
                                                                     {"frac_reward_zero_std", "frac_reward_zero_std"},
                                                                     {"entropy", "entropy"},
                                                                     {"kl", "kl"},
                                                                     {"clip_ratio/region_mean", "clip_ratio/region_mean"},
                                                                     {"completions/mean_length", "completions/mean_length"},
                                                                     {"eval_loss", "held-out loss"},
                                                                     {"eval_logps/chosen_change", "held-out chosen log-prob change"},
                                                                     {"eval_logps/rejected_change", "held-out rejected log-prob change"},
                                                                     {"eval_chosen_fell", "held-out share of chosen that fell"},
                                                                     {"eval_kl", "held-out KL per token"},
                                                                     {"grad_norm", "grad_norm"},
                                                                     {"learning_rate", "learning rate"}};
  std::vector<std::string> methods;  // in the order their stages come
  for (const TrainingLog& log : run.training)
    if (std::find(methods.begin(), methods.end(), log.method) == methods.end()) methods.push_back(log.method);
  for (const std::string& method : methods) {
    out += "<h3>" + esc(method) + "</h3><div class=\"charts\">";
    for (const auto& [key, title] : metrics) {
      std::vector<ChartSeries> series;
      for (const TrainingLog& log : run.training) {
        if (log.method != method) continue;
        // Colour by round, the same in every chart.
        ChartSeries s{"round " + std::to_string(log.group.round), palette(size_t(log.group.round - 1)), {}};
        for (size_t k = 0; k < log.steps.size(); ++k) {
          double y = number_of(log.steps[k], key), x = number_of(log.steps[k], "step");
          if (!std::isnan(y)) s.points.push_back({std::isnan(x) ? double(k + 1) : x, y});
        }
        if (!s.points.empty()) series.push_back(std::move(s));
      }
      if (series.empty()) continue;
      ChartOptions o;
      o.title = method + ": " + title;
      o.x_label = "step";
      o.y_label = title;
      o.width = 360;
      o.height = 200;
      o.integer_x = true;
      if (std::string(key) == "rewards/accuracies" || std::string(key) == "eval_chosen_fell") o.y_min = 0, o.y_max = 1;
      out += line_chart(series, o);
    }
    out += "</div>";
  }
  out += "<table><thead><tr><th>stage</th><th>steps</th><th>first loss</th><th>last loss</th>"
         "<th>last rewards/accuracies</th><th>last rewards/margins</th><th>last grad_norm</th><th>status</th></tr></thead><tbody>";
  for (const TrainingLog& log : run.training) {
    const Json empty = Json::object();
    const Json& first = log.steps.empty() ? empty : log.steps.front();
    const Json& last = log.steps.empty() ? empty : log.steps.back();
    out += "<tr><td>" + esc(log.group.label) + "</td><td class=\"num\">" + std::to_string(log.steps.size()) +
           "</td><td class=\"num\">" + format_short(number_of(first, "loss")) + "</td><td class=\"num\">" +
           format_short(number_of(last, "loss")) + "</td><td class=\"num\">" +
           format_short(number_of(last, "rewards/accuracies")) + "</td><td class=\"num\">" +
           format_short(number_of(last, "rewards/margins")) + "</td><td class=\"num\">" +
           format_short(number_of(last, "grad_norm")) + "</td><td>" + (log.complete ? "complete" : "in progress") + "</td></tr>";
  }
  return out + "</tbody></table></section>";
}

// ---- Outcomes ---------------------------------------------------------------------------

std::string outcomes_section(const RunFiles& run) {
  std::string out = "<section id=\"outcomes\"><h2>Outcome mix of the training samples</h2>";
  if (run.executed.empty()) return out + "<p>No training samples have been executed.</p></section>";
  out += "<p class=\"explain\">Every executed sample of the training tasks per round and policy (\"shared\": one "
         "set of samples for every method that starts from the same model), by verdict of the sandbox (hardened "
         "tests unless the run chose the official harnesses). Unprotected: samples whose verdict rests on assertion "
         "tests run in the program's own process, which a program could fake (tests of shapes hardened mode cannot "
         "split; every assertion test under the official harnesses' semantics).</p>";
  std::set<std::string> present;
  for (const ExecutedSamples& set : run.executed)
    for (const SampleOutcome& o : set.outcomes) present.insert(o.verdict);
  std::vector<std::string> verdicts = ordered_verdicts(present);
  for (const char* always : {"passed", "failed", "runtime_error", "timeout", "syntax_error"})
    if (!present.count(always)) verdicts.push_back(always);
  verdicts = ordered_verdicts(std::set<std::string>(verdicts.begin(), verdicts.end()));

  std::vector<StackedBar> bars;
  std::string table = "<table><thead><tr><th>samples of</th><th>samples</th><th>tasks</th><th>tasks with a pass</th>";
  for (const std::string& v : verdicts) table += "<th>" + esc(v) + "</th>";
  table += "<th>pass rate</th><th>unprotected</th></tr></thead><tbody>";
  for (const ExecutedSamples& set : run.executed) {
    std::map<std::string, size_t> counts;
    std::set<std::string> tasks, passing;
    size_t unprotected = 0;
    for (const SampleOutcome& o : set.outcomes) {
      ++counts[o.verdict];
      unprotected += o.tests_unprotected > 0;
      tasks.insert(o.task_id);
      if (o.verdict == "passed") passing.insert(o.task_id);
    }
    StackedBar bar{set.group.label + " (" + std::to_string(set.outcomes.size()) + ")", {}};
    for (const std::string& v : verdicts) bar.segments.push_back({v, verdict_color(v), double(counts[v])});
    bars.push_back(std::move(bar));
    table += "<tr><td>" + esc(set.group.label) + "</td><td class=\"num\">" + std::to_string(set.outcomes.size()) +
             "</td><td class=\"num\">" + std::to_string(tasks.size()) + "</td><td class=\"num\">" +
             std::to_string(passing.size()) + "</td>";
    for (const std::string& v : verdicts) table += "<td class=\"num\">" + std::to_string(counts[v]) + "</td>";
    double rate = set.outcomes.empty() ? no_value : double(counts["passed"]) / double(set.outcomes.size());
    table += "<td class=\"num\">" + format_fixed(rate, 3) + "</td><td class=\"num\" data-cell=\"unprotected/" +
             esc(set.group.label) + "\">" + std::to_string(unprotected) + "</td></tr>";
  }
  out += stacked_bars(bars, 1000);
  return out + table + "</tbody></table></section>";
}

// ---- Configuration and provenance -------------------------------------------------------

std::string provenance_section(const RunFiles& run, const Options& options) {
  std::string out = "<section id=\"provenance\"><h2>Configuration and provenance</h2><table class=\"facts\"><tbody>";
  auto fact = [&](const std::string& name, const std::string& value) {
    if (!value.empty()) out += "<tr><th>" + esc(name) + "</th><td>" + esc(value) + "</td></tr>";
  };
  std::vector<const Json*> starts, ends, stages;
  for (const Json& event : run.timeline) {
    std::string kind = text_of(event, "event");
    (kind == "start" ? starts : kind == "end" ? ends : stages).push_back(&event);
  }
  std::vector<std::string> versions;
  for (const Json* start : starts)
    if (std::string v = text_of(*start, "version");
        !v.empty() && std::find(versions.begin(), versions.end(), v) == versions.end())
      versions.push_back(v);
  std::string version_text;
  for (const std::string& v : versions) version_text += (version_text.empty() ? "" : "; ") + v;
  fact("run made by", version_text.empty() ? "not recorded (no timeline.jsonl with a version)" : version_text);
  fact("report written by", options.generator);
  fact("run directory", run.dir);
  if (run.settings.is_null()) fact("settings", "not recorded (no settings.json: a run made before codealign wrote one)");
  fact("model", run.setting("model"));
  fact("tokenizer", run.setting("tokenizer"));
  fact("chat format", run.setting("chat_format"));
  fact("training tasks", run.setting("train_tasks"));
  fact("evaluation sets", run.setting("eval_sets"));
  fact("methods", run.setting("methods"));
  fact("rounds", run.setting("rounds"));
  fact("samples per task", run.setting("samples_per_task"));
  fact("DPO reference", run.setting("reference"));
  fact("off-policy samples", run.setting("off_policy_samples"));
  if (run.settings.contains("seeds") && run.settings["seeds"].is_object())
    for (const auto& [key, value] : run.settings["seeds"].items()) fact("seed (" + key + ")", value.dump());
  if (!starts.empty())
    fact("invocations", std::to_string(starts.size()) +
                            (starts.size() > 1 ? " (resumed " + std::to_string(starts.size() - 1) + " times)" : ""));
  out += "</tbody></table>";

  out += "<h3>Wall time per stage</h3>";
  if (run.timeline.empty()) {
    out += "<p>This run has no timeline.jsonl (it was made before codealign recorded stage times).</p>";
  } else {
    std::map<std::string, double> by_kind;
    std::vector<std::string> kinds;
    double total = 0;
    std::string rows;
    for (const Json* event : stages) {
      std::string stage = text_of(*event, "stage"), kind = stage_kind(stage);
      double seconds = number_of(*event, "seconds");
      if (std::isnan(seconds)) continue;
      if (!by_kind.count(kind)) kinds.push_back(kind);
      by_kind[kind] += seconds;
      total += seconds;
      rows += "<tr><td>" + esc(stage) + "</td><td>" + esc(kind) + "</td><td class=\"num\" data-seconds=\"" +
              format_fixed(seconds, 3) + "\">" + format_seconds(seconds) + "</td><td>" + esc(text_of(*event, "time")) +
              "</td></tr>";
    }
    out += "<table><thead><tr><th>kind of stage</th><th>wall time</th><th>share</th></tr></thead><tbody>";
    for (const std::string& kind : kinds)
      out += "<tr><td>" + esc(kind) + "</td><td class=\"num\">" + format_seconds(by_kind[kind]) + "</td><td class=\"num\">" +
             (total > 0 ? format_fixed(100 * by_kind[kind] / total, 1) + "%" : "-") + "</td></tr>";
    out += "<tr class=\"total\"><td>all stages</td><td class=\"num\">" + format_seconds(total) + "</td><td></td></tr>"
           "</tbody></table>";
    out += "<details><summary>every stage (" + std::to_string(stages.size()) + ")</summary><table><thead><tr><th>stage"
           "</th><th>kind</th><th>wall time</th><th>finished (UTC)</th></tr></thead><tbody>" + rows +
           "</tbody></table></details>";
    out += "<table><thead><tr><th>invocation started (UTC)</th><th>version</th><th>resumed</th><th>ended (UTC)</th>"
           "<th>wall time</th></tr></thead><tbody>";
    for (size_t i = 0; i < starts.size(); ++i) {
      // An invocation's end is the first end event after its start and before the next start.
      const Json* end = nullptr;
      auto at = [&](const Json* e) { return size_t(e - run.timeline.data()); };
      for (const Json* e : ends)
        if (at(e) > at(starts[i]) && (i + 1 == starts.size() || at(e) < at(starts[i + 1]))) end = e;
      out += "<tr><td>" + esc(text_of(*starts[i], "time")) + "</td><td>" + esc(text_of(*starts[i], "version")) +
             "</td><td>" + esc(text_of(*starts[i], "resume")) + "</td><td>" +
             (end ? esc(text_of(*end, "time")) : std::string("did not finish")) + "</td><td class=\"num\">" +
             (end ? format_seconds(number_of(*end, "total_seconds")) : std::string("-")) + "</td></tr>";
    }
    out += "</tbody></table>";
    out += "<p class=\"explain\">A stage's wall time runs from the end of the stage before it in the same invocation "
           "(or the invocation's start) to its own end, so loading models and tasks counts with the stage that needed "
           "them. Stages a resumed run found complete took no time in it.</p>";
    if (run.timeline_unreadable)
      out += "<p class=\"warning\">" + std::to_string(run.timeline_unreadable) +
             " line(s) of timeline.jsonl did not parse (a run killed while writing one) and are left out.</p>";
  }
  out += "<h3>config.toml</h3>";
  if (run.config_toml.empty()) {
    out += "<p>config.toml is missing.</p>";
  } else {
    size_t lines = size_t(std::count(run.config_toml.begin(), run.config_toml.end(), '\n'));
    out += "<details><summary>the resolved options, as <code>codealign align --config</code> reads them (" +
           std::to_string(lines) + " lines)</summary><pre class=\"config\">" + esc(run.config_toml) + "</pre></details>";
  }
  return out + "</section>";
}

}  // namespace codealign::report
