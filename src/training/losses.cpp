#include "training/losses.h"

#include "common/error.h"

namespace codealign::training {

void check(const LossConfig& c) {
  if (c.beta <= 0) throw Error("training: beta must be positive");
  if (c.label_smoothing < 0 || c.label_smoothing >= 0.5) throw Error("training: label_smoothing must be in [0, 0.5)");
  if (c.rpo_alpha < 0) throw Error("training: rpo_alpha must not be negative");
  if (c.dpop_lambda < 0) throw Error("training: dpop_lambda must not be negative");
  if (c.dpop_lambda > 0 && c.loss_type != LossType::sigmoid)
    throw Error("training: dpop_lambda applies to the sigmoid loss only (got " + loss_types.name(c.loss_type) + ")");
}

LossOutput preference_loss(const PairLogps& p, const LossConfig& c) {
  namespace F = torch::nn::functional;
  const double beta = c.beta, eps = c.label_smoothing;
  torch::Tensor losses, chosen_rewards, rejected_rewards;
  if (c.loss_type == LossType::simpo) {
    // SimPO eq. 6: length-normalised log-probs as the reward, no reference, margin gamma.
    torch::Tensor chosen = p.chosen / p.chosen_tokens, rejected = p.rejected / p.rejected_tokens;
    torch::Tensor logits = (chosen - rejected) - c.simpo_gamma / beta;
    losses = -F::logsigmoid(beta * logits) * (1 - eps) - F::logsigmoid(-beta * logits) * eps;
    chosen_rewards = beta * chosen;
    rejected_rewards = beta * rejected;
  } else {
    torch::Tensor chosen = p.chosen, rejected = p.rejected, ref_chosen = p.reference_chosen,
                  ref_rejected = p.reference_rejected;
    // IPO and sigmoid_norm work on average per-token log-probs (as TRL does).
    if (c.loss_type == LossType::ipo || c.loss_type == LossType::sigmoid_norm) {
      chosen = chosen / p.chosen_tokens;
      rejected = rejected / p.rejected_tokens;
      ref_chosen = ref_chosen / p.chosen_tokens;
      ref_rejected = ref_rejected / p.rejected_tokens;
    }
    // h = log pi(y_w)/pi_ref(y_w) - log pi(y_l)/pi_ref(y_l)
    torch::Tensor logits = (chosen - ref_chosen) - (rejected - ref_rejected);
    if (c.dpop_lambda > 0)  // DPOP eq. 3: lambda * max(0, log pi_ref(y_w) - log pi(y_w)) inside the sigmoid
      logits = logits - c.dpop_lambda * torch::relu(ref_chosen - chosen);
    if (c.loss_type == LossType::sigmoid || c.loss_type == LossType::sigmoid_norm)  // DPO eq. 7; cDPO
      losses = -F::logsigmoid(beta * logits) * (1 - eps) - F::logsigmoid(-beta * logits) * eps;
    else if (c.loss_type == LossType::robust)  // rDPO eq. 8: unbiased under flip rate eps
      losses = (-F::logsigmoid(beta * logits) * (1 - eps) + F::logsigmoid(-beta * logits) * eps) / (1 - 2 * eps);
    else if (c.loss_type == LossType::hinge)  // SLiC: max(0, 1 - beta h)
      losses = torch::relu(1 - beta * logits);
    else  // IPO eq. 17: (h - 1/(2 beta))^2
      losses = (logits - 1 / (2 * beta)).pow(2);
    // The rewards are of the whole sequences for every type (IPO's averaging is the loss's
    // alone), as TRL logs them.
    chosen_rewards = beta * (p.chosen - p.reference_chosen);
    rejected_rewards = beta * (p.rejected - p.reference_rejected);
  }
  torch::Tensor loss = losses.mean();
  if (c.rpo_alpha > 0)  // RPO: NLL of the chosen answers, averaged over all their tokens (as TRL)
    loss = loss + c.rpo_alpha * (-p.chosen.sum() / p.chosen_tokens.sum());
  return {loss, chosen_rewards.detach(), rejected_rewards.detach()};
}

}  // namespace codealign::training
