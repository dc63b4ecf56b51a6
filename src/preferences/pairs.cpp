#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "preferences/preferences.h"

namespace codealign::preferences {
namespace {

using sandbox::Verdict;

// One task's distinct samples with their scores.
struct TaskSamples {
  std::string task_id;
  std::vector<const JudgedSample*> samples;
  std::vector<double> scores;
};

// Tasks in first-seen order; a text seen before in the same task is dropped, and so is an empty
// one (training refuses empty completions); both are counted.
std::vector<TaskSamples> group_by_task(const std::vector<JudgedSample>& samples, const ScoreConfig& config,
                                       PairStats& stats) {
  std::vector<TaskSamples> tasks;
  std::map<std::string, size_t> index;
  std::set<std::pair<std::string, std::string>> seen;
  for (const JudgedSample& s : samples) {
    auto [it, added] = index.emplace(s.task_id, tasks.size());
    if (added) tasks.push_back({s.task_id, {}, {}});
    if (s.text.empty()) {
      ++stats.empty_samples;
      continue;
    }
    if (!seen.emplace(s.task_id, s.text).second) {
      ++stats.duplicate_samples;
      continue;
    }
    tasks[it->second].samples.push_back(&s);
    tasks[it->second].scores.push_back(score(s, config));
  }
  return tasks;
}

// A random stream per task, so that one task's choices do not depend on the others.
std::mt19937_64 task_rng(uint64_t seed, const std::string& task_id) {
  return std::mt19937_64(seed ^ XXH3_64bits(task_id.data(), task_id.size()));
}

// One of the samples whose score equals `target`, chosen by `rng`.
size_t pick_with_score(const TaskSamples& t, double target, std::mt19937_64& rng) {
  std::vector<size_t> tied;
  for (size_t i = 0; i < t.scores.size(); ++i)
    if (t.scores[i] == target) tied.push_back(i);
  return tied[rng() % tied.size()];
}

// The samples whose score equals `target`, in an order chosen by `rng`.
std::vector<size_t> shuffled_with_score(const TaskSamples& t, double target, std::mt19937_64& rng) {
  std::vector<size_t> tied;
  for (size_t i = 0; i < t.scores.size(); ++i)
    if (t.scores[i] == target) tied.push_back(i);
  std::shuffle(tied.begin(), tied.end(), rng);
  return tied;
}

// Near misses: the best-scored samples, each once, against the next-best score's in turn.
std::vector<std::pair<size_t, size_t>> near_miss_pairs(const TaskSamples& t, size_t cap, std::mt19937_64& rng) {
  double best = *std::max_element(t.scores.begin(), t.scores.end());
  double next = -std::numeric_limits<double>::infinity();
  for (double s : t.scores)
    if (s < best) next = std::max(next, s);
  if (next == -std::numeric_limits<double>::infinity()) return {};
  std::vector<size_t> chosen = shuffled_with_score(t, best, rng), rejected = shuffled_with_score(t, next, rng);
  size_t count = std::max(chosen.size(), rejected.size());
  if (cap > 0) count = std::min(count, cap);
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t k = 0; k < count; ++k) pairs.emplace_back(chosen[k % chosen.size()], rejected[k % rejected.size()]);
  return pairs;
}

std::vector<Pair> task_pairs(const TaskSamples& t, const PairConfig& config) {
  std::vector<Pair> pairs;
  auto pair = [&](size_t better, size_t worse) {
    return Pair{t.samples[better], t.samples[worse], t.scores[better], t.scores[worse]};
  };
  if (t.samples.empty()) return pairs;
  std::mt19937_64 rng = task_rng(config.seed, t.task_id);
  if (config.strategy == Strategy::best_worst) {
    auto [low, high] = std::minmax_element(t.scores.begin(), t.scores.end());
    if (*high > *low) pairs.push_back(pair(pick_with_score(t, *high, rng), pick_with_score(t, *low, rng)));
    return pairs;
  }
  if (config.strategy == Strategy::near_miss) {
    for (auto [better, worse] : near_miss_pairs(t, config.max_pairs_per_task, rng)) pairs.push_back(pair(better, worse));
    return pairs;
  }
  double least_gap = config.strategy == Strategy::margin ? config.min_margin : 0.0;
  for (size_t i = 0; i < t.samples.size(); ++i)
    for (size_t j = 0; j < t.samples.size(); ++j)
      if (t.scores[i] > t.scores[j] && t.scores[i] - t.scores[j] >= least_gap) pairs.push_back(pair(i, j));
  if (config.max_pairs_per_task > 0 && pairs.size() > config.max_pairs_per_task) {
    std::vector<size_t> order(pairs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(config.max_pairs_per_task);
    std::sort(order.begin(), order.end());
    std::vector<Pair> kept;
    for (size_t i : order) kept.push_back(pairs[i]);
    pairs = std::move(kept);
  }
  return pairs;
}

// Per task, the distinct non-empty programs and the entropy (nats) of all its samples' texts.
void diversity(const std::vector<JudgedSample>& samples, PairStats& stats) {
  std::map<std::string, std::map<std::string, size_t>> texts;  // task -> text -> count
  for (const JudgedSample& s : samples) ++texts[s.task_id][s.text];
  double distinct = 0, entropy = 0;
  for (const auto& [task, counts] : texts) {
    size_t total = 0;
    for (const auto& [text, n] : counts) {
      total += n;
      distinct += text.empty() ? 0 : 1;
    }
    for (const auto& [text, n] : counts) entropy -= double(n) / double(total) * std::log(double(n) / double(total));
  }
  if (texts.empty()) return;
  stats.distinct_programs_per_task = distinct / double(texts.size());
  stats.program_entropy = entropy / double(texts.size());
}

}  // namespace

nlohmann::json PairStats::to_json() const {
  return {{"samples", samples},
          {"duplicate_samples", duplicate_samples},
          {"empty_samples", empty_samples},
          {"tasks", tasks},
          {"tasks_all_pass", tasks_all_pass},
          {"tasks_none_pass", tasks_none_pass},
          {"tasks_mixed", tasks_mixed},
          {"tasks_without_pairs", tasks_without_pairs},
          {"pairs", pairs},
          {"mean_score_gap", mean_score_gap},
          {"distinct_programs_per_task", distinct_programs_per_task},
          {"program_entropy", program_entropy},
          {"verdicts", verdicts}};
}

Pairs make_pairs(const std::vector<JudgedSample>& samples, const PairConfig& config) {
  Pairs result;
  PairStats& stats = result.stats;
  stats.samples = samples.size();
  for (const JudgedSample& s : samples) ++stats.verdicts[sandbox::verdict_name(s.verdict)];
  diversity(samples, stats);
  double gaps = 0;
  for (const TaskSamples& t : group_by_task(samples, config.score, stats)) {
    ++stats.tasks;
    size_t passing = std::count_if(t.samples.begin(), t.samples.end(),
                                   [](const JudgedSample* s) { return s->verdict == Verdict::passed; });
    if (passing == t.samples.size() && passing > 0) ++stats.tasks_all_pass;
    else if (passing == 0) ++stats.tasks_none_pass;
    else ++stats.tasks_mixed;
    std::vector<Pair> pairs = task_pairs(t, config);
    if (pairs.empty()) ++stats.tasks_without_pairs;
    for (const Pair& p : pairs) gaps += p.chosen_score - p.rejected_score;
    result.pairs.insert(result.pairs.end(), pairs.begin(), pairs.end());
  }
  stats.pairs = result.pairs.size();
  stats.mean_score_gap = stats.pairs ? gaps / double(stats.pairs) : 0.0;
  return result;
}

std::vector<const JudgedSample*> rft_examples(const std::vector<JudgedSample>& samples, size_t max_per_task,
                                              uint64_t seed) {
  std::map<std::string, std::vector<size_t>> passing;  // task -> indices of distinct passing samples
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].verdict == Verdict::passed && !samples[i].text.empty() && seen.emplace(samples[i].task_id, samples[i].text).second)
      passing[samples[i].task_id].push_back(i);
  std::vector<size_t> kept;
  for (auto& [task_id, indices] : passing) {
    if (max_per_task > 0 && indices.size() > max_per_task) {
      std::mt19937_64 rng = task_rng(seed, task_id);
      std::shuffle(indices.begin(), indices.end(), rng);
      indices.resize(max_per_task);
    }
    kept.insert(kept.end(), indices.begin(), indices.end());
  }
  std::sort(kept.begin(), kept.end());
  std::vector<const JudgedSample*> examples;
  for (size_t i : kept) examples.push_back(&samples[i]);
  return examples;
}

}  // namespace codealign::preferences
