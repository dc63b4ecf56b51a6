#include <algorithm>

#include "common/error.h"
#include "preferences/preferences.h"

namespace codealign::preferences {
namespace {

const std::vector<sandbox::Verdict> all_verdicts = {
    sandbox::Verdict::passed,       sandbox::Verdict::failed,  sandbox::Verdict::runtime_error,
    sandbox::Verdict::syntax_error, sandbox::Verdict::timeout, sandbox::Verdict::out_of_memory,
    sandbox::Verdict::crashed};

}  // namespace

ScoreConfig parse_score_config(const std::string& spec) {
  ScoreConfig config;
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos) throw Error("preferences: score weight '" + item + "' is not VERDICT=WEIGHT");
    std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    auto verdict = sandbox::verdict_from_name(name);
    if (!verdict) {
      std::vector<std::string> names;
      for (sandbox::Verdict v : all_verdicts) names.push_back(sandbox::verdict_name(v));
      throw Error("preferences: unknown verdict '" + name + "' in score weights" + did_you_mean(name, names));
    }
    try {
      size_t used = 0;
      config.weight[*verdict] = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      throw Error("preferences: score weight of '" + name + "' is not a number: '" + value + "'");
    }
  }
  return config;
}

double score(const JudgedSample& sample, const ScoreConfig& config) {
  double fraction = sample.verdict == sandbox::Verdict::passed ? 1.0
                    : sample.tests_total > 0                   ? double(sample.tests_passed) / sample.tests_total
                                                               : 0.0;
  auto weight = config.weight.find(sample.verdict);
  return fraction + (weight == config.weight.end() ? 0.0 : weight->second);
}

double reward(const JudgedSample& sample, Reward kind, const ScoreConfig& config) {
  switch (kind) {
    case Reward::score: return score(sample, config);
    case Reward::pass: return sample.verdict == sandbox::Verdict::passed ? 1.0 : 0.0;
    case Reward::coarse: break;
  }
  switch (sample.verdict) {
    case sandbox::Verdict::passed: return 1.0;
    case sandbox::Verdict::failed: return -0.3;
    case sandbox::Verdict::syntax_error: return -1.0;
    default: return -0.6;  // runtime error, timeout, out of memory, crash: it ran and broke
  }
}

Strategy parse_strategy(const std::string& name) {
  if (name == "best-worst") return Strategy::best_worst;
  if (name == "all") return Strategy::all;
  if (name == "margin") return Strategy::margin;
  if (name == "near-miss") return Strategy::near_miss;
  throw Error("preferences: unknown pair strategy '" + name + "' (valid: best-worst, all, margin, near-miss)" +
              did_you_mean(name, strategy_names()));
}

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"best-worst", "all", "margin", "near-miss"};
  return names;
}

}  // namespace codealign::preferences
