// `codealign preferences`: rank executed samples and write DPO pairs (TRL JSONL), RFT data and
// the round's stats.
#include <iostream>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "common/files.h"
#include "preferences/preferences.h"
#include "tasks/tasks.h"

namespace codealign::cli {
namespace {

// "pairs.jsonl" -> "pairs.stats.json"
std::string stats_path_for(const std::string& pairs_path) {
  std::string stem = pairs_path;
  if (stem.size() > 6 && stem.compare(stem.size() - 6, 6, ".jsonl") == 0) stem.resize(stem.size() - 6);
  return stem + ".stats.json";
}

}  // namespace

Command add_preferences_command(CLI::App& app) {
  struct Options {
    std::string benchmark = "humaneval", tasks_file, data_dir = tasks::default_data_dir();
    std::string samples, results, out, rft_out, stats_out, strategy = "best-worst", score;
    size_t rft_max_per_task = 4;
    preferences::PairConfig pairs;
    preferences::Provenance provenance;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "preferences", "Rank executed samples by outcome; write preference pairs (TRL JSONL) and RFT data");
  sub->add_option("-s,--samples", o->samples, "Samples JSONL (as `sample` writes it)")->required();
  sub->add_option("-r,--results", o->results, "Its results JSONL (as `evaluate` writes it)")->required();
  sub->add_option("-o,--out", o->out, "Pairs JSONL to write: prompt, chosen, rejected and metadata")->required();
  sub->add_option("--rft-out", o->rft_out, "Also write the passing samples as SFT JSONL (rejection sampling)");
  sub->add_option("--stats-out", o->stats_out, "Stats JSON (default: OUT with .stats.json)");
  sub->add_option("-b,--benchmark", o->benchmark, "The samples' benchmark")->capture_default_str();
  sub->add_option("--tasks", o->tasks_file,
                  "Your own tasks JSONL (or builtin:train, builtin:heldout) instead of a benchmark");
  sub->add_option("--data-dir", o->data_dir, "Benchmark data ($CODEALIGN_DATA_DIR)")->capture_default_str();
  sub->add_option("--strategy", o->strategy,
                  "best-worst: one pair per task; all: every better x worse combination; margin: those whose "
                  "score gap is at least --margin; near-miss: the best samples against the best of the rest")
      ->capture_default_str();
  sub->add_option("--max-pairs-per-task", o->pairs.max_pairs_per_task,
                  "all/margin: keep a seeded random subset of this many per task; near-miss: at most this many "
                  "(0: all)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--margin", o->pairs.min_margin, "margin: the least score gap of a pair")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--score", o->score,
                  "Verdict weights added to the fraction of tests passed, e.g. 'failed=0.04,timeout=0.01' "
                  "(defaults: passed=1, failed=0.035, runtime_error=0.03, timeout=out_of_memory=0.02, "
                  "crashed=0.01, syntax_error=0)");
  sub->add_option("--seed", o->pairs.seed, "Which pairs a cap keeps and which tied samples pair")->capture_default_str();
  sub->add_option("--rft-max-per-task", o->rft_max_per_task, "RFT: passing samples kept per task (0: all)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--round", o->provenance.round, "Round number recorded on each pair")->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--model", o->provenance.model, "Sampling model recorded on each pair");
  return [o] {
    o->pairs.strategy = preferences::parse_strategy(o->strategy);
    if (!o->score.empty()) o->pairs.score = preferences::parse_score_config(o->score);
    tasks::TaskSet set = o->tasks_file.empty() ? tasks::load_task_source(o->benchmark, o->data_dir)
                                               : tasks::load_tasks_argument(o->tasks_file, o->data_dir);
    auto judged = preferences::read_judged(o->samples, o->results, set);
    preferences::Pairs pairs = preferences::make_pairs(judged, o->pairs);
    preferences::write_pairs(o->out, pairs, set, o->provenance);
    if (!o->rft_out.empty())
      preferences::write_rft(o->rft_out, preferences::rft_examples(judged, o->rft_max_per_task, o->pairs.seed), set);
    std::string stats_path = o->stats_out.empty() ? stats_path_for(o->out) : o->stats_out;
    AtomicFile stats(stats_path);
    stats.write(pairs.stats.to_json().dump(2) + "\n");
    stats.commit();
    const preferences::PairStats& s = pairs.stats;
    std::cout << "preferences: " << s.pairs << " pairs from " << s.samples << " samples of " << s.tasks
              << " tasks (mixed " << s.tasks_mixed << ", all pass " << s.tasks_all_pass << ", none pass "
              << s.tasks_none_pass << "; " << s.tasks_without_pairs << " without a pair)\n"
              << "  pairs: " << o->out << "\n  stats: " << stats_path << "\n";
    if (!o->rft_out.empty()) std::cout << "  rft: " << o->rft_out << "\n";
    return exit_ok;
  };
}

}  // namespace codealign::cli
