#include <algorithm>
#include <random>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "evaluation/evaluation.h"

namespace codealign::evaluation {

std::map<std::string, double> per_task_pass_rates(const std::string& results_path) {
  std::map<std::string, std::pair<int, int>> counts;  // task -> (samples, passed)
  for_each_jsonl_line(results_path, read_file(results_path), [&](const JsonlLine& line) {
    nlohmann::json r = parse_json_object(line);
    auto task = r.find("task_id");
    auto passed = r.find(r.contains("plus_passed") ? "plus_passed" : "passed");
    if (task == r.end() || !task->is_string() || passed == r.end() || !passed->is_boolean())
      throw Error(line.where() + "a result needs task_id and passed (true or false)");
    auto& [samples, passes] = counts[task->get<std::string>()];
    ++samples;
    passes += passed->get<bool>();
  });
  std::map<std::string, double> rates;
  for (const auto& [task, count] : counts) rates[task] = double(count.second) / double(count.first);
  return rates;
}

PairedDifference paired_difference(const std::map<std::string, double>& a, const std::map<std::string, double>& b,
                                   int draws, uint64_t seed) {
  std::vector<double> differences;
  for (const auto& [task, rate] : a)
    if (auto other = b.find(task); other != b.end()) differences.push_back(rate - other->second);
  PairedDifference d;
  d.tasks = differences.size();
  if (differences.empty()) return d;
  for (double x : differences) d.mean += x / double(differences.size());
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, differences.size() - 1);
  std::vector<double> means(size_t(draws), 0.0);
  for (double& mean : means) {
    for (size_t i = 0; i < differences.size(); ++i) mean += differences[pick(rng)];
    mean /= double(differences.size());
  }
  std::sort(means.begin(), means.end());
  d.low = means[size_t(0.025 * draws)];
  d.high = means[size_t(0.975 * draws) - 1];
  return d;
}

}  // namespace codealign::evaluation
