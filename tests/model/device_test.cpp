// Devices and precisions: the --device/--dtype specs (a GPU asked for where there is none is
// a clear error), autocast scopes, bfloat16 forwards against float32, and the mask-free
// attention of right-padded batches against the masked one.
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/device.h"
#include "model/model.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

model::CausalLM& stories(torch::Dtype dtype) {
  static model::CausalLM f32 = model::CausalLM::load(data_dir() + "/models/stories260K/stories260K.bin");
  static model::CausalLM bf16 = model::CausalLM::load(data_dir() + "/models/stories260K/stories260K.bin", torch::kBFloat16);
  return dtype == torch::kBFloat16 ? bf16 : f32;
}

TEST(Device, specs_resolve_or_fail_naming_the_spec) {
  EXPECT_EQ(model::resolve_device("cpu"), torch::Device(torch::kCPU));
  bool gpu = torch::cuda::is_available();
  EXPECT_EQ(model::resolve_device("auto"), gpu ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU));
  if (gpu) {
    EXPECT_EQ(model::resolve_device("cuda:0"), torch::Device(torch::kCUDA, 0));
  } else {
    EXPECT_EQ(error_of([] { model::resolve_device("cuda"); }),
              "--device cuda: torch sees no CUDA GPU on this machine (no driver, no device, or CUDA_VISIBLE_DEVICES "
              "hides them); use --device cpu or auto");
    EXPECT_NE(error_of([] { model::resolve_device("cuda:1"); }).find("--device cuda:1: torch sees no CUDA GPU"),
              std::string::npos);
  }
  EXPECT_EQ(error_of([] { model::resolve_device("cuda:99"); }).substr(0, 16), "--device cuda:99");
  EXPECT_EQ(error_of([] { model::resolve_device("gpu"); }), "--device 'gpu' is unknown (valid: auto, cpu, cuda, cuda:N)");
  EXPECT_EQ(error_of([] { model::resolve_device("cuda:x"); }),
            "--device 'cuda:x': the GPU index must be a number (e.g. cuda:0)");
  EXPECT_EQ(model::resolve_dtype("auto", torch::kCPU), torch::kFloat32);
  EXPECT_EQ(model::resolve_dtype("auto", torch::Device(torch::kCUDA, 0)), torch::kBFloat16);
  EXPECT_EQ(model::resolve_dtype("float16", torch::kCPU), torch::kFloat16);
  EXPECT_EQ(error_of([] { model::resolve_dtype("float64", torch::kCPU); }),
            "--dtype 'float64' is unknown (valid: auto, float32, bfloat16, float16)");
}

TEST(Device, mixed_precision_runs_products_low_and_ends_with_its_scope) {
  torch::Tensor a = torch::randn({4, 8}), b = torch::randn({8, 3});
  {
    model::MixedPrecision scope(torch::kCPU, torch::kBFloat16);
    EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kBFloat16);
    EXPECT_EQ((a + 1).scalar_type(), torch::kFloat32);  // elementwise work stays as it is
  }
  EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kFloat32);
  model::MixedPrecision full(torch::kCPU, torch::kFloat32);  // float32: nothing changes
  EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kFloat32);
  EXPECT_EQ(model::peak_memory_bytes(torch::kCPU), 0);
}

// A real checkpoint in bfloat16 gives float32's logits to bfloat16's precision and mostly the
// same next tokens.
TEST(Device, bfloat16_forward_follows_float32) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::Tensor ids = torch::randint(3, 512, {4, 48}, generator);
  torch::Tensor positions = torch::arange(48).unsqueeze(0).expand({4, 48});
  torch::Tensor valid = torch::ones({4, 48}, torch::kBool);
  torch::Tensor full = stories(torch::kFloat32).forward(ids, positions, valid);
  torch::Tensor low = stories(torch::kBFloat16).forward(ids, positions, valid);
  EXPECT_EQ(low.scalar_type(), torch::kBFloat16);
  double scale = full.abs().max().item<double>();
  double worst = (low.to(torch::kFloat32) - full).abs().max().item<double>();
  EXPECT_LT(worst, 0.05 * scale) << "worst " << worst << " of " << scale;
  EXPECT_GT(worst, 0.0);  // it did run in bfloat16
  double agree = (low.argmax(-1) == full.argmax(-1)).to(torch::kFloat32).mean().item<double>();
  EXPECT_GT(agree, 0.9);
}

// Right padding with the causal mask alone (the mask-free fused kernels) gives every real
// token what the explicit mask gives it.
TEST(Device, right_padded_attention_equals_the_masked_one_on_real_tokens) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(8);
  torch::Tensor ids = torch::randint(3, 512, {3, 20}, generator);
  torch::Tensor valid = torch::ones({3, 20}, torch::kBool);
  valid[1].slice(0, 12).fill_(false);
  valid[2].slice(0, 5).fill_(false);
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  auto& m = stories(torch::kFloat32);
  torch::Tensor masked = m.hidden_states(ids, positions, valid);
  torch::Tensor causal = m.hidden_states(ids, positions, valid, nullptr, /*right_padded=*/true);
  torch::Tensor real = valid.unsqueeze(-1);
  EXPECT_TRUE(torch::allclose(masked * real, causal * real, 1e-5, 1e-5));
  EXPECT_FALSE(torch::allclose(masked, causal, 1e-5, 1e-5));  // padding positions differ: the mask was used
}

// Activation checkpointing, of every layer or of the first one only, gives the gradients of the
// plain backward, in float32 and under bfloat16 autocast (which the recompute must set again).
TEST(Device, activation_checkpointing_gives_the_plain_gradients) {
  model::CausalLM m = model::CausalLM::load(data_dir() + "/models/stories260K/stories260K.bin");
  for (auto& [name, p] : m.parameters()) p.requires_grad_(true);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(9);
  torch::Tensor ids = torch::randint(3, 512, {2, 24}, generator);
  torch::Tensor valid = torch::ones({2, 24}, torch::kBool);
  valid[1].slice(0, 16).fill_(false);
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  torch::Tensor weights = torch::randn({2, 24, 64}, generator);
  auto gradients = [&](int64_t checkpointed_layers, torch::Dtype dtype) {
    m.set_activation_checkpointing(checkpointed_layers);
    for (auto& [name, p] : m.parameters()) p.mutable_grad() = torch::Tensor();
    {
      model::MixedPrecision precision(torch::kCPU, dtype);
      (m.hidden_states(ids, positions, valid, nullptr, true) * weights).sum().backward();
    }
    std::map<std::string, torch::Tensor> out;
    for (auto& [name, p] : m.parameters()) out[name] = p.grad().clone();
    return out;
  };
  for (torch::Dtype dtype : {torch::kFloat32, torch::kBFloat16}) {
    auto plain = gradients(0, dtype);
    for (int64_t layers : {m.config().num_hidden_layers, int64_t(1)}) {
      auto recomputed = gradients(layers, dtype);
      ASSERT_EQ(plain.size(), recomputed.size());
      for (const auto& [name, grad] : plain) {
        EXPECT_GT(grad.abs().max().item<double>(), 0.0) << name;
        EXPECT_TRUE(torch::allclose(grad, recomputed[name], 1e-5, 1e-6)) << name << " " << dtype << " " << layers;
      }
    }
  }
}

}  // namespace
}  // namespace codealign::testing
