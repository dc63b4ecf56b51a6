// codealign report: one self-contained HTML page about a run directory of `codealign align`
// (pipeline/pipeline.h describes its files). Torch-free; reads files only, never runs anything.
//
// Usage:
//   report::Options options;
//   options.generator = codealign_version;  // "codealign 0.3.0 (abc123)", shown in the page
//   report::write_report("runs/qwen", "runs/qwen/report.html", options);
//
// The page: pass@k per round and method with Wilson intervals (from summary.json), training
// curves (each train stage's metrics.jsonl), the outcome mix of every set of executed training
// samples, pair statistics and a pair inspector (chosen and rejected side by side, differing
// lines marked, filterable by task and verdict), and the configuration with wall time per stage
// (config.toml, timeline.jsonl). It needs no network: styles, SVG charts and the inspector's
// filter script are inline, and every number is in the static markup. Text from the run
// (programs, prompts, error messages) is escaped. A run that has not finished gets a page of
// what it has so far.
//
// Errors: a missing run directory, or a file of it that does not parse, throws codealign::Error
// naming the path (and line). Nothing is written then. Thread safety: none needed (no state).
#pragma once
#include <string>
#include <vector>

namespace codealign::report {

struct Options {
  // Pairs in the inspector at most, spread over the pair sets and, within each, over its tasks
  // (the page says how many it leaves out): each shown pair costs a few kB of HTML.
  size_t max_pairs = 100;
  size_t max_lines = 200;           // lines of a program or prompt shown; the rest is cut, saying so
  std::string generator;            // who writes the page, e.g. "codealign 0.3.0 (abc123)"
  std::vector<std::string> notes;   // plain-text paragraphs shown under the headline
};

// The HTML text of the report on `run_dir`.
std::string render_report(const std::string& run_dir, const Options& options = {});

// render_report, written atomically to `out_path`.
void write_report(const std::string& run_dir, const std::string& out_path, const Options& options = {});

// The Wilson score interval (Wilson 1927) of a proportion `successes` / `trials` at the normal
// quantile `z` (1.96 for 95%). `successes` may be fractional: for a mean of per-trial values in
// [0, 1] (sampled pass@k over tasks) the interval is conservative, since such values vary at most
// as much as a Bernoulli variable of the same mean. No trials: [0, 1].
struct Interval {
  double low, high;
};
Interval wilson_interval(double successes, double trials, double z = 1.959963984540054);

}  // namespace codealign::report
