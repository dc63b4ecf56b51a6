// Preference losses of the DPO family on per-sequence log-probabilities, each from its
// paper, with TRL's names: sigmoid (DPO, Rafailov et al. 2023; label_smoothing > 0 is cDPO),
// ipo (Azar et al. 2023), hinge (SLiC, Zhao et al. 2023), robust (Chowdhury et al. 2024),
// simpo (Meng et al. 2024; reference-free), and an optional SFT term on the chosen answer
// (RPO, Pang et al. 2024).
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

namespace codealign::training {

struct LossConfig {
  std::string loss_type = "sigmoid";  // sigmoid, ipo, hinge, robust, simpo
  double beta = 0.1;                  // strength of the KL constraint (SimPO: reward scale)
  double label_smoothing = 0.0;       // cDPO/robust: assumed fraction of flipped labels, < 0.5
  double simpo_gamma = 0.5;           // SimPO's target reward margin
  double rpo_alpha = 0.0;             // weight of the chosen NLL term (0: off)
};
const std::vector<std::string>& loss_types();
// Throws Error naming the field and the valid values.
void check(const LossConfig& config);

// Per-sequence inputs, [B] each: summed completion log-probs of the policy and the reference
// (the reference is unused by simpo), and completion token counts.
struct PairLogps {
  torch::Tensor chosen, rejected, reference_chosen, reference_rejected;
  torch::Tensor chosen_tokens, rejected_tokens;
};

struct LossOutput {
  torch::Tensor loss;                               // scalar, mean over the batch
  torch::Tensor chosen_rewards, rejected_rewards;   // [B], detached
};

LossOutput preference_loss(const PairLogps& logps, const LossConfig& config);

}  // namespace codealign::training
