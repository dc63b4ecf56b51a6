// Ranking executed samples and building pairs, on hand-made outcomes.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "preferences/preferences.h"
#include "support/test_support.h"

namespace codealign::preferences {
namespace {

using sandbox::Verdict;

JudgedSample judged(const std::string& task, const std::string& text, Verdict verdict, int passed = 0, int total = 4) {
  JudgedSample s;
  s.task_id = task;
  s.text = text;
  s.verdict = verdict;
  s.tests_passed = verdict == Verdict::passed ? total : passed;
  s.tests_total = total;
  return s;
}

double score_of(Verdict verdict, int passed = 0, int total = 4) {
  return score(judged("t", "x", verdict, passed, total), ScoreConfig{});
}

TEST(Score, FollowsTheDocumentedOrder) {
  // all passed > more tests passed > failed assertion > runtime error > timeout/OOM > crash > syntax error
  std::vector<double> order = {score_of(Verdict::passed),        score_of(Verdict::runtime_error, 2),
                               score_of(Verdict::failed, 1),     score_of(Verdict::failed, 0),
                               score_of(Verdict::runtime_error), score_of(Verdict::timeout),
                               score_of(Verdict::crashed),       score_of(Verdict::syntax_error)};
  for (size_t i = 1; i < order.size(); ++i) EXPECT_GT(order[i - 1], order[i]) << "position " << i;
  EXPECT_EQ(score_of(Verdict::timeout), score_of(Verdict::out_of_memory));
  EXPECT_DOUBLE_EQ(score_of(Verdict::passed), 2.0);
  EXPECT_DOUBLE_EQ(score_of(Verdict::failed, 1), 0.25 + 0.035);
}

TEST(Score, WeightsAreConfigurableByName) {
  ScoreConfig config = parse_score_config("timeout=0.5,syntax_error=0.25");
  EXPECT_DOUBLE_EQ(score(judged("t", "x", Verdict::timeout), config), 0.5);
  EXPECT_DOUBLE_EQ(score(judged("t", "x", Verdict::syntax_error), config), 0.25);
  EXPECT_DOUBLE_EQ(score(judged("t", "x", Verdict::failed), config), 0.035);  // untouched
  try {
    parse_score_config("timeuot=1");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "preferences: unknown verdict 'timeuot' in score weights (did you mean 'timeout'?)");
  }
  EXPECT_THROW(parse_score_config("failed=abc"), Error);
  EXPECT_THROW(parse_score_config("failed"), Error);
}

// GRPO's rewards: CodeRL's coarse rule by verdict kind, the fine score, and pass/fail.
TEST(Reward, CoarseFollowsCodeRlScoreIsTheFineScorePassIsOneOrZero) {
  const std::vector<std::pair<Verdict, double>> coarse = {
      {Verdict::passed, 1.0},        {Verdict::failed, -0.3},        {Verdict::runtime_error, -0.6},
      {Verdict::timeout, -0.6},      {Verdict::out_of_memory, -0.6}, {Verdict::crashed, -0.6},
      {Verdict::syntax_error, -1.0}};
  for (const auto& [verdict, expected] : coarse) {
    JudgedSample s = judged("t", "x", verdict, 1);
    EXPECT_EQ(reward(s, Reward::coarse, ScoreConfig{}), expected) << sandbox::verdict_name(verdict);
    EXPECT_EQ(reward(s, Reward::score, ScoreConfig{}), score(s, ScoreConfig{})) << sandbox::verdict_name(verdict);
    EXPECT_EQ(reward(s, Reward::pass, ScoreConfig{}), verdict == Verdict::passed ? 1.0 : 0.0);
  }
  EXPECT_EQ(reward_names.parse("coarse", "option"), Reward::coarse);
  EXPECT_THROW(reward_names.parse("rule", "option"), Error);
}

TEST(Strategy, NamesAreParsedAndUnknownOnesRefused) {
  EXPECT_EQ(parse_strategy("best-worst"), Strategy::best_worst);
  EXPECT_EQ(parse_strategy("all"), Strategy::all);
  EXPECT_EQ(parse_strategy("margin"), Strategy::margin);
  EXPECT_EQ(parse_strategy("near-miss"), Strategy::near_miss);
  try {
    parse_strategy("best_worst");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "preferences: unknown pair strategy 'best_worst' (valid: best-worst, all, margin, near-miss) "
                           "(did you mean 'best-worst'?)");
  }
}

std::vector<std::pair<std::string, std::string>> texts(const Pairs& pairs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Pair& p : pairs.pairs) out.emplace_back(p.chosen->text, p.rejected->text);
  return out;
}

using TextPairs = std::vector<std::pair<std::string, std::string>>;

TEST(Pairs, BestWorstPairsTheExtremesAndSkipsTiedTasks) {
  std::vector<JudgedSample> samples = {
      judged("a", "fail", Verdict::failed),        judged("a", "pass", Verdict::passed),
      judged("a", "syntax", Verdict::syntax_error), judged("b", "x", Verdict::failed),
      judged("b", "y", Verdict::failed),            judged("c", "p", Verdict::passed),
      judged("c", "q", Verdict::passed)};
  Pairs pairs = make_pairs(samples, PairConfig{});
  EXPECT_EQ(texts(pairs), (TextPairs{{"pass", "syntax"}}));
  EXPECT_DOUBLE_EQ(pairs.pairs[0].chosen_score, 2.0);
  EXPECT_DOUBLE_EQ(pairs.pairs[0].rejected_score, 0.0);
  const PairStats& s = pairs.stats;
  EXPECT_EQ(s.tasks, 3u);
  EXPECT_EQ(s.tasks_mixed, 1u);
  EXPECT_EQ(s.tasks_none_pass, 1u);
  EXPECT_EQ(s.tasks_all_pass, 1u);
  EXPECT_EQ(s.tasks_without_pairs, 2u);
  EXPECT_EQ(s.pairs, 1u);
  EXPECT_DOUBLE_EQ(s.mean_score_gap, 2.0);
  EXPECT_EQ(s.verdicts.at("passed"), 3u);
  EXPECT_EQ(s.verdicts.at("failed"), 3u);
}

TEST(Pairs, FailuresOfDifferentKindsStillPair) {
  std::vector<JudgedSample> samples = {judged("a", "runtime", Verdict::runtime_error, 1),
                                       judged("a", "timeout", Verdict::timeout, 1)};
  EXPECT_EQ(texts(make_pairs(samples, PairConfig{})), (TextPairs{{"runtime", "timeout"}}));
}

TEST(Pairs, AllTakesEveryBetterWorseCombinationWithoutTies) {
  std::vector<JudgedSample> samples = {judged("a", "p1", Verdict::passed), judged("a", "p2", Verdict::passed),
                                       judged("a", "f", Verdict::failed), judged("a", "s", Verdict::syntax_error)};
  PairConfig config;
  config.strategy = Strategy::all;
  config.max_pairs_per_task = 0;
  EXPECT_EQ(texts(make_pairs(samples, config)),
            (TextPairs{{"p1", "f"}, {"p1", "s"}, {"p2", "f"}, {"p2", "s"}, {"f", "s"}}));
}

TEST(Pairs, IdenticalTextsNeverPairAndCountOnce) {
  // The same program judged twice (say, a flaky one): counted once, never paired with itself.
  std::vector<JudgedSample> samples = {judged("a", "same", Verdict::passed), judged("a", "same", Verdict::failed),
                                       judged("a", "other", Verdict::failed), judged("a", "", Verdict::syntax_error)};
  PairConfig config;
  config.strategy = Strategy::all;
  Pairs pairs = make_pairs(samples, config);
  EXPECT_EQ(texts(pairs), (TextPairs{{"same", "other"}}));
  EXPECT_EQ(pairs.stats.duplicate_samples, 1u);
  EXPECT_EQ(pairs.stats.empty_samples, 1u);
  // The same text in another task is another sample.
  samples.push_back(judged("b", "same", Verdict::passed));
  samples.push_back(judged("b", "bad", Verdict::failed));
  EXPECT_EQ(make_pairs(samples, config).pairs.size(), 2u);
}

TEST(Pairs, MarginKeepsOnlyWideGaps) {
  std::vector<JudgedSample> samples = {judged("a", "pass", Verdict::passed), judged("a", "half", Verdict::failed, 2),
                                       judged("a", "none", Verdict::failed, 0)};
  PairConfig config;
  config.strategy = Strategy::margin;
  config.min_margin = 1.0;  // pass (2.0) vs half (0.535) and none (0.035); half vs none is 0.5
  EXPECT_EQ(texts(make_pairs(samples, config)), (TextPairs{{"pass", "half"}, {"pass", "none"}}));
  config.min_margin = 0.5;
  EXPECT_EQ(make_pairs(samples, config).pairs.size(), 3u);
}

TEST(Pairs, NearMissPairsTheBestWithTheBestOfTheRest) {
  // Scores: pass 2.0 (two of them), 3 of 4 tests 1.535 (two), 1 of 4 0.285, syntax error 0.
  std::vector<JudgedSample> samples = {
      judged("a", "pass1", Verdict::passed),       judged("a", "three1", Verdict::failed, 3),
      judged("a", "pass2", Verdict::passed),       judged("a", "three2", Verdict::failed, 3),
      judged("a", "one", Verdict::failed, 1),      judged("a", "syntax", Verdict::syntax_error),
      judged("b", "only fails", Verdict::failed),  judged("b", "worse", Verdict::runtime_error),
      judged("c", "tie1", Verdict::passed),        judged("c", "tie2", Verdict::passed)};
  PairConfig config;
  config.strategy = Strategy::near_miss;
  Pairs pairs = make_pairs(samples, config);
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& pair : texts(pairs)) got.insert(pair);
  // Each best sample once, each against a near miss; never the 1-of-4 or the syntax error.
  EXPECT_EQ(pairs.pairs.size(), 3u);
  EXPECT_EQ(got.count({"only fails", "worse"}), 1u);  // no pass: the best failure against the next
  std::set<std::string> chosen, rejected;
  for (const Pair& p : pairs.pairs)
    if (p.chosen->task_id == "a") chosen.insert(p.chosen->text), rejected.insert(p.rejected->text);
  EXPECT_EQ(chosen, (std::set<std::string>{"pass1", "pass2"}));
  EXPECT_EQ(rejected, (std::set<std::string>{"three1", "three2"}));
  config.max_pairs_per_task = 1;  // the cap keeps the first
  EXPECT_EQ(make_pairs(samples, config).pairs.size(), 2u);
}

// How varied the samples are, per task then averaged: distinct non-empty programs, and the
// entropy of the sampled texts with duplicates counted.
TEST(Pairs, StatsMeasureHowVariedTheSamplesAre) {
  std::vector<JudgedSample> samples = {judged("a", "x", Verdict::passed), judged("a", "x", Verdict::passed),
                                       judged("a", "y", Verdict::failed), judged("a", "", Verdict::syntax_error),
                                       judged("b", "z", Verdict::failed), judged("b", "z", Verdict::failed)};
  PairStats stats = make_pairs(samples, PairConfig{}).stats;
  EXPECT_DOUBLE_EQ(stats.distinct_programs_per_task, (2.0 + 1.0) / 2);
  double entropy_a = -(0.5 * std::log(0.5) + 2 * 0.25 * std::log(0.25));  // x twice, y and "" once each
  EXPECT_NEAR(stats.program_entropy, (entropy_a + 0.0) / 2, 1e-12);
  EXPECT_EQ(stats.to_json()["program_entropy"], stats.program_entropy);
}

TEST(Pairs, CapKeepsASeededSubsetPerTask) {
  std::vector<JudgedSample> samples;
  for (int i = 0; i < 6; ++i) samples.push_back(judged("a", "pass" + std::to_string(i), Verdict::passed));
  for (int i = 0; i < 6; ++i) samples.push_back(judged("a", "fail" + std::to_string(i), Verdict::failed));
  PairConfig config;
  config.strategy = Strategy::all;
  config.max_pairs_per_task = 5;
  TextPairs first = texts(make_pairs(samples, config));
  EXPECT_EQ(first.size(), 5u);
  EXPECT_EQ(texts(make_pairs(samples, config)), first) << "same seed, same pairs";
  std::set<TextPairs> subsets;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    config.seed = seed;
    subsets.insert(texts(make_pairs(samples, config)));
  }
  EXPECT_GT(subsets.size(), 4u) << "seeds choose different subsets of the 36 pairs";
}

TEST(Pairs, TiedExtremesArePickedBySeed) {
  std::vector<JudgedSample> samples;
  for (int i = 0; i < 4; ++i) samples.push_back(judged("a", "pass" + std::to_string(i), Verdict::passed));
  samples.push_back(judged("a", "fail", Verdict::failed));
  std::set<std::string> chosen;
  PairConfig config;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    config.seed = seed;
    Pairs pairs = make_pairs(samples, config);
    ASSERT_EQ(pairs.pairs.size(), 1u);
    chosen.insert(pairs.pairs[0].chosen->text);
  }
  EXPECT_GT(chosen.size(), 1u);
}

TEST(Rft, KeepsDistinctPassingSamplesCappedPerTask) {
  std::vector<JudgedSample> samples = {judged("a", "p1", Verdict::passed), judged("a", "p1", Verdict::passed),
                                       judged("a", "f", Verdict::failed),  judged("a", "p2", Verdict::passed),
                                       judged("a", "p3", Verdict::passed), judged("b", "q", Verdict::passed)};
  std::vector<std::string> all;
  for (const JudgedSample* s : rft_examples(samples, 0, 0)) all.push_back(s->text);
  EXPECT_EQ(all, (std::vector<std::string>{"p1", "p2", "p3", "q"}));
  auto capped = rft_examples(samples, 2, 7);
  ASSERT_EQ(capped.size(), 3u);
  EXPECT_EQ(std::count_if(capped.begin(), capped.end(), [](auto* s) { return s->task_id == "a"; }), 2);
  EXPECT_EQ(capped.back()->text, "q");
}

// ---- files ----------------------------------------------------------------------------------

class PreferenceFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_text(path("tasks.jsonl"),
                        R"({"task_id": "t/0", "prompt": "def f():\n", "tests": ["assert f() == 1"]})"
                        "\n"
                        R"({"task_id": "t/1", "prompt": "def g():\n", "tests": ["assert g() == 2"]})"
                        "\n");
    tasks_ = tasks::load_task_file(path("tasks.jsonl"));
  }
  std::string path(const std::string& name) const { return dir_.path + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    testing::write_text(path(name), text);
    return path(name);
  }
  std::string error_of(const std::string& samples, const std::string& results) const {
    try {
      read_judged(write("s.jsonl", samples), write("r.jsonl", results), tasks_);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  testing::TempDir dir_;
  tasks::TaskSet tasks_;
};

const char* samples_text =
    R"({"task_id": "t/0", "completion": "  return 1\n", "completion_ids": [5, 6, 7]})"
    "\n"
    R"({"task_id": "t/0", "completion": "  return 0\n", "completion_ids": [5, 6, 8]})"
    "\n";
const char* results_text =
    R"({"task_id": "t/0", "completion": "  return 1\n", "verdict": "passed", "tests_passed": 1, "tests_total": 1})"
    "\n"
    R"({"task_id": "t/0", "completion": "  return 0\n", "verdict": "failed", "tests_passed": 0, "tests_total": 1})"
    "\n";

TEST_F(PreferenceFiles, PairsCarryPromptTextsIdsAndProvenance) {
  auto judged = read_judged(write("s.jsonl", samples_text), write("r.jsonl", results_text), tasks_);
  ASSERT_EQ(judged.size(), 2u);
  EXPECT_EQ(judged[1].line, 2);
  EXPECT_EQ(judged[0].ids, (std::vector<int32_t>{5, 6, 7}));
  write_pairs(path("pairs.jsonl"), make_pairs(judged, PairConfig{}), tasks_, {3, "models/policy"});
  Json line = Json::parse(read_file(path("pairs.jsonl")));
  EXPECT_EQ(line, Json::parse(R"({"prompt": "def f():\n", "chosen": "  return 1\n", "rejected": "  return 0\n",
    "task_id": "t/0", "chosen_verdict": "passed", "rejected_verdict": "failed", "chosen_score": 2.0,
    "rejected_score": 0.035, "round": 3, "model": "models/policy", "chosen_ids": [5, 6, 7],
    "rejected_ids": [5, 6, 8]})"));
  write_rft(path("rft.jsonl"), rft_examples(judged, 0, 0), tasks_);
  EXPECT_EQ(Json::parse(read_file(path("rft.jsonl"))),
            Json::parse(R"({"prompt": "def f():\n", "completion": "  return 1\n", "task_id": "t/0",
                            "completion_ids": [5, 6, 7]})"));
}

TEST_F(PreferenceFiles, TheWholeReplyIsTrainedWhenTheSampleHasOne) {
  auto judged = read_judged(
      write("s.jsonl", R"({"task_id": "t/1", "solution": "def g(): return 2", "response": "Here:\n```python\ndef g(): return 2\n```"})"
                       "\n"),
      write("r.jsonl", R"({"task_id": "t/1", "solution": "def g(): return 2", "verdict": "passed", "tests_passed": 1, "tests_total": 1})"
                       "\n"),
      tasks_);
  EXPECT_EQ(judged[0].text, "Here:\n```python\ndef g(): return 2\n```");
}

TEST_F(PreferenceFiles, PlusTestsCountTowardsTheScore) {
  auto judged = read_judged(
      write("s.jsonl", R"({"task_id": "t/0", "completion": "x"})"
                       "\n"),
      write("r.jsonl", R"({"task_id": "t/0", "completion": "x", "verdict": "passed", "tests_passed": 3, "tests_total": 3,)"
                       R"( "plus_verdict": "timeout", "plus_tests_passed": 2, "plus_tests_total": 5})"
                       "\n"),
      tasks_);
  EXPECT_EQ(judged[0].verdict, Verdict::timeout);
  EXPECT_EQ(judged[0].tests_passed, 5);
  EXPECT_EQ(judged[0].tests_total, 8);
}

TEST_F(PreferenceFiles, BadInputIsNamedByFileAndLine) {
  std::string s = path("s.jsonl"), r = path("r.jsonl");
  EXPECT_EQ(error_of(R"({"task_id": "t/9", "completion": "x"})", "{}"),
            s + ":1: unknown task_id 't/9' for task set 'tasks'");
  EXPECT_EQ(error_of(samples_text, R"({"task_id": "t/0", "completion": "  return 1\n", "verdict": "passed", "tests_passed": 1, "tests_total": 1})"),
            "preferences: '" + r + "' has 1 results for the 2 samples of '" + s + "'");
  EXPECT_EQ(error_of(samples_text, std::string(results_text) + results_text),
            r + ":3: more results than the 2 samples of '" + s + "'");
  std::string swapped = std::string(results_text).substr(std::string(results_text).find('\n') + 1) +
                        std::string(results_text).substr(0, std::string(results_text).find('\n') + 1);
  EXPECT_EQ(error_of(samples_text, swapped),
            r + ":1: does not match its sample " + s + ":1 (task_id 't/0'): were these results evaluated from "
                "that samples file?");
  EXPECT_EQ(error_of(R"({"task_id": "t/0", "completion": "x", "completion_ids": [1, -2]})", "{}"),
            s + ":1: field 'completion_ids' holds -2, not a token id");
  EXPECT_EQ(error_of(R"({"task_id": "t/0", "completion": "x"})",
                     R"({"task_id": "t/0", "completion": "x", "verdict": "great", "tests_passed": 1, "tests_total": 1})"),
            r + ":1: field 'verdict' holds an unknown verdict 'great'");
  EXPECT_EQ(error_of(R"({"task_id": "t/0", "completion": "x"})",
                     R"({"task_id": "t/0", "completion": "x", "verdict": "failed", "tests_total": 1})"),
            r + ":1: field 'tests_passed' is missing or not an integer");
}

}  // namespace
}  // namespace codealign::preferences
