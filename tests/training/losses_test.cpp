// Every loss type, and its gradients, against an independent float64 reference written from
// the papers (tests/training/reference_losses.py); and the chunked log-probs against plain
// log_softmax with autograd.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "support/test_support.h"
#include "training/logprobs.h"
#include "training/losses.h"

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
  for (const std::string& type : training::loss_types())
    for (double smoothing : {0.0, 0.2})
      for (double rpo : {0.0, 0.5}) configs.push_back({type, type == "ipo" ? 0.5 : 0.2, type == "hinge" || type == "ipo" ? 0.0 : smoothing, 0.7, rpo});
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
    cases.push_back({{"config", {{"loss_type", config.loss_type}, {"beta", config.beta}, {"label_smoothing", config.label_smoothing},
                                 {"simpo_gamma", config.simpo_gamma}, {"rpo_alpha", config.rpo_alpha}}},
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
    std::string name = config.loss_type + " smoothing=" + std::to_string(config.label_smoothing) + " rpo=" + std::to_string(config.rpo_alpha);
    EXPECT_NEAR(losses[k], reference[k]["loss"].get<double>(), 1e-12) << name;
    auto gc = values(grads[k].first), gr = values(grads[k].second);
    for (int64_t i = 0; i < B; ++i) {
      EXPECT_NEAR(gc[size_t(i)], reference[k]["grad_chosen"][size_t(i)].get<double>(), 1e-12) << name << " chosen " << i;
      EXPECT_NEAR(gr[size_t(i)], reference[k]["grad_rejected"][size_t(i)].get<double>(), 1e-12) << name << " rejected " << i;
    }
  }
}

TEST(Losses, unknown_types_are_refused_with_the_valid_ones) {
  try {
    training::check(LossConfig{"kto"});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "training: loss_type 'kto' is unknown (valid: sigmoid, ipo, hinge, robust, simpo)");
  }
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

}  // namespace
}  // namespace codealign::testing
