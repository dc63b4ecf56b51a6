// Every loss type, and its gradients, against an independent float64 reference written from
// the papers (tests/training/reference_losses.py); and the chunked log-probs against plain
// log_softmax with autograd, also under mixed precision; the fused AdamW against torch's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/device.h"
#include "support/test_support.h"
#include "training/logprobs.h"
#include "training/losses.h"
#include "training/optimizer.h"

namespace codealign::testing {
namespace {

using training::LossConfig;

std::vector<double> values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

TEST(Losses, match_the_float64_reference_with_gradients) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const int64_t B = 6;
  torch::Tensor chosen = -20 - 30 * torch::rand({B}, generator, opts), rejected = -20 - 30 * torch::rand({B}, generator, opts);
  torch::Tensor ref_chosen = chosen + torch::randn({B}, generator, opts), ref_rejected = rejected + torch::randn({B}, generator, opts);
  torch::Tensor chosen_tokens = torch::randint(5, 40, {B}, generator, opts), rejected_tokens = torch::randint(5, 40, {B}, generator, opts);
  std::vector<LossConfig> configs;
  using training::LossType;
  for (const auto& [type, name] : training::loss_types.entries)
    for (double smoothing : {0.0, 0.2})
      for (double rpo : {0.0, 0.5})
        for (double dpop : {0.0, 5.0})
          if (dpop == 0 || type == LossType::sigmoid)
            configs.push_back({type, type == LossType::ipo ? 0.5 : 0.2,
                               type == LossType::hinge || type == LossType::ipo ? 0.0 : smoothing, 0.7, rpo, dpop});
  // The DPOP penalty is live: the policy's chosen log-probs fall below the reference's in some pairs.
  ASSERT_TRUE((ref_chosen > chosen).any().item<bool>() && (ref_chosen < chosen).any().item<bool>());
  // Policy gradients from codealign, and every case's input for the reference, in one call.
  nlohmann::json cases = nlohmann::json::array();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> grads;
  std::vector<double> losses;
  for (const LossConfig& config : configs) {
    torch::Tensor pc = chosen.clone().requires_grad_(true), pr = rejected.clone().requires_grad_(true);
    auto out = training::preference_loss({pc, pr, ref_chosen, ref_rejected, chosen_tokens, rejected_tokens}, config);
    out.loss.backward();
    losses.push_back(out.loss.item<double>());
    grads.emplace_back(pc.grad(), pr.grad());
    cases.push_back({{"config", {{"loss_type", training::loss_types.name(config.loss_type)}, {"beta", config.beta}, {"label_smoothing", config.label_smoothing},
                                 {"simpo_gamma", config.simpo_gamma}, {"rpo_alpha", config.rpo_alpha}, {"dpop_lambda", config.dpop_lambda}}},
                     {"chosen", values(chosen)}, {"rejected", values(rejected)}, {"reference_chosen", values(ref_chosen)},
                     {"reference_rejected", values(ref_rejected)}, {"chosen_tokens", values(chosen_tokens)},
                     {"rejected_tokens", values(rejected_tokens)}});
  }
  TempDir dir;
  write_text(dir.path + "/cases.json", cases.dump());
  auto run = run_command(std::string(CODEALIGN_PYTHON) + " " + std::string(CODEALIGN_TEST_SOURCE_DIR) + "/training/reference_losses.py " + dir.path + "/cases.json");
  ASSERT_EQ(run.status, 0) << run.output;
  auto reference = nlohmann::json::parse(run.output);
  ASSERT_EQ(reference.size(), configs.size());
  for (size_t k = 0; k < configs.size(); ++k) {
    const LossConfig& config = configs[k];
    std::string name = training::loss_types.name(config.loss_type) + " smoothing=" + std::to_string(config.label_smoothing) + " rpo=" + std::to_string(config.rpo_alpha) + " dpop=" + std::to_string(config.dpop_lambda);
    EXPECT_NEAR(losses[k], reference[k]["loss"].get<double>(), 1e-12) << name;
    auto gc = values(grads[k].first), gr = values(grads[k].second);
    for (int64_t i = 0; i < B; ++i) {
      EXPECT_NEAR(gc[size_t(i)], reference[k]["grad_chosen"][size_t(i)].get<double>(), 1e-12) << name << " chosen " << i;
      EXPECT_NEAR(gr[size_t(i)], reference[k]["grad_rejected"][size_t(i)].get<double>(), 1e-12) << name << " rejected " << i;
    }
  }
}

// A loss type is checked where it enters (options, config files), by name.
TEST(Losses, unknown_types_are_refused_with_the_valid_ones) {
  try {
    training::loss_types.parse("kto", "training: loss_type");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "training: loss_type 'kto' is unknown (valid: sigmoid, sigmoid_norm, ipo, hinge, robust, simpo)");
  }
  EXPECT_EQ(training::loss_types.parse("simpo", "training: loss_type"), training::LossType::simpo);
  auto run = run_codealign("train dpo --loss-type kto --model m --data d --out o");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("--loss-type: kto not in {sigmoid,sigmoid_norm,ipo,hinge,robust,simpo}"), std::string::npos) << run.output;
}

TEST(ChunkedLogps, equal_log_softmax_and_its_gradients) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  torch::Tensor hidden = torch::randn({37, 16}, generator).requires_grad_(true);
  torch::Tensor weight = torch::randn({101, 16}, generator).requires_grad_(true);
  torch::Tensor targets = torch::randint(0, 101, {37}, generator);
  torch::Tensor upstream = torch::randn({37}, generator);
  auto plain = torch::log_softmax(torch::matmul(hidden, weight.t()), 1).gather(1, targets.unsqueeze(1)).squeeze(1);
  (plain * upstream).sum().backward();
  auto grad_hidden = hidden.grad().clone(), grad_weight = weight.grad().clone();
  hidden.grad().zero_();
  weight.grad().zero_();
  auto chunked = training::chunked_token_logps(hidden, weight, targets, 8);
  (chunked * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(chunked, plain, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(hidden.grad(), grad_hidden, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(weight.grad(), grad_weight, 1e-5, 1e-5));
}

// Under bfloat16 autocast the products run in bfloat16, forward and backward (the backward is
// outside autocast's reach), and stay within bfloat16's precision of the float32 ones.
TEST(ChunkedLogps, mixed_precision_stays_close_to_float32_in_both_passes) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(6);
  torch::Tensor hidden = torch::randn({37, 64}, generator).requires_grad_(true);
  torch::Tensor weight = (0.1 * torch::randn({101, 64}, generator)).requires_grad_(true);
  torch::Tensor targets = torch::randint(0, 101, {37}, generator);
  auto full = training::chunked_token_logps(hidden, weight, targets, 8);
  full.sum().backward();
  auto grad_hidden = hidden.grad().clone(), grad_weight = weight.grad().clone();
  hidden.grad().zero_();
  weight.grad().zero_();
  torch::Tensor low;
  {
    model::MixedPrecision scope(torch::kCPU, torch::kBFloat16);
    low = training::chunked_token_logps(hidden, weight, targets, 8);
  }
  low.sum().backward();
  EXPECT_EQ(low.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch::equal(low, full));  // bfloat16 products did run
  EXPECT_TRUE(torch::allclose(low, full, 2e-2, 2e-2));
  EXPECT_TRUE(torch::allclose(hidden.grad(), grad_hidden, 2e-2, 2e-2));
  EXPECT_TRUE(torch::allclose(weight.grad(), grad_weight, 2e-2, 2e-2));
}

// The fused AdamW takes torch::optim::AdamW's steps (the same formula, one kernel), with
// weight decay on one group only, and its state survives a save and load.
TEST(FusedAdamW, steps_as_torch_adamw_and_resumes_from_its_state) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
  torch::Tensor matrix = torch::randn({5, 4}, generator), norm = torch::randn({4}, generator);
  auto loss_of = [](const torch::Tensor& m, const torch::Tensor& n, int step) {
    return ((m * n).sin().sum() + (m * m).sum() * 0.1) * (1.0 + step);
  };
  torch::Tensor m1 = matrix.clone().requires_grad_(true), n1 = norm.clone().requires_grad_(true);
  torch::Tensor m2 = matrix.clone().requires_grad_(true), n2 = norm.clone().requires_grad_(true);
  auto options = torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-6);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{m1}, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{n1}, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(options).weight_decay(0.0)));
  torch::optim::AdamW reference(groups, options);
  training::FusedAdamW fused({m2}, {n2}, {0.9, 0.95, 1e-6, 0.1});
  TempDir dir;
  for (int step = 0; step < 4; ++step) {
    loss_of(m1, n1, step).backward();
    reference.step();
    reference.zero_grad();
    loss_of(m2, n2, step).backward();
    fused.step(1e-2);
    fused.zero_grad();
    if (step == 1) {  // a fresh optimizer from the saved state goes on identically
      fused.save(dir.path + "/optimizer.pt");
      training::FusedAdamW restored({m2}, {n2}, {0.9, 0.95, 1e-6, 0.1});
      restored.load(dir.path + "/optimizer.pt");
      fused = std::move(restored);
    }
  }
  EXPECT_FALSE(torch::allclose(m2, matrix, 1e-3, 1e-3));  // it moved
  EXPECT_TRUE(torch::allclose(m1, m2, 1e-6, 1e-7)) << (m1 - m2).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(n1, n2, 1e-6, 1e-7)) << (n1 - n2).abs().max().item<double>();
  training::FusedAdamW other({torch::zeros({3})}, {}, {});
  EXPECT_NE(error_of([&] { other.load(dir.path + "/optimizer.pt"); })
                .find("training: the optimizer state '" + dir.path + "/optimizer.pt' holds 6 tensors, 3 expected"),
            std::string::npos);
}

}  // namespace
}  // namespace codealign::testing
