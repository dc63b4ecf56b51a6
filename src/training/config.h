// What a training run is told: the settings of `train` (TRL's names where TRL has them), its
// modes as enums, and the paths it reads and writes. Torch-free, so that the parts and
// commands that only carry a configuration (options, the pipeline's) need no torch header.
#pragma once
#include <cstdint>
#include <string>

#include "common/enum_names.h"
#include "distributed/world.h"
#include "model/config.h"
#include "training/data.h"

namespace codealign::training {

// sft: NLL of completions; dpo: pairs, loss.loss_type; grpo: groups of rewarded completions.
enum class TrainMode { sft, dpo, grpo };
inline constexpr EnumNames<TrainMode, 3> train_modes{
    {{{TrainMode::sft, "sft"}, {TrainMode::dpo, "dpo"}, {TrainMode::grpo, "grpo"}}}};

// Preference losses (training/losses.h says each one's paper).
enum class LossType { sigmoid, sigmoid_norm, ipo, hinge, robust, simpo };
inline constexpr EnumNames<LossType, 6> loss_types{{{{LossType::sigmoid, "sigmoid"},
                                                     {LossType::sigmoid_norm, "sigmoid_norm"},
                                                     {LossType::ipo, "ipo"},
                                                     {LossType::hinge, "hinge"},
                                                     {LossType::robust, "robust"},
                                                     {LossType::simpo, "simpo"}}}};

// The learning rate after warm-up (transformers' schedules).
enum class Scheduler { cosine, linear, constant };
inline constexpr EnumNames<Scheduler, 3> schedulers{
    {{{Scheduler::cosine, "cosine"}, {Scheduler::linear, "linear"}, {Scheduler::constant, "constant"}}}};

struct LossConfig {
  LossType loss_type = LossType::sigmoid;
  double beta = 0.1;             // strength of the KL constraint (SimPO: reward scale)
  double label_smoothing = 0.0;  // cDPO/robust: assumed fraction of flipped labels, < 0.5
  double simpo_gamma = 0.5;      // SimPO's target reward margin
  double rpo_alpha = 0.0;        // weight of the chosen NLL term (0: off)
  // DPOP (Pal et al. 2024): weight of the penalty on the chosen answer's log-prob falling below
  // the reference's, inside the sigmoid (0: off; the paper uses 50). sigmoid only.
  double dpop_lambda = 0.0;
};

// GRPO's normalisations, as TRL 1.16 names them: grpo (per-sequence token means, averaged;
// Shao et al. 2024), bnpo (one token mean per micro-batch), dr_grpo (sum over a fixed
// max_completion_length per sequence; Liu et al. 2025), dapo (one token mean over the
// optimizer step's tokens; Yu et al. 2025; TRL's default).
enum class GrpoLossType { grpo, bnpo, dr_grpo, dapo };
inline constexpr EnumNames<GrpoLossType, 4> grpo_loss_types{{{{GrpoLossType::grpo, "grpo"},
                                                            {GrpoLossType::bnpo, "bnpo"},
                                                            {GrpoLossType::dr_grpo, "dr_grpo"},
                                                            {GrpoLossType::dapo, "dapo"}}}};
// What a completion's advantage is divided by: its group's reward std, the step's, or nothing.
enum class RewardScaling { group, batch, none };
inline constexpr EnumNames<RewardScaling, 3> reward_scalings{
    {{{RewardScaling::group, "group"}, {RewardScaling::batch, "batch"}, {RewardScaling::none, "none"}}}};

// GRPO (Shao et al. 2024) as TRL's GRPOTrainer computes it; defaults are TRL's.
struct GrpoConfig {
  GrpoLossType loss_type = GrpoLossType::dapo;
  RewardScaling scale_rewards = RewardScaling::group;
  double epsilon = 0.2;        // the ratio is clipped to [1 - epsilon, 1 + epsilon_high]
  double epsilon_high = -1;    // < 0: epsilon
  double beta = 0.0;           // weight of the k3 KL estimate to the reference (0: no reference)
  int64_t num_iterations = 1;  // optimizer passes over each step's completions (> 1: ratios move)
  bool mask_truncated_completions = false;  // completions cut before their end token get no loss
  double temperature = 1.0;                 // the sampling temperature: logits are divided by it
  int64_t max_completion_length = 512;      // dr_grpo's per-sequence normaliser
  std::string reward_name = "reward";       // metrics rewards/<name>/mean|std
  double high_epsilon() const { return epsilon_high < 0 ? epsilon : epsilon_high; }
};

struct TrainConfig {
  TrainMode mode = TrainMode::dpo;
  LossConfig loss;
  GrpoConfig grpo;
  double learning_rate = 0;  // 0: 5e-7 for dpo, 2e-5 for sft, 1e-6 for grpo (TRL's and the papers' usual values)
  double weight_decay = 0.0;  // AdamW, on matrices only (not norms and biases)
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  Scheduler lr_scheduler_type = Scheduler::cosine;  // after warm-up
  double warmup_ratio = 0.1;                 // fraction of the optimizer steps
  // Pairs (dpo), examples (sft) or completions (grpo) per micro-batch. GRPO's optimizer step
  // takes whole groups: batch size x accumulation must be a multiple of the group size.
  int64_t per_device_train_batch_size = 4;
  int64_t gradient_accumulation_steps = 1;
  int64_t num_train_epochs = 1;
  int64_t max_steps = -1;  // optimizer steps; -1: the epochs decide
  double max_grad_norm = 1.0;
  int64_t max_length = 1024;  // prompt + completion tokens; see training/data.h for truncation
  int64_t save_steps = 0;     // checkpoint every N steps (0: only at the end)
  // dpo with held-out pairs (TrainPaths::eval_data): evaluate them every N steps and after the
  // last (0: after the last only), TRL's eval_ metrics in the step's line of metrics.jsonl.
  int64_t eval_steps = 0;
  uint64_t seed = 42;         // data order
  // Micro-batches of similar lengths, shuffled (seed + epoch); false: the file's order, batch
  // after batch (transformers with a SequentialSampler), for runs compared example by example.
  bool shuffle = true;
  int64_t logits_chunk_tokens = 1024;
  // model/device.h's specs. bfloat16 is mixed precision: float32 master weights and optimizer
  // state, matrix products (forward and backward) in bfloat16 under autocast; with LoRA the
  // frozen base is held in bfloat16 and the adapters in float32.
  std::string device = "auto", dtype = "auto";
  // Activation checkpointing (model.h): about a third more compute for most of the
  // activations' memory; with gradient_checkpointing_layers > 0 only the first that many
  // layers recompute (less memory saved, less compute spent).
  bool gradient_checkpointing = false;
  int64_t gradient_checkpointing_layers = 0;
  // DPO: each pair's chosen and rejected in one row after their prompt, which is computed once
  // (training/logprobs.h): 768 instead of 1024 tokens a pair for 256-token prompts and
  // completions. The log-probs are the same up to float rounding; a batch whose pairs do not
  // share their prompt ids runs unpacked.
  bool share_prompt = true;
  // LoRA: rank > 0 trains adapters only; the reference is the base model (adapters off), and
  // the output is the merged model plus the adapters in output/adapter (PEFT layout).
  model::LoraConfig lora;
  PromptRule prompts;  // plain text, or an instruct model's chat format (training/data.h)
  // Several processes (torchrun, srun, mpirun; distributed/world.h): data parallel. Each rank
  // takes its share of every micro-batch of batch size x world size, the gradients are summed
  // over ranks, and losses are normalised by the global counts, so N ranks train as one
  // process with N times the batch size.
  distributed::Settings distributed;
  // 1: ZeRO stage 1, each rank keeping AdamW's state for its 1/N of the weights
  // (training/data_parallel.h); 0: every rank the whole state.
  int64_t zero_stage = 0;
};
// Throws Error naming the field at fault (defined with the trainer, which knows the devices).
void check(const TrainConfig& config);

struct TrainPaths {
  std::string model, tokenizer, data, output;  // tokenizer "": the model directory's
  // DPO's frozen reference (TRL's ref_model); "": the model trained from (with LoRA, the base
  // with adapters off). Must share the model's tokenizer. align uses it to keep the initial
  // model as the reference over rounds.
  std::string reference;
  // dpo: held-out pairs (the same format as data), evaluated as TrainConfig::eval_steps says; "": none.
  std::string eval_data;
  const std::string& reference_model() const { return reference.empty() ? model : reference; }
};

}  // namespace codealign::training
