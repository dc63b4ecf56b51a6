// The hand-written own-key attention (decode steps over shared prompts, float32 on the CPU)
// against torch's batched products: grouped heads, a head size with a tail past the vector
// lanes, keys as a view of a larger cache, scores into the columns of a wider buffer; and a
// row's result, bit for bit, whatever its batch.
#include <gtest/gtest.h>

#include <cmath>

#include "model/own_key_attention.h"

namespace codealign::testing {
namespace {

struct Case {
  torch::Tensor q, k, v, probabilities;  // q [B, heads, T, D]; k, v views [B, kv_heads, L, D]
};

Case random_case(int64_t B, int64_t heads, int64_t kv_heads, int64_t T, int64_t L, int64_t D) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::Tensor cache_k = at::normal(0.0, 1.0, {B, kv_heads, L + 5, D}, generator);
  torch::Tensor cache_v = at::normal(0.0, 1.0, {B, kv_heads, L + 5, D}, generator);
  torch::Tensor q = at::normal(0.0, 1.0, {B, T, heads, D}, generator).transpose(1, 2);  // as the projection's view
  torch::Tensor probabilities = at::normal(0.0, 1.0, {B, heads, T, L}, generator).softmax(-1);
  return {q, cache_k.narrow(2, 0, L), cache_v.narrow(2, 0, L), probabilities};
}

// Torch's reference: each key/value head repeated for its query heads.
torch::Tensor expected_scores(const Case& c, double scale) {
  int64_t group = c.q.size(1) / c.k.size(1);
  return torch::matmul(c.q, c.k.repeat_interleave(group, 1).transpose(2, 3)) * scale;
}

torch::Tensor expected_values(const Case& c) {
  int64_t group = c.q.size(1) / c.v.size(1);
  return torch::matmul(c.probabilities, c.v.repeat_interleave(group, 1));
}

TEST(OwnKeyAttention, scores_and_values_match_torch) {
  torch::NoGradGuard no_grad;
  for (int64_t D : {8, 32, 40}) {
    for (auto [heads, kv_heads, T] : {std::tuple{4, 2, 1}, {6, 6, 1}, {4, 1, 3}}) {
      Case c = random_case(3, heads, kv_heads, T, 11, D);
      double scale = 1.0 / std::sqrt(double(D));
      torch::Tensor wide = torch::full({3, heads, T, 20 + 11}, 42.0f);
      torch::Tensor scores = wide.narrow(-1, 20, 11);
      ASSERT_TRUE(model::own_key_loops_apply(c.q, c.k));
      model::own_key_scores(c.q, c.k, scale, scores);
      EXPECT_TRUE(torch::allclose(scores, expected_scores(c, scale), 1e-5, 1e-5)) << "D " << D << " heads " << heads;
      EXPECT_TRUE(torch::all(wide.narrow(-1, 0, 20) == 42.0f).item<bool>());  // columns outside left alone

      torch::Tensor base = torch::randn({3, heads, T, D}), out = base.clone();
      model::add_own_values(c.probabilities, c.v, out);
      EXPECT_TRUE(torch::allclose(out, base + expected_values(c), 1e-5, 1e-5)) << "D " << D << " heads " << heads;
    }
  }
}

TEST(OwnKeyAttention, a_row_gives_the_same_bits_alone_and_in_a_batch) {
  torch::NoGradGuard no_grad;
  Case c = random_case(5, 4, 2, 1, 13, 40);
  torch::Tensor scores = torch::empty({5, 4, 1, 13}), out = torch::zeros({5, 4, 1, 40});
  model::own_key_scores(c.q, c.k, 0.125, scores);
  model::add_own_values(c.probabilities, c.v, out);
  auto row = [](const torch::Tensor& t) { return t.narrow(0, 3, 1); };
  torch::Tensor alone_scores = torch::empty({1, 4, 1, 13}), alone_out = torch::zeros({1, 4, 1, 40});
  model::own_key_scores(row(c.q), row(c.k), 0.125, alone_scores);
  model::add_own_values(row(c.probabilities), row(c.v), alone_out);
  EXPECT_TRUE(torch::equal(alone_scores, row(scores)));
  EXPECT_TRUE(torch::equal(alone_out, row(out)));
}

TEST(OwnKeyAttention, applies_to_float32_on_the_cpu_without_gradients_only) {
  torch::Tensor x = torch::zeros({1, 1, 1, 8});
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(model::own_key_loops_apply(x, x));
    EXPECT_FALSE(model::own_key_loops_apply(x.to(torch::kBFloat16), x.to(torch::kBFloat16)));
  }
  EXPECT_FALSE(model::own_key_loops_apply(x, x));  // grad mode on: torch's products keep autograd
}

}  // namespace
}  // namespace codealign::testing
