#include "training/grpo.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/error.h"

namespace codealign::training {

void check(const GrpoConfig& c) {
  if (!(c.epsilon >= 0 && c.epsilon < 1)) throw Error("training: epsilon must be in [0, 1)");
  if (c.epsilon_high >= 0 && c.epsilon_high < c.epsilon)
    throw Error("training: epsilon_high must be at least epsilon (or negative: epsilon)");
  if (!(c.beta >= 0)) throw Error("training: beta must be 0 or more");
  if (c.num_iterations < 1) throw Error("training: num_iterations must be at least 1");
  if (!(c.temperature > 0)) throw Error("training: temperature must be above 0");
  if (c.max_completion_length < 1) throw Error("training: max_completion_length must be at least 1");
}

double sample_std(const std::vector<double>& values) {
  if (values.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double mean = std::accumulate(values.begin(), values.end(), 0.0) / double(values.size()), squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / double(values.size() - 1));
}

Advantages group_advantages(const std::vector<double>& rewards, size_t group_size, RewardScaling scaling) {
  if (group_size == 0 || rewards.size() % group_size != 0)
    throw Error("training: " + std::to_string(rewards.size()) + " rewards do not split into groups of " +
                std::to_string(group_size));
  Advantages out;
  double step_std = sample_std(rewards);
  for (size_t first = 0; first < rewards.size(); first += group_size) {
    std::vector<double> group(rewards.begin() + long(first), rewards.begin() + long(first + group_size));
    double mean = std::accumulate(group.begin(), group.end(), 0.0) / double(group_size);
    double std = scaling == RewardScaling::batch ? step_std : sample_std(group);
    for (double r : group) {
      out.values.push_back(scaling == RewardScaling::none ? r - mean : (r - mean) / (std + 1e-4));
      out.zero_std.push_back(std::abs(std) <= 1e-8);  // torch.isclose(std, 0)
    }
  }
  return out;
}

std::vector<std::pair<std::string, double>> completion_metrics(const std::vector<CompletionFacts>& completions,
                                                               const std::string& reward_name) {
  std::vector<double> rewards, lengths, terminated;
  double zero_std = 0, truncated = 0;
  for (const CompletionFacts& c : completions) {
    rewards.push_back(c.reward);
    lengths.push_back(double(c.length));
    if (!c.truncated) terminated.push_back(double(c.length));
    zero_std += c.zero_std, truncated += c.truncated;
  }
  if (terminated.empty()) terminated.push_back(0.0);  // as TRL: no terminated completion logs zeros
  auto mean = [](const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); };
  auto [min_length, max_length] = std::minmax_element(lengths.begin(), lengths.end());
  auto [min_terminated, max_terminated] = std::minmax_element(terminated.begin(), terminated.end());
  double n = double(completions.size());
  return {{"reward", mean(rewards)},
          {"reward_std", sample_std(rewards)},
          {"rewards/" + reward_name + "/mean", mean(rewards)},
          {"rewards/" + reward_name + "/std", sample_std(rewards)},
          {"frac_reward_zero_std", zero_std / n},
          {"completions/mean_length", mean(lengths)},
          {"completions/min_length", *min_length},
          {"completions/max_length", *max_length},
          {"completions/clipped_ratio", truncated / n},
          {"completions/mean_terminated_length", mean(terminated)},
          {"completions/min_terminated_length", *min_terminated},
          {"completions/max_terminated_length", *max_terminated}};
}

namespace {

torch::Tensor masked_mean(const torch::Tensor& x, const torch::Tensor& mask) {
  return (x * mask).sum() / mask.sum().clamp_min(1.0);
}

}  // namespace

GrpoLoss grpo_loss(const GrpoTokens& t, const GrpoConfig& c, double divisor) {
  int64_t B = t.sequences;
  auto per_sequence = [&](const torch::Tensor& x) { return torch::zeros({B}, x.options()).index_add(0, t.rows, x); };
  torch::Tensor old = t.old_logps.defined() ? t.old_logps : t.logps.detach();
  torch::Tensor ratio = torch::exp(t.logps - old);
  double low = 1 - c.epsilon, high = 1 + c.high_epsilon();
  torch::Tensor per_token = -torch::min(ratio * t.advantages, ratio.clamp(low, high) * t.advantages);
  torch::Tensor kl;
  if (c.beta != 0) {
    torch::Tensor log_ratio = t.reference_logps - t.logps;
    kl = (torch::exp(log_ratio) - log_ratio - 1) * ratio;  // TRL's use_bias_correction_kl (its default)
    per_token = per_token + c.beta * kl;
  }
  torch::Tensor masked = per_token * t.mask, sequence_tokens = per_sequence(t.mask);
  GrpoLoss out;
  switch (c.loss_type) {
    case GrpoLossType::grpo: out.loss = (per_sequence(masked) / sequence_tokens.clamp_min(1.0)).mean(); break;
    case GrpoLossType::bnpo: out.loss = masked.sum() / t.mask.sum().clamp_min(1.0); break;
    case GrpoLossType::dr_grpo: out.loss = masked.sum() / double(B * c.max_completion_length); break;
    case GrpoLossType::dapo: out.loss = masked.sum(); break;
  }
  out.loss = out.loss / divisor;

  torch::NoGradGuard no_grad;
  torch::Tensor r = ratio.detach(), mask = t.mask;
  torch::Tensor low_clipped = ((r < low) & (t.advantages < 0)).to(torch::kFloat32);
  torch::Tensor high_clipped = ((r > high) & (t.advantages > 0)).to(torch::kFloat32);
  torch::Tensor region = ((low_clipped + high_clipped) > 0).to(torch::kFloat32);
  // Per completion (NaN for a fully masked one, which TRL's nanmin/nanmax skip).
  torch::Tensor low_per_sequence = per_sequence(low_clipped * mask) / sequence_tokens;
  torch::Tensor high_per_sequence = per_sequence(high_clipped * mask) / sequence_tokens;
  auto nan_reduce = [](const torch::Tensor& x, bool minimum) {
    torch::Tensor kept = x.index({x.isnan().logical_not()});
    return kept.numel() ? (minimum ? kept.min() : kept.max()) : torch::full({}, NAN, x.options());
  };
  std::vector<std::pair<std::string, torch::Tensor>> values = {
      {"clip_ratio/low_mean", masked_mean(low_clipped, mask)},
      {"clip_ratio/high_mean", masked_mean(high_clipped, mask)},
      {"clip_ratio/region_mean", masked_mean(region, mask)},
      {"clip_ratio/low_min", nan_reduce(low_per_sequence, true)},
      {"clip_ratio/high_max", nan_reduce(high_per_sequence, false)}};
  if (kl.defined()) values.emplace_back("kl", masked_mean(kl.detach(), mask));
  if (t.entropy.defined()) values.emplace_back("entropy", masked_mean(t.entropy, mask));
  std::vector<torch::Tensor> stacked;
  for (const auto& [name, value] : values) stacked.push_back(value.to(torch::kFloat32));
  torch::Tensor host = torch::stack(stacked).to(torch::kCPU, torch::kFloat64);  // one read from the device
  for (size_t i = 0; i < values.size(); ++i) out.metrics.emplace_back(values[i].first, host[int64_t(i)].item<double>());
  return out;
}

}  // namespace codealign::training
