// GRPO (Shao et al. 2024) as TRL 1.16's GRPOTrainer computes it: group-relative advantages,
// a per-token clipped importance ratio, an optional k3 KL estimate to a reference (with TRL's
// bias correction by the ratio), and the normalisations of its loss types (training/config.h).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "training/config.h"

namespace codealign::training {

// Throws Error naming the field at fault.
void check(const GrpoConfig& config);

// The advantages of one optimizer step's completions, laid out group after group (group_size
// each): (r - group mean) / (std + 1e-4), the std Bessel-corrected, of the group (`group`), of
// the step (`batch`), or r - group mean (`none`). zero_std: whether that std is 0 (TRL's
// frac_reward_zero_std; for `none`, the group's).
struct Advantages {
  std::vector<double> values;
  std::vector<bool> zero_std;
};
Advantages group_advantages(const std::vector<double>& rewards, size_t group_size, RewardScaling scaling);

// TRL's metrics of a step's completions: reward, reward_std, rewards/<name>/mean|std,
// frac_reward_zero_std, completions/{mean,min,max}_length, completions/clipped_ratio and
// completions/{mean,min,max}_terminated_length (lengths in completion tokens, end token included).
struct CompletionFacts {
  double reward = 0;
  int64_t length = 0;
  bool truncated = false, zero_std = false;
};
std::vector<std::pair<std::string, double>> completion_metrics(const std::vector<CompletionFacts>& completions,
                                                               const std::string& reward_name);

// The sample standard deviation (Bessel-corrected; NaN below 2 values), as TRL's nanstd.
double sample_std(const std::vector<double>& values);

// One micro-batch, token by token in training/logprobs.h's TokenLogps order ([N] each).
struct GrpoTokens {
  torch::Tensor logps;            // the policy's, differentiable
  torch::Tensor old_logps;        // the policy's when the completions were taken; undefined: logps (one iteration)
  torch::Tensor reference_logps;  // needed when beta != 0
  torch::Tensor entropy;          // optional, for the metric
  torch::Tensor advantages;       // its completion's
  torch::Tensor mask;             // float: 0 on the tokens of a masked (truncated) completion, else 1
  torch::Tensor rows;             // the completion (0..sequences-1) of each token
  int64_t sequences = 0;
};

struct GrpoLoss {
  torch::Tensor loss;                                   // this micro-batch's share of the step's loss
  std::vector<std::pair<std::string, double>> metrics;  // TRL's names, this micro-batch's values
};

// How grpo_loss's metrics combine over the parts of a micro-batch (data-parallel ranks): these
// two as the minimum and the maximum of the parts', every other one as a token mean.
inline constexpr std::string_view grpo_min_metric = "clip_ratio/low_min", grpo_max_metric = "clip_ratio/high_max";

// `divisor`: what the loss type divides by across the optimizer step: its micro-batches for
// grpo, bnpo and dr_grpo; its unmasked completion tokens for dapo.
GrpoLoss grpo_loss(const GrpoTokens& tokens, const GrpoConfig& config, double divisor);

}  // namespace codealign::training
