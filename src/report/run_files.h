// What the report reads of a run directory (pipeline/run_layout.h names its files), in the order
// the run made them. Private to report/.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/jsonl.h"
#include "pipeline/run_layout.h"

namespace codealign::report {

// One executed sample, as the pairs name it.
struct SampleOutcome {
  std::string task_id;
  std::string text;  // what a pair holds: the model's whole reply ("response") if any, else the program
  // With + tests: the + outcome's when the base tests passed (as preferences ranks it).
  std::string verdict, error_type, message;
  int tests_passed = 0, tests_total = 0;
  int tests_unprotected = 0;  // assertion tests run in the program's own process (sandbox::Outcome)
};

// A stage directory that sampled training tasks: round-R/<policy>/ or off-policy/.
struct StageGroup {
  std::string dir;    // relative to the run: "round-1/shared", "off-policy"
  std::string label;  // "round 1 · shared", "off-policy"
  int round = 0;      // 0 for off-policy
};

// <group>/execute/: samples.jsonl joined with results.jsonl.
struct ExecutedSamples {
  StageGroup group;
  std::vector<SampleOutcome> outcomes;  // in file order
};

// <group>/preferences/: pairs.jsonl and its stage.json (the pair statistics).
struct PairSet {
  StageGroup group;
  std::vector<Json> pairs;
  Json stats;  // null while the stage is incomplete
};

// round-R/<method>/train/metrics.jsonl: one object per optimizer step (TRL's metric names).
struct TrainingLog {
  StageGroup group;  // dir "round-1/dpo", label "round 1 · dpo"
  std::string method;
  std::vector<Json> steps;
  bool complete = false;  // stage.json written
};

struct RunFiles {
  std::string dir;
  Json summary;                    // null when summary.json is missing (a run not finished)
  std::string config_toml;         // "" when missing: the options as command-line flags, shown as they are
  Json settings;                   // settings.json: the settings by meaning (null when missing)
  std::vector<ExecutedSamples> executed;
  std::vector<PairSet> pairs;
  std::vector<TrainingLog> training;
  std::vector<Json> timeline;      // timeline.jsonl's events
  size_t timeline_unreadable = 0;  // lines that did not parse (a run killed while writing one)

  // A setting of settings.json as text (a list joined by ", "), or "".
  std::string setting(const std::string& key) const;
};

// Reads everything the report shows. Throws Error naming the path (and line) for a file that
// does not parse or results that do not match their samples.
RunFiles read_run(const std::string& dir);

}  // namespace codealign::report
