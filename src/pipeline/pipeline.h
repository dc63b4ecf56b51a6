// codealign pipeline: on-policy rounds of sample -> execute -> rank -> pairs -> train -> evaluate
// (Miao et al. 2024), in a run directory that a killed run resumes from.
//
// The run directory's layout is pipeline/run_layout.h. Every stage follows one protocol: it is
// complete when its stage.json exists, written last and atomically, so resume skips complete
// stages, trains on from the newest checkpoint and reruns anything half-done.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "evaluation/evaluation.h"
#include "generation/generation.h"
#include "preferences/preferences.h"
#include "sandbox/sandbox.h"
#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"
#include "training/trainer.h"

namespace codealign::pipeline {

// ---- Sampling a task set (also `codealign sample`) ---------------------------------------

struct SampleConfig {
  generation::SamplingConfig sampling;        // stop ids and strings are added by sample_tasks
  std::optional<tokenizer::ChatFormat> chat;  // none: completion style
  size_t batch = 8;                           // prompts per generation batch
};

// Samples every task's prompt and writes samples JSONL atomically. A sample's random stream
// depends on the seed, its prompt and its index among the prompt's samples (generation.h),
// never on the batching: --batch changes the speed, not the samples. Lines are {"task_id", "completion"}
// (completion style, cut at the next top-level statement) or {"task_id", "solution" (the
// first fenced code block), "response" (the whole reply)}, each with "completion_ids", the
// sampled ids of the completion or reply.
// `first`, `count`: only those tasks (a rank's share), with the stop strings of the whole set.
void sample_tasks(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer, const tasks::TaskSet& tasks,
                  const SampleConfig& config, const std::string& out_path, size_t first = 0, size_t count = SIZE_MAX);

// ---- Rounds --------------------------------------------------------------------------------

// The methods a run trains: dpo, rft and grpo on the policy's own samples; rft-dpo is RFT in
// round 1, then DPO on fresh samples of its own policy, against the round's starting policy
// (the RFT model) unless --reference initial; dpo-off-policy on pairs from another model's
// samples of the training tasks (the paper's ablation); sft-chosen is SFT on the chosen side of
// DPO's pairs, one example per pair (DPO without the rejected: does the negative gradient help?).
enum class Method { dpo, rft, grpo, rft_dpo, dpo_off_policy, sft_chosen };
inline constexpr EnumNames<Method, 6> method_names{{{{Method::dpo, "dpo"},
                                                    {Method::rft, "rft"},
                                                    {Method::grpo, "grpo"},
                                                    {Method::rft_dpo, "rft-dpo"},
                                                    {Method::dpo_off_policy, "dpo-off-policy"},
                                                    {Method::sft_chosen, "sft-chosen"}}}};
// DPO's frozen reference: the policy the round starts from, or the run's starting model.
enum class Reference { round, initial };
inline constexpr EnumNames<Reference, 2> reference_names{{{{Reference::round, "round"}, {Reference::initial, "initial"}}}};

struct AlignConfig {
  std::string model, tokenizer;  // tokenizer "": the model directory's
  std::string data_dir;          // benchmarks
  std::string device = "auto", dtype = "auto";  // where sampling runs (model/device.h); training's are in dpo, rft
  std::string train_tasks = "mbpp:train";
  std::vector<std::string> eval_sets = {"humaneval", "mbpp:test"};
  // dpo and/or rft train on the policy's own samples; dpo-off-policy on pairs from
  // `off_policy_samples`, another model's samples of the training tasks (the paper's ablation).
  std::vector<Method> methods = {Method::dpo};
  std::string off_policy_samples;
  Reference reference = Reference::round;
  int rounds = 1;
  int64_t samples_per_task = 8;
  SampleConfig sampling;       // for the training tasks
  int64_t eval_max_new_tokens = 512;  // evaluation: greedy pass@1, and with eval_samples > 0 also
  int64_t eval_samples = 0;           // sampled pass@k (k in evaluation.ks up to eval_samples)
  double eval_temperature = 0.8, eval_top_p = 0.95;
  preferences::PairConfig pairs;
  size_t rft_max_per_task = 4;
  // grpo: each task's samples are a group, rewarded by `reward`; a micro-batch is one group
  // (samples_per_task completions), an optimizer step grpo.gradient_accumulation_steps groups.
  preferences::Reward reward = preferences::Reward::coarse;
  training::TrainConfig dpo, rft, grpo;  // mode is set per method
  bool stop_on_empty_round = false;  // a round without pairs ends the run instead of going on
  // Retention: a complete training keeps its exported weights (the next round's policy) and its
  // newest keep_checkpoints checkpoints; the others, optimizer state included, are removed.
  int64_t keep_checkpoints = 0;
  sandbox::Config sandbox;
  evaluation::Options execution;  // training tasks' execution (hardened by default)
  evaluation::Options evaluation;  // evaluation sets' (the official harnesses' semantics)
  std::string execution_cache;     // SQLite file of outcomes shared by rounds and runs; "": none
  std::string options_text;  // the resolved options as TOML: written to config.toml, compared on resume
  std::string version;       // of codealign, recorded in timeline.jsonl (not compared on resume)
  // Several processes (torchrun, srun, mpirun): each samples its share of every task set, runs
  // its share of the samples in its own sandbox and trains data parallel; rank 0 joins the
  // parts, makes the pairs and writes the run's files.
  distributed::Settings distributed;
};

// Evaluation tasks that share a task id or a normalised prompt with a training task, one
// line each naming both (empty: none). Normalising: lower case, whitespace collapsed; ids lose
// an "Mbpp/" prefix ("Mbpp/11" of MBPP+ and "11" of MBPP are the same task).
std::vector<std::string> overlapping_tasks(const tasks::TaskSet& train, const tasks::TaskSet& eval);

// Runs (or, with `resume`, continues) the rounds in `run_dir`, which must be new or empty or,
// with `resume`, hold a run started with the same options_text. Returns the summary JSON (also
// written to summary.json) and says on stderr how many jobs the execution cache answered.
// The run directory's files do not depend on the cache, the number of workers or
// interruptions: a resumed run ends with the files of a whole one (wall times aside).
nlohmann::json align(const AlignConfig& config, const std::string& run_dir, bool resume);

}  // namespace codealign::pipeline
