#include <cmath>

#include <gtest/gtest.h>

#include "evaluation/evaluation.h"

namespace codealign::evaluation {
namespace {

// 1 - C(n-c, k) / C(n, k), computed directly with binomials.
double binomial_reference(int n, int c, int k) {
  auto choose = [](int a, int b) { return b < 0 || b > a ? 0.0 : std::exp(std::lgamma(a + 1.0) - std::lgamma(b + 1.0) - std::lgamma(a - b + 1.0)); };
  return 1.0 - choose(n - c, k) / choose(n, k);
}

TEST(PassAtK, MatchesTheBinomialDefinition) {
  for (int n : {1, 5, 10, 200})
    for (int c = 0; c <= n; c += std::max(1, n / 7))
      for (int k : {1, 2, 10, 100})
        if (k <= n) {
          EXPECT_NEAR(pass_at_k(n, c, k), binomial_reference(n, c, k), 1e-9) << n << " " << c << " " << k;
        }
}

TEST(PassAtK, HandChecked) {
  EXPECT_DOUBLE_EQ(pass_at_k(10, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(10, 3, 1), 0.3);
  EXPECT_DOUBLE_EQ(pass_at_k(10, 10, 10), 1.0);
  EXPECT_NEAR(pass_at_k(4, 1, 2), 0.5, 1e-12);  // 1 - C(3,2)/C(4,2) = 1 - 3/6
}

}  // namespace
}  // namespace codealign::evaluation
