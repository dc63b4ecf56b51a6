// The HTML report of a run directory: sections in the order a reader asks their questions
// (did it work? how did training go? what did the model write? what exactly was run?).
#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/files.h"
#include "report/html.h"
#include "report/sections.h"

namespace codealign::report {
namespace {

namespace fs = std::filesystem;

std::string esc(std::string_view text) { return html_escape(text); }

// ---- The page ---------------------------------------------------------------------------

const char* const style = R"css(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2433;
  margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 2px solid #dfe3ea;
  padding-bottom: 4px; } h3 { font-size: 16px; margin: 20px 0 6px; }
nav a { margin-right: 14px; color: #0b5cad; text-decoration: none; } nav { margin: 6px 0 10px; }
.sub, .ci { color: #667085; font-size: 12px; font-weight: normal; }
.explain { color: #475467; max-width: 900px; } .note { background: #f4f8ff; border-left: 4px solid #0072B2; padding: 6px 10px; }
.warning { background: #fff6e5; border-left: 4px solid #E69F00; padding: 6px 10px; }
table { border-collapse: collapse; margin: 8px 0 12px; } th, td { border: 1px solid #dfe3ea; padding: 3px 8px;
  vertical-align: top; } thead th { background: #f5f7fa; font-weight: 600; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.missing { color: #98a2b3; }
table.headline td.num { font-size: 15px; } tr.total td { font-weight: 600; }
table.facts th { text-align: left; background: #f5f7fa; white-space: nowrap; }
.findings li { margin: 2px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: flex-start; }
svg.chart { background: #fff; font: 11px system-ui, "DejaVu Sans", sans-serif; overflow: visible; }
svg .grid { stroke: #eceff3; } svg .axis { stroke: #98a2b3; } svg .frame { fill: none; stroke: #c5ccd6; }
svg .tick { fill: #667085; } svg .chart-title { font-weight: 600; font-size: 12px; fill: #1d2433; }
svg .axis-label { fill: #475467; } svg .legend { fill: #344054; } svg .bar { fill: #0072B2; }
svg .bar-label { fill: #344054; font-size: 12px; } svg .bar-count { fill: #fff; font-size: 11px; font-weight: 600; }
.v { color: #fff; border-radius: 3px; padding: 0 5px; font-size: 12px; white-space: nowrap; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; background: #f5f7fa; padding: 8px 10px;
  border: 1px solid #dfe3ea; margin: 8px 0; } #f-count { color: #475467; }
details.pair { border: 1px solid #dfe3ea; margin: 8px 0; padding: 4px 8px; border-radius: 4px; }
details.pair > summary { cursor: pointer; padding: 2px 0; }
details.prompt pre, pre.config, pre.msg { background: #f7f8fa; border: 1px solid #eceff3; padding: 6px 8px;
  white-space: pre-wrap; word-break: break-word; font: 12px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre.msg { margin: 4px 0; max-height: 12em; overflow: auto; }
table.diff { width: 100%; table-layout: fixed; font: 12px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.diff td { border: none; border-bottom: 1px solid #f2f4f7; white-space: pre-wrap; word-break: break-word; }
table.diff col.ln { width: 3.5em; } table.diff td.ln { text-align: right; color: #98a2b3; user-select: none; }
table.diff td.only-chosen { background: #dcf5e3; } table.diff td.only-rejected { background: #fbe1e1; }
table.diff td.blank { background: #f7f8fa; } table.diff td.cut { color: #667085; font-style: italic; }
.outcomes { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin: 6px 0; }
)css";

const char* const filter_script = R"js(
(function () {
  var inputs = ['f-set', 'f-task', 'f-chosen', 'f-rejected'].map(function (id) { return document.getElementById(id); });
  var pairs = Array.prototype.slice.call(document.querySelectorAll('details.pair'));
  var count = document.getElementById('f-count');
  function apply() {
    var set = inputs[0].value, task = inputs[1].value.trim().toLowerCase(), chosen = inputs[2].value,
        rejected = inputs[3].value, shown = 0;
    pairs.forEach(function (p) {
      var ok = (!set || p.dataset.set === set) && (!task || p.dataset.task.toLowerCase().indexOf(task) >= 0) &&
               (!chosen || p.dataset.chosen === chosen) && (!rejected || p.dataset.rejected === rejected);
      p.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + pairs.length + ' shown';
  }
  if (count) {
    inputs.forEach(function (e) { e.addEventListener('input', apply); e.addEventListener('change', apply); });
    apply();
  }
  document.documentElement.setAttribute('data-filter', 'ready');  // the tests see that the script ran
})();
)js";

}  // namespace

Interval wilson_interval(double successes, double trials, double z) {
  if (!(trials > 0)) return {0, 1};
  double p = std::clamp(successes / trials, 0.0, 1.0), z2 = z * z;
  double denominator = 1 + z2 / trials;
  double center = (p + z2 / (2 * trials)) / denominator;
  double half = z * std::sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::string render_report(const std::string& run_dir, const Options& options) {
  RunFiles run = read_run(run_dir);
  std::string name = fs::path(run_dir).lexically_normal().filename().string();
  if (name.empty()) name = fs::path(run_dir).lexically_normal().parent_path().filename().string();
  std::string subtitle;
  if (!run.summary.is_null()) {
    std::string methods;
    for (const Json& m : run.summary.value("methods", Json::array())) methods += (methods.empty() ? "" : ", ") + m.get<std::string>();
    size_t rounds = run.summary.contains("rounds") ? run.summary["rounds"].size() : 0;
    subtitle = "training tasks " + text_of(run.summary, "train_tasks") + " · methods " + methods + " · " +
               std::to_string(rounds ? rounds - 1 : 0) + " round(s)";
  } else if (!run.setting("train_tasks").empty()) {
    subtitle = "training tasks " + run.setting("train_tasks") + " · unfinished";
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>codealign report: " + esc(name) + "</title><style>" + style + "</style></head><body>";
  html += "<header><h1>codealign run report: " + esc(name) + "</h1><p class=\"sub\">" + esc(subtitle) + "</p><nav>"
          "<a href=\"#headline\">Headline</a><a href=\"#training\">Training</a><a href=\"#outcomes\">Outcomes</a>"
          "<a href=\"#pairs\">Pairs</a><a href=\"#provenance\">Configuration</a><a href=\"#inspector\">Pair inspector"
          "</a></nav></header>";
  html += headline_section(run, options);
  html += training_section(run);
  html += outcomes_section(run);
  html += pairs_section(run);
  html += provenance_section(run, options);
  html += run.pairs.empty() ? "" : inspector_section(run, options);
  html += "<script>" + std::string(filter_script) + "</script></body></html>\n";
  return html;
}

void write_report(const std::string& run_dir, const std::string& out_path, const Options& options) {
  std::string html = render_report(run_dir, options);
  AtomicFile file(out_path);
  file.write(html);
  file.commit();
}

}  // namespace codealign::report
