// codealign preferences: from execution outcomes to DPO pairs, RFT data and GRPO's rewarded
// groups. Torch-free.
//
// Usage: read (or build) the judged samples of a round, rank them, pick pairs, write them.
//   auto judged = preferences::read_judged("samples.jsonl", "results.jsonl", tasks);
//   auto pairs = preferences::make_pairs(judged, config);          // strategy, cap, seed
//   preferences::write_pairs("pairs.jsonl", pairs, tasks, provenance);
//
// The score (higher is better; see score()): the fraction of tests passed, base and + tests
// together, plus a small weight for the kind of outcome, so that all tests passed > more tests
// passed > failed assertion > runtime error > timeout / out of memory > crash > syntax error.
// Samples with equal scores never pair; neither do identical texts.
//
// Output (TRL's preference format, one JSON object per line):
//   {"prompt", "chosen", "rejected", "task_id", "chosen_verdict", "rejected_verdict",
//    "chosen_score", "rejected_score", "round", "model", ["chosen_ids", "rejected_ids"]}
// The ids are the sampled token ids of the completions when the samples file recorded them
// (`sample` does): training uses them instead of re-tokenizing the text, so that on-policy
// log-probabilities are those of the tokens the policy actually produced.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/enum_names.h"
#include "sandbox/sandbox.h"
#include "tasks/tasks.h"

namespace codealign::preferences {

// What ranking needs of one executed sample.
struct JudgedSample {
  int line = 0;                   // in the samples file (1-based)
  std::string task_id;
  std::string text;               // what training sees: the completion, or the model's whole reply
  std::vector<int32_t> ids;       // the sampled ids of `text`; empty when the samples file has none
  sandbox::Verdict verdict = sandbox::Verdict::crashed;  // the first failing group's, else passed
  int tests_passed = 0, tests_total = 0;                 // base and + tests together
  bool truncated = false;  // the sampler stopped at its token limit (finish_reason "length")
};

// The weight added to the fraction of tests passed, per verdict. The failure weights are small
// (below 1/25) so that one more test passed outweighs the kind of failure on tasks with up to
// 25 tests; on larger test sets they order samples with equal fractions.
struct ScoreConfig {
  std::map<sandbox::Verdict, double> weight = {
      {sandbox::Verdict::passed, 1.0},         {sandbox::Verdict::failed, 0.035},
      {sandbox::Verdict::runtime_error, 0.03}, {sandbox::Verdict::timeout, 0.02},
      {sandbox::Verdict::out_of_memory, 0.02}, {sandbox::Verdict::crashed, 0.01},
      {sandbox::Verdict::syntax_error, 0.0}};
};
// "failed=0.04,timeout=0.01": overrides named weights; unknown verdicts are refused by name.
ScoreConfig parse_score_config(const std::string& spec);
double score(const JudgedSample& sample, const ScoreConfig& config);

// GRPO's reward of an outcome: coarse, CodeRL's rule (Le et al. 2022; the paper's PPO baseline):
// syntax error -1, runtime error, timeout, out of memory or crash -0.6, failed tests -0.3, all
// passed +1; score, the fine score above; pass, 1 or 0.
enum class Reward { coarse, score, pass };
inline constexpr EnumNames<Reward, 3> reward_names{
    {{{Reward::coarse, "coarse"}, {Reward::score, "score"}, {Reward::pass, "pass"}}}};
double reward(const JudgedSample& sample, Reward kind, const ScoreConfig& config);

enum class Strategy {
  best_worst,  // one pair per task: a best-scored sample against a worst-scored one
  all,         // every better x worse combination, capped per task
  margin,      // the combinations whose score gap is at least min_margin, capped per task
  // Best-scored samples against near misses, the best of the rest (a program that failed one
  // test rather than one that did not parse: Xiao et al. 2025 find best-vs-worst pairs weaken
  // as samples grow). Each distinct best sample once, the near misses in turn, capped per task.
  near_miss,
};
Strategy parse_strategy(const std::string& name);  // "best-worst", "all", "margin", "near-miss"
const std::vector<std::string>& strategy_names();

struct PairConfig {
  Strategy strategy = Strategy::best_worst;
  size_t max_pairs_per_task = 8;  // all/margin: a seeded random subset beyond this; near-miss: the first; 0: no cap
  double min_margin = 0.5;        // margin: the least score gap of a pair
  uint64_t seed = 0;              // which pairs a cap keeps, which of tied best/worst samples pair
  ScoreConfig score;
};

struct Pair {
  const JudgedSample* chosen;
  const JudgedSample* rejected;
  double chosen_score, rejected_score;
};

// What a round's samples gave, for the stats JSON and the run summary.
struct PairStats {
  size_t samples = 0, duplicate_samples = 0, empty_samples = 0, tasks = 0;
  size_t tasks_all_pass = 0, tasks_none_pass = 0, tasks_mixed = 0;
  size_t tasks_without_pairs = 0;  // every distinct sample scored the same
  size_t pairs = 0;
  double mean_score_gap = 0;
  // How varied the policy's samples are (a policy collapsing onto one program shows here first):
  // per task, the distinct non-empty programs, and the entropy in nats of the sampled programs'
  // distribution (duplicates counted); both averaged over tasks.
  double distinct_programs_per_task = 0, program_entropy = 0;
  std::map<std::string, size_t> verdicts;  // per sample, by verdict name
  nlohmann::json to_json() const;
};

struct Pairs {
  std::vector<Pair> pairs;  // grouped by task in first-seen order
  PairStats stats;
};

// Pairs from judged samples (which must outlive the result). Within a task, samples with the
// same text count once (the first seen); empty texts are left out (training refuses them).
Pairs make_pairs(const std::vector<JudgedSample>& samples, const PairConfig& config);

// Rejection-sampling fine-tuning data: passing samples, de-duplicated by text, at most
// `max_per_task` per task (a seeded random subset; 0: all), in input order.
std::vector<const JudgedSample*> rft_examples(const std::vector<JudgedSample>& samples, size_t max_per_task,
                                              uint64_t seed);

// Reads a samples JSONL (`completion` or `solution`; optional `response`, the whole reply of
// an instruct model, which training then uses; optional `completion_ids`) with the results
// JSONL `codealign evaluate` wrote for it, line for line. Errors name the file and line: ids
// absent from `tasks`, results that do not match their samples, malformed ids.
std::vector<JudgedSample> read_judged(const std::string& samples_path, const std::string& results_path,
                                      const tasks::TaskSet& tasks);

// Where pairs came from, copied onto every line.
struct Provenance {
  int round = 0;
  std::string model;  // the sampling model
};

// Written atomically. Prompts are the tasks' prompts, as the model was shown them before any
// chat format was applied.
void write_pairs(const std::string& path, const Pairs& pairs, const tasks::TaskSet& tasks, const Provenance& provenance);
// SFT JSONL: {"prompt", "completion", "task_id", ["completion_ids"]}.
void write_rft(const std::string& path, const std::vector<const JudgedSample*>& examples, const tasks::TaskSet& tasks);
// GRPO groups (docs/FORMATS.md): one line per task, in first-seen order, with every sample of
// the task (duplicates too: each is a draw of the policy) and its reward; also "task_id" and
// each completion's "verdict". Returns the number of groups.
size_t write_groups(const std::string& path, const std::vector<JudgedSample>& samples, const tasks::TaskSet& tasks,
                    Reward kind, const ScoreConfig& config);

}  // namespace codealign::preferences
