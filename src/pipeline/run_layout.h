// Every path of an `align` run directory, in one place: the pipeline writes by these names,
// the report and the tests read by them. Header-only and torch-free, so that the report (in
// the torch-free binary) reads the layout without linking the pipeline.
//
//   config.toml                      the resolved options as CLI flags (compared on resume)
//   settings.json                    the run's settings by meaning (what the report shows)
//   round-0/eval/<set>/              the starting model on each evaluation set
//   round-R/<policy>/sample/         samples.jsonl: on-policy samples of the training tasks
//   round-R/<policy>/execute/        results.jsonl: their execution outcomes (hardened tests)
//   round-R/<policy>/preferences/    pairs.jsonl, rft.jsonl
//   round-R/<method>/train/          the trained model (HF layout), metrics.jsonl
//   round-R/<method>/eval/<set>/     samples.jsonl, results.jsonl (greedy)
//   round-R/<method>/eval-sampled/<set>/  the same for sampled pass@k (with eval_samples > 0)
//   off-policy/sample/, off-policy/execute/, off-policy/preferences/
//                                    another model's samples (without their token ids),
//                                    outcomes and pairs, shared by every round of dpo-off-policy
//   summary.json                     per round and method: pairs, loss, pass@k per evaluation set
//   timeline.jsonl                   appended: each invocation's start and end, each stage's time
//   report.html                      written by the align command once the run ends
// <policy> is the method whose policy sampled, or "shared" when every on-policy method starts
// from the same model (round 1). A stage directory is complete when its stage.json exists.
#pragma once
#include <filesystem>
#include <string>

namespace codealign::pipeline {

struct RunLayout {
  using path = std::filesystem::path;
  path root;

  static constexpr const char* shared_policy = "shared";
  // Files inside stage directories.
  static constexpr const char* stage_marker = "stage.json";
  static constexpr const char* samples_file = "samples.jsonl";
  static constexpr const char* results_file = "results.jsonl";
  static constexpr const char* pairs_file = "pairs.jsonl";
  static constexpr const char* rft_file = "rft.jsonl";
  static constexpr const char* chosen_file = "chosen.jsonl";  // the pairs' chosen samples, as SFT examples
  // In a DPO train stage: pairs from its starting policy's sampled evaluation (never trained on).
  static constexpr const char* heldout_pairs_file = "heldout-pairs.jsonl";
  static constexpr const char* groups_file = "groups.jsonl";
  static constexpr const char* metrics_file = "metrics.jsonl";

  path config() const { return root / "config.toml"; }
  path settings() const { return root / "settings.json"; }
  path summary() const { return root / "summary.json"; }
  path timeline() const { return root / "timeline.jsonl"; }
  path report() const { return root / "report.html"; }

  // Groups of stages: a round's directory of a policy or method, and the off-policy one.
  static std::string round_name(int round) { return "round-" + std::to_string(round); }
  path round(int number) const { return root / round_name(number); }
  path group(int number, const std::string& policy_or_method) const { return round(number) / policy_or_method; }
  path off_policy() const { return root / "off-policy"; }

  // Stages inside a group (evaluation stages also inside round-0/).
  static path sample(const path& group) { return group / "sample"; }
  static path execute(const path& group) { return group / "execute"; }
  static path preferences(const path& group) { return group / "preferences"; }
  static path train(const path& group) { return group / "train"; }
  static path eval(const path& group, const std::string& set_name) { return group / "eval" / set_directory(set_name); }
  static path eval_sampled(const path& group, const std::string& set_name) {
    return group / "eval-sampled" / set_directory(set_name);
  }

  // "round-12" -> 12; any other name -> -1.
  static int round_number(const std::string& directory_name) {
    if (!directory_name.starts_with("round-") || directory_name.size() == 6 || directory_name.size() > 12) return -1;
    int number = 0;
    for (char c : directory_name.substr(6)) {
      if (c < '0' || c > '9') return -1;
      number = number * 10 + (c - '0');
    }
    return number;
  }

  // An evaluation set's directory: "mbpp:test" -> "mbpp-test", "mbpp:test[:50]" ->
  // "mbpp-test-0-50"; a tasks file -> its stem.
  static std::string set_directory(const std::string& set_name) {
    std::string name = set_name, slice;
    if (size_t open = name.rfind('['); open != std::string::npos && name.ends_with(']')) {
      slice = name.substr(open + 1, name.size() - open - 2);
      name.resize(open);
      if (slice.starts_with(':')) slice = "0" + slice;
      if (slice.ends_with(':')) slice += "end";
    }
    name = path(name).stem().string() + (slice.empty() ? "" : "-" + slice);
    for (char& c : name) c = c == ':' || c == '/' ? '-' : c;
    return name;
  }
};

}  // namespace codealign::pipeline
