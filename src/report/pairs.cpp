// The pair statistics and the pair inspector: chosen and rejected side by side, the lines that
// differ marked, with their outcomes from the execute stage.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "report/diff.h"
#include "report/html.h"
#include "report/sections.h"

namespace codealign::report {
namespace {

std::string esc(std::string_view text) { return html_escape(text); }

// ---- Pairs ------------------------------------------------------------------------------

double gap_of(const Json& pair) { return number_of(pair, "chosen_score") - number_of(pair, "rejected_score"); }

// Lines of `text` cut to `max_lines`, and how many were cut.
std::pair<std::vector<std::string>, size_t> shown_lines(const std::string& text, size_t max_lines) {
  std::vector<std::string> lines = split_lines(text);
  size_t cut = lines.size() > max_lines ? lines.size() - max_lines : 0;
  lines.resize(lines.size() - cut);
  return {lines, cut};
}

std::string diff_table(const std::string& chosen, const std::string& rejected, size_t max_lines) {
  auto [a, cut_a] = shown_lines(chosen, max_lines);
  auto [b, cut_b] = shown_lines(rejected, max_lines);
  std::string out = "<table class=\"diff\"><colgroup><col class=\"ln\"><col><col class=\"ln\"><col></colgroup><thead>"
                    "<tr><th colspan=\"2\">chosen</th><th colspan=\"2\">rejected</th></tr></thead><tbody>";
  for (const SideBySideRow& row : side_by_side(diff_lines(a, b))) {
    auto cell = [&](size_t index, const std::vector<std::string>& lines, const char* changed_class) {
      if (index == SideBySideRow::none) return std::string("<td class=\"ln\"></td><td class=\"blank\"></td>");
      return "<td class=\"ln\">" + std::to_string(index + 1) + "</td><td class=\"code" +
             (row.changed ? std::string(" ") + changed_class : "") + "\">" + esc(lines[index]) + "</td>";
    };
    out += "<tr>" + cell(row.a, a, "only-chosen") + cell(row.b, b, "only-rejected") + "</tr>";
  }
  if (cut_a || cut_b)
    out += "<tr><td></td><td class=\"cut\">" + (cut_a ? std::to_string(cut_a) + " more lines not shown" : "") +
           "</td><td></td><td class=\"cut\">" + (cut_b ? std::to_string(cut_b) + " more lines not shown" : "") +
           "</td></tr>";
  return out + "</tbody></table>";
}

std::string outcome_text(const SampleOutcome* o, const std::string& verdict) {
  if (!o) return verdict_badge(verdict) + " <span class=\"sub\">(no execution result found for this text)</span>";
  std::string out = verdict_badge(o->verdict) + " " + std::to_string(o->tests_passed) + "/" +
                    std::to_string(o->tests_total) + " tests";
  std::string message = o->error_type.empty() ? o->message : o->error_type + (o->message.empty() ? "" : ": " + o->message);
  if (message.size() > 2000) message = message.substr(0, 2000) + " …";
  if (!message.empty()) out += "<pre class=\"msg\">" + esc(message) + "</pre>";
  return out;
}

// Which pairs the inspector shows: at most `max`, taken in turn from each pair set, and within
// a set from each task in turn (first pairs of every task before second ones). Sorted by set and
// position in its file.
std::vector<std::pair<size_t, size_t>> pick_pairs(const std::vector<PairSet>& sets, size_t max) {
  std::vector<std::vector<size_t>> queues;  // per set: pair indexes in taking order
  for (const PairSet& set : sets) {
    std::vector<std::string> task_order;
    std::map<std::string, std::vector<size_t>> by_task;
    for (size_t i = 0; i < set.pairs.size(); ++i) {
      std::string task = text_of(set.pairs[i], "task_id");
      if (!by_task.count(task)) task_order.push_back(task);
      by_task[task].push_back(i);
    }
    std::vector<size_t> queue;
    for (size_t depth = 0; queue.size() < set.pairs.size(); ++depth)
      for (const std::string& task : task_order)
        if (depth < by_task[task].size()) queue.push_back(by_task[task][depth]);
    queues.push_back(std::move(queue));
  }
  std::vector<std::pair<size_t, size_t>> picked;
  for (size_t depth = 0; picked.size() < max; ++depth) {
    bool any = false;
    for (size_t s = 0; s < queues.size() && picked.size() < max; ++s)
      if (depth < queues[s].size()) {
        picked.emplace_back(s, queues[s][depth]);
        any = true;
      }
    if (!any) break;
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

// The verdicts of the samples a pair set was built from, best first: what the policy wrote.
std::string outcome_histogram(const PairSet& set) {
  if (!set.stats.contains("verdicts") || !set.stats["verdicts"].is_object()) return "";
  const Json& counts = set.stats["verdicts"];
  std::set<std::string> present;
  for (const auto& [verdict, count] : counts.items())
    if (count.is_number()) present.insert(verdict);
  if (present.empty()) return "";
  std::vector<HistogramBin> bins;
  for (const std::string& verdict : ordered_verdicts(present)) bins.push_back({verdict, counts[verdict].get<double>()});
  ChartOptions o;
  o.title = set.group.label + ": outcomes of the samples";
  o.x_label = "verdict";
  o.y_label = "samples";
  return histogram(bins, o);
}

std::string pair_statistics(const RunFiles& run) {
  std::string out = "<table><thead><tr><th>pairs of</th><th>samples</th><th>tasks</th><th>mixed</th><th>all pass</th>"
                    "<th>none pass</th><th>tasks with pairs</th><th>pairs</th><th>pairs per task (mean, max)</th>"
                    "<th>score gap (mean, median)</th><th>RFT examples</th><th>distinct programs per task</th>"
                    "<th>program entropy (nats)</th></tr></thead><tbody>";
  std::string charts;
  for (size_t s = 0; s < run.pairs.size(); ++s) {
    const PairSet& set = run.pairs[s];
    std::map<std::string, size_t> per_task;
    std::vector<double> gaps;
    for (const Json& pair : set.pairs) {
      ++per_task[text_of(pair, "task_id")];
      gaps.push_back(gap_of(pair));
    }
    std::sort(gaps.begin(), gaps.end());
    double mean = 0;
    for (double g : gaps) mean += g / double(gaps.size());
    double median = gaps.empty() ? no_value
                    : gaps.size() % 2 ? gaps[gaps.size() / 2]
                                      : (gaps[gaps.size() / 2 - 1] + gaps[gaps.size() / 2]) / 2;
    size_t most = 0;
    for (const auto& [task, n] : per_task) most = std::max(most, n);
    auto stat = [&](const char* key) {
      return "<td class=\"num\">" + (set.stats.contains(key) ? esc(text_of(set.stats, key)) : std::string("-")) + "</td>";
    };
    auto fixed_stat = [&](const char* key) {  // runs before these statistics existed show "-"
      bool known = set.stats.contains(key) && set.stats[key].is_number();
      return "<td class=\"num\">" + (known ? format_fixed(set.stats[key].get<double>(), 2) : std::string("-")) + "</td>";
    };
    out += "<tr><td>" + esc(set.group.label) + "</td>" + stat("samples") + stat("tasks") + stat("tasks_mixed") +
           stat("tasks_all_pass") + stat("tasks_none_pass") + "<td class=\"num\">" + std::to_string(per_task.size()) +
           "</td><td class=\"num\">" + std::to_string(set.pairs.size()) + "</td><td class=\"num\">" +
           (per_task.empty() ? "-" : format_fixed(double(set.pairs.size()) / double(per_task.size()), 2) + ", " +
                                         std::to_string(most)) +
           "</td><td class=\"num\">" + (gaps.empty() ? "-" : format_fixed(mean, 3) + ", " + format_fixed(median, 3)) +
           "</td>" + stat("rft_examples") + fixed_stat("distinct_programs_per_task") + fixed_stat("program_entropy") +
           "</tr>";
    charts += outcome_histogram(set);
    if (set.pairs.empty()) continue;
    // Score gaps in bins of 0.1 (scores lie in [0, 2]: tests passed + the verdict's weight).
    double width = gaps.back() > 2.5 ? gaps.back() / 20 : 0.1;
    std::vector<HistogramBin> gap_bins(size_t(std::floor(gaps.back() / width + 1e-9)) + 1);
    for (size_t i = 0; i < gap_bins.size(); ++i) gap_bins[i] = {format_fixed(double(i) * width, 1), 0};
    for (double g : gaps) gap_bins[std::min(gap_bins.size() - 1, size_t(std::floor(g / width + 1e-9)))].count += 1;
    ChartOptions o;
    o.title = set.group.label + ": score gaps";
    o.x_label = "chosen score - rejected score (bins of " + format_short(width) + ")";
    o.y_label = "pairs";
    charts += histogram(gap_bins, o);
    std::vector<HistogramBin> task_bins(most);
    for (size_t i = 0; i < most; ++i) task_bins[i] = {std::to_string(i + 1), 0};
    for (const auto& [task, n] : per_task) task_bins[n - 1].count += 1;
    o.title = set.group.label + ": pairs per task";
    o.x_label = "pairs of a task";
    o.y_label = "tasks";
    charts += histogram(task_bins, o);
  }
  out += "</tbody></table>";

  // Which outcomes were paired with which, over every pair set.
  std::map<std::pair<std::string, std::string>, size_t> matrix;
  std::set<std::string> chosen, rejected;
  for (const PairSet& set : run.pairs)
    for (const Json& pair : set.pairs) {
      std::string c = text_of(pair, "chosen_verdict"), r = text_of(pair, "rejected_verdict");
      ++matrix[{c, r}];
      chosen.insert(c);
      rejected.insert(r);
    }
  if (!matrix.empty()) {
    out += "<p>Pairs by verdict, all pair sets together (rows: chosen, columns: rejected):</p>"
           "<table class=\"matrix\"><thead><tr><th></th>";
    std::vector<std::string> columns = ordered_verdicts(rejected);
    for (const std::string& r : columns) out += "<th>" + verdict_badge(r) + "</th>";
    out += "</tr></thead><tbody>";
    for (const std::string& c : ordered_verdicts(chosen)) {
      out += "<tr><th>" + verdict_badge(c) + "</th>";
      for (const std::string& r : columns)
        out += "<td class=\"num\">" + (matrix.count({c, r}) ? std::to_string(matrix[{c, r}]) : std::string("")) + "</td>";
      out += "</tr>";
    }
    out += "</tbody></table>";
  }
  return out + "<div class=\"charts\">" + charts + "</div>";
}

}  // namespace

std::string inspector_section(const RunFiles& run, const Options& options) {
  size_t total = 0;
  std::set<std::string> tasks, chosen_verdicts, rejected_verdicts;
  for (const PairSet& set : run.pairs)
    for (const Json& pair : set.pairs) {
      ++total;
      tasks.insert(text_of(pair, "task_id"));
      chosen_verdicts.insert(text_of(pair, "chosen_verdict"));
      rejected_verdicts.insert(text_of(pair, "rejected_verdict"));
    }
  std::vector<std::pair<size_t, size_t>> picked = pick_pairs(run.pairs, options.max_pairs);
  std::string out = "<section id=\"inspector\"><h2>Pair inspector</h2><p class=\"explain\">Showing <b>" +
                    std::to_string(picked.size()) + " of " + std::to_string(total) + "</b> pairs";
  if (picked.size() < total)
    out += " (a report shows at most " + std::to_string(options.max_pairs) +
           ", taken in turn from each pair set and each task; <code>codealign report --max-pairs N</code> shows more)";
  out += ". Lines only the chosen answer has are green, lines only the rejected one has are red; programs and prompts "
         "longer than " + std::to_string(options.max_lines) + " lines are cut.</p>";

  // The filter: set, task (substring), verdicts. The script only hides pairs; all are in the page.
  auto select = [&](const char* id, const char* label, const std::vector<std::pair<std::string, std::string>>& values) {
    std::string s = "<label>" + std::string(label) + " <select id=\"" + id + "\"><option value=\"\">any</option>";
    for (const auto& [value, text] : values) s += "<option value=\"" + esc(value) + "\">" + esc(text) + "</option>";
    return s + "</select></label> ";
  };
  std::vector<std::pair<std::string, std::string>> set_values, chosen_values, rejected_values;
  for (const PairSet& set : run.pairs) set_values.emplace_back(set.group.dir, set.group.label);
  for (const std::string& v : ordered_verdicts(chosen_verdicts)) chosen_values.emplace_back(v, v);
  for (const std::string& v : ordered_verdicts(rejected_verdicts)) rejected_values.emplace_back(v, v);
  out += "<form class=\"filters\" onsubmit=\"return false\">" + select("f-set", "pairs of", set_values) +
         "<label>task <input id=\"f-task\" list=\"f-tasks\" placeholder=\"task id or part of it\"></label> " +
         select("f-chosen", "chosen", chosen_values) + select("f-rejected", "rejected", rejected_values) +
         "<span id=\"f-count\">" + std::to_string(picked.size()) + " of " + std::to_string(picked.size()) +
         " shown</span></form><datalist id=\"f-tasks\">";
  for (const std::string& task : tasks) out += "<option value=\"" + esc(task) + "\">";
  out += "</datalist>";

  std::map<std::string, const ExecutedSamples*> executed;
  for (const ExecutedSamples& e : run.executed) executed[e.group.dir] = &e;
  std::map<size_t, std::unordered_map<std::string, const SampleOutcome*>> lookups;  // per pair set
  auto find_outcome = [&](size_t s, const std::string& task, const std::string& text) -> const SampleOutcome* {
    auto& lookup = lookups[s];
    if (lookup.empty() && executed.count(run.pairs[s].group.dir))
      for (const SampleOutcome& o : executed[run.pairs[s].group.dir]->outcomes) lookup.emplace(o.task_id + '\x1f' + o.text, &o);
    auto it = lookup.find(task + '\x1f' + text);
    return it == lookup.end() ? nullptr : it->second;
  };

  for (size_t n = 0; n < picked.size(); ++n) {
    auto [s, i] = picked[n];
    const PairSet& set = run.pairs[s];
    const Json& pair = set.pairs[i];
    std::string task = text_of(pair, "task_id"), chosen = text_of(pair, "chosen"), rejected = text_of(pair, "rejected");
    std::string cv = text_of(pair, "chosen_verdict"), rv = text_of(pair, "rejected_verdict");
    out += "<details class=\"pair\" data-set=\"" + esc(set.group.dir) + "\" data-task=\"" + esc(task) +
           "\" data-chosen=\"" + esc(cv) + "\" data-rejected=\"" + esc(rv) + "\"" + (n < 4 ? " open" : "") + "><summary>" +
           esc(set.group.label) + " · <code>" + esc(task) + "</code> · " + verdict_badge(cv) + " " +
           format_fixed(number_of(pair, "chosen_score"), 3) + " vs " + verdict_badge(rv) + " " +
           format_fixed(number_of(pair, "rejected_score"), 3) + " · gap " + format_fixed(gap_of(pair), 3) +
           " <span class=\"sub\">(line " + std::to_string(i + 1) + " of " + esc(set.group.dir) +
           "/preferences/pairs.jsonl)</span></summary>";
    auto [prompt, prompt_cut] = shown_lines(text_of(pair, "prompt"), options.max_lines);
    std::string prompt_text;
    for (const std::string& line : prompt) prompt_text += line + "\n";
    if (prompt_cut) prompt_text += "… " + std::to_string(prompt_cut) + " more lines\n";
    out += "<details class=\"prompt\"><summary>prompt</summary><pre>" + esc(prompt_text) + "</pre></details>";
    out += diff_table(chosen, rejected, options.max_lines);
    out += "<div class=\"outcomes\"><div><b>chosen:</b> " + outcome_text(find_outcome(s, task, chosen), cv) +
           "</div><div><b>rejected:</b> " + outcome_text(find_outcome(s, task, rejected), rv) + "</div></div></details>";
  }
  return out + "</section>";
}

std::string pairs_section(const RunFiles& run) {
  std::string out = "<section id=\"pairs\"><h2>Preference pairs</h2>";
  if (run.pairs.empty()) return out + "<p>No pairs have been made.</p></section>";
  out += "<p class=\"explain\">A task is mixed when some of its samples pass and some do not. The score of a sample "
         "is the fraction of its tests passed plus a weight for its verdict (docs/FORMATS.md); a pair's gap is the "
         "chosen score minus the rejected one.</p>";
  return out + pair_statistics(run) + "</section>";
}

}  // namespace codealign::report
