// Preference losses of the DPO family on per-sequence log-probabilities, each from its
// paper, with TRL's names: sigmoid (DPO, Rafailov et al. 2023; label_smoothing > 0 is cDPO;
// dpop_lambda > 0 is DPOP, Pal et al. 2024), sigmoid_norm (DPO on per-token log-ratios: Tülu 3's
// dpo_norm, Lambert et al. 2024), ipo (Azar et al. 2023), hinge (SLiC, Zhao et al. 2023), robust
// (Chowdhury et al. 2024), simpo (Meng et al. 2024; reference-free), and an optional SFT term on
// the chosen answer (RPO, Pang et al. 2024).
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

#include "training/config.h"

namespace codealign::training {

// Throws Error naming the field at fault.
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
