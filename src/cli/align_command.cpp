// `codealign align`: on-policy rounds of sample -> execute -> rank -> pairs -> train -> evaluate
// (pipeline/pipeline.h), from flags or a TOML config whose keys are the flags' names.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/align_options.h"
#include "cli/commands.h"
#include "cli/option_checks.h"
#include "cli/enum_option.h"
#include "cli/config_file.h"
#include "report/report.h"

extern const char* const codealign_version;

namespace codealign::cli {
namespace {

// One column of the summary table: a pass@k of one evaluation set, greedy or sampled. A
// HumanEval+/MBPP+ set shows its "plus" group (base + extra tests), any other its "base".
struct PassColumn {
  std::string header, evaluation, set, metric;  // evaluation: "eval" (greedy) or "eval_sampled"

  std::string cell(const Json& record) const {
    if (!record.contains(evaluation) || !record[evaluation].contains(set)) return "-";
    const Json& report = record[evaluation][set];
    const char* group = report.contains("plus") ? "plus" : "base";
    if (!report.contains(group) || !report[group].contains(metric)) return "-";
    std::ostringstream text;
    text << std::fixed << std::setprecision(3) << report[group][metric].get<double>();
    return text.str();
  }
};

std::vector<PassColumn> pass_columns(const Json& start) {
  std::vector<PassColumn> columns;
  for (const auto& [set, report] : start["eval"].items()) columns.push_back({set + " pass@1", "eval", set, "pass@1"});
  if (start.contains("eval_sampled"))
    for (const auto& [set, report] : start["eval_sampled"].items())
      for (const auto& [metric, value] : report[report.contains("plus") ? "plus" : "base"].items())
        columns.push_back({set + " " + metric + " (sampled)", "eval_sampled", set, metric});
  return columns;
}

// The per-round table: method, pairs (or RFT examples), last loss, pass@k per evaluation set.
void print_summary(const Json& summary) {
  std::vector<PassColumn> columns = pass_columns(summary["rounds"][0]);
  std::cout << std::left << std::setw(7) << "round" << std::setw(16) << "method" << std::setw(10) << "examples"
            << std::setw(10) << "loss";
  for (const PassColumn& column : columns) std::cout << std::setw(int(column.header.size()) + 2) << column.header;
  std::cout << "\n";
  for (const Json& round : summary["rounds"]) {
    auto row = [&](const std::string& method, const Json& result) {
      std::cout << std::setw(7) << round["round"].get<int>() << std::setw(16) << method << std::setw(10)
                << (result.contains("examples") ? std::to_string(result["examples"].get<size_t>()) : "-");
      std::ostringstream loss;
      if (result.contains("metrics") && result["metrics"].contains("loss"))
        loss << std::setprecision(4) << result["metrics"]["loss"].get<double>();
      std::cout << std::setw(10) << (loss.str().empty() ? "-" : loss.str());
      for (const PassColumn& column : columns) std::cout << std::setw(int(column.header.size()) + 2) << column.cell(result);
      std::cout << "\n";
    };
    if (round["round"] == 0) row("start", round);
    else
      for (const auto& [method, result] : round["methods"].items()) row(method, result);
  }
}

// The options as TOML that `--config` reads back: where the run lives, whether it resumes, how
// many workers run it and where outcomes are cached are left out (they change nothing in its
// results), and so are unset
// values (written as "", which would read back as an empty stop string).
std::string options_text(const CLI::App* command) {
  std::istringstream lines(command->config_to_str(true, false));
  std::string text;
  for (std::string line; std::getline(lines, line);) {
    std::string key = line.substr(0, line.find('='));
    if (key == "config" || key == "out" || key == "resume" || key == "workers" || key == "execution-cache" ||
        line.ends_with("=\"\""))
      continue;
    text += line + "\n";
  }
  return text;
}

}  // namespace

AlignOptions::AlignOptions() {
  config.data_dir = tasks::default_data_dir();
  config.execution.hardened = true;
  std::string cache_dir = evaluation::default_cache_dir();
  config.execution_cache = cache_dir.empty() ? "" : cache_dir + "/executions.sqlite";
  model.sampling.temperature = 0.8;
  model.sampling.max_new_tokens = 512;
}

void add_align_options(CLI::App* sub, AlignOptions& options) {
  AlignOptions* o = &options;
  pipeline::AlignConfig& c = o->config;
  sub->add_option("--config", o->config_file,
                  "TOML file with any of the options below ([train] keys are the --train-* options); the command line "
                  "wins");
  sub->add_option("-o,--out", o->out, "Run directory (see docs/ARCHITECTURE.md for its layout)")->required();
  sub->add_flag("--resume", o->resume, "Continue the run in --out: complete stages are kept, training resumes");
  o->model.add_to(sub, o->model.sampling.temperature, o->model.sampling.max_new_tokens);
  sub->add_option("--train-tasks", c.train_tasks, "Tasks to sample and train on: mbpp:train, a benchmark, or a tasks JSONL")
      ->capture_default_str();
  sub->add_option("--eval", c.eval_sets, "Evaluation sets: benchmarks, splits such as mbpp:test, files")
      ->delimiter(',')
      ->capture_default_str();
  add_enum_list_option(sub, "--method", c.methods, pipeline::method_names,
                       "dpo, rft, grpo, rft-dpo, sft-chosen and/or dpo-off-policy (repeatable: they train on the same "
                       "round-1 samples; grpo on each task's samples as a group, one group per micro-batch; rft-dpo is "
                       "rft in round 1, then dpo on its own samples with the RFT model as reference; sft-chosen is SFT "
                       "on the chosen side of dpo's pairs, with rft's settings; dpo-off-policy on pairs from "
                       "--off-policy-samples)");
  add_enum_option(sub, "--reward", c.reward, preferences::reward_names,
                  "grpo's reward: coarse (CodeRL's rule: syntax error -1, runtime error/timeout -0.6, failed -0.3, "
                  "passed 1), score (the fine score of the pairs), pass (1 or 0)");
  sub->add_option("--off-policy-samples", c.off_policy_samples,
                  "Another model's samples of the training tasks (samples JSONL): method dpo-off-policy trains on "
                  "their pairs, the paper's off-policy ablation");
  add_enum_option(sub, "--reference", c.reference, pipeline::reference_names,
                  "DPO's frozen reference: round (the policy the round starts from) or initial (--model)");
  sub->add_option("--rounds", c.rounds, "Rounds of sampling and training")->capture_default_str()->check(at_least(1));
  sub->add_option("--samples-per-task", c.samples_per_task, "On-policy samples per training task")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--batch", c.sampling.batch, "Prompts per generation batch")->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--eval-max-new-tokens", c.eval_max_new_tokens, "Tokens per evaluation answer at most")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--eval-samples", c.eval_samples,
                  "Samples per evaluation task for sampled pass@k beside greedy pass@1 (0: greedy only)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--eval-temperature", c.eval_temperature, "Temperature of the sampled evaluation")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--eval-top-p", c.eval_top_p, "Nucleus of the sampled evaluation")
      ->capture_default_str()
      ->check(above_up_to(0, 1));
  sub->add_option("--eval-k", c.evaluation.ks, "The k of sampled pass@k (those up to --eval-samples)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--strategy", o->strategy, "Pairs: best-worst, all, margin or near-miss (see codealign preferences)")
      ->capture_default_str();
  sub->add_option("--max-pairs-per-task", c.pairs.max_pairs_per_task, "all/margin: pairs kept per task (0: all)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--margin", c.pairs.min_margin, "margin: the least score gap of a pair")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--score", o->score, "Verdict weights, e.g. 'failed=0.04' (see codealign preferences)");
  sub->add_option("--rft-max-per-task", c.rft_max_per_task, "RFT: passing samples kept per task (0: all)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_flag("--stop-on-empty-round", c.stop_on_empty_round, "End the run when a round yields no training data");
  sub->add_option("--keep-checkpoints", c.keep_checkpoints,
                  "Checkpoints (weights and optimizer state) each complete training keeps beside its exported weights")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("-j,--workers", c.sandbox.workers, "Sandbox workers (default: one per core)")->check(at_least(1));
  sub->add_option("--timeout", c.execution.timeout_s, "Seconds per sample for assertion-style tests")
      ->capture_default_str()
      ->check(above(0));
  sub->add_option("--memory-mb", o->memory_mb, "Address-space limit per sample in MiB")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--interpreter", o->interpreter, "Python interpreter run in the sandbox")->capture_default_str();
  sub->add_flag("--official-execution", o->official_execution,
                "Judge training samples with the official harnesses' semantics instead of hardened tests (whose "
                "verdicts the program cannot fake)");
  sub->add_option("--execution-cache", c.execution_cache,
                  "SQLite file of execution outcomes shared by rounds and runs: a program judged before is not "
                  "run again (\"\": none)")
      ->capture_default_str();
  sub->add_option("--data-dir", c.data_dir, "Benchmark data ($CODEALIGN_DATA_DIR)")->capture_default_str();
  add_train_options(sub, o->train, "train-");
  add_distributed_options(sub, c.distributed);
}

Json run_align(CLI::App* sub, AlignOptions& options) {
  AlignOptions* o = &options;
  if (!o->config_file.empty()) apply_config_file(sub, o->config_file, {{"train", "train-"}, {"model", ""},
                                                                       {"tasks", ""}, {"sampling", ""},
                                                                       {"preferences", ""}, {"execution", ""}});
  pipeline::AlignConfig& c = o->config;
  c.model = o->model.model;
  c.tokenizer = o->model.tokenizer;
  c.sampling.sampling = o->model.sampling;
  c.sampling.chat = o->model.chat_format();
  c.pairs.strategy = preferences::parse_strategy(o->strategy);
  if (!o->score.empty()) c.pairs.score = preferences::parse_score_config(o->score);
  c.dpo = c.rft = c.grpo = o->train;
  c.device = c.dpo.device = c.rft.device = c.grpo.device = o->model.device;
  c.dtype = c.dpo.dtype = c.rft.dtype = c.grpo.dtype = o->model.dtype;
  c.sandbox.interpreter = o->interpreter;
  c.sandbox.limits.memory_bytes = o->memory_mb << 20;
  c.execution.hardened = !o->official_execution;
  c.evaluation.timeout_s = c.execution.timeout_s;

  c.options_text = options_text(sub);
  c.version = codealign_version;
  Json summary = pipeline::align(c, o->out, o->resume);
  if (!distributed::detect_world().is_main()) return summary;  // rank 0 tells
  print_summary(summary);
  std::cout << "summary: " << (std::filesystem::path(o->out) / "summary.json").string() << "\n";
  return summary;
}

void write_align_report(const std::string& run_dir, const std::vector<std::string>& notes) {
  if (!distributed::detect_world().is_main()) return;
  std::string report_path = (std::filesystem::path(run_dir) / "report.html").string();
  try {
    report::Options options;
    options.generator = codealign_version;
    options.notes = notes;
    report::write_report(run_dir, report_path, options);
    std::cout << "report: " << report_path << "\n";
  } catch (const std::exception& e) {
    std::cerr << "codealign: warning: the run is complete, but its report was not written: " << e.what()
              << " (hint: codealign report " << run_dir << ")\n";
  }
}

Command add_align_command(CLI::App& app) {
  auto o = std::make_shared<AlignOptions>();
  CLI::App* sub = app.add_subcommand(
      "align", "Align a model with execution feedback: on-policy rounds of sample, execute, pairs, DPO/RFT, evaluate");
  add_align_options(sub, *o);
  return [o, sub] {
    run_align(sub, *o);
    write_align_report(o->out, {});
    return exit_ok;
  };
}

}  // namespace codealign::cli
