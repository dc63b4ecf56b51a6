// `codealign demo`: align with the built-in world as its defaults. The base model is the small
// Llama in data/demo-model (scripts/make_demo_model.sh makes it from nothing but codealign),
// the tasks are builtin:train and builtin:heldout, and the settings are those chosen by the
// experiment in docs/BENCHMARKS.md. Every align option stays available to change.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/align_options.h"
#include "cli/commands.h"

namespace codealign::cli {
namespace {

std::string demo_model_dir() { return (std::filesystem::path(tasks::bundled_data_dir()) / "demo-model").string(); }

// The demo's defaults (see docs/BENCHMARKS.md, "The demo", for the experiment behind them).
void set_demo_defaults(AlignOptions& o) {
  o.out = "codealign-demo";
  o.model.model = demo_model_dir();
  o.model.sampling.temperature = 0.8;
  o.model.sampling.max_new_tokens = 128;
  o.model.sampling.samples_per_prompt = 1;
  pipeline::AlignConfig& c = o.config;
  c.train_tasks = "builtin:train[:600]";
  c.eval_sets = {"builtin:heldout"};
  c.methods = {pipeline::Method::dpo, pipeline::Method::rft};
  c.samples_per_task = 8;
  c.sampling.batch = 64;
  c.eval_max_new_tokens = 128;
  c.eval_samples = 4;
  c.evaluation.ks = {1, 4};
  o.train.loss.beta = 1.0;
  // DPOP's penalty (Pal et al. 2024): the best single-round DPO at RFT's compute on the
  // validation slice (docs/BENCHMARKS.md, "The grid continued"), and the only one that kept pass@5.
  o.train.loss.dpop_lambda = 50;
  o.train.learning_rate = 5e-5;
  o.train.num_train_epochs = 2;  // 60 steps are more than one pass over the pairs of 600 tasks
  o.train.max_steps = 60;
  o.train.per_device_train_batch_size = 8;
  o.train.max_length = 256;
}

// pass@1 of the evaluation set `set` in `record` (greedy: "eval", sampled: "eval_sampled").
std::optional<double> pass_at_1(const Json& record, const char* evaluation, const std::string& set) {
  if (!record.contains(evaluation) || !record[evaluation].contains(set)) return std::nullopt;
  const Json& report = record[evaluation][set];
  const Json& group = report[report.contains("plus") ? "plus" : "base"];
  if (!group.contains("pass@1")) return std::nullopt;
  return group["pass@1"].get<double>();
}

std::string points(double value) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << 100 * value;
  return text.str();
}

// The paired comparison of `a` against `b` in the summary, as a sentence that says which holds:
// "DPO beats RFT", "no difference detected", or the reverse, with the interval.
std::optional<std::string> comparison_sentence(const Json& summary, const std::string& a, const std::string& b,
                                               const std::string& ahead, const std::string& none) {
  if (!summary.contains("comparisons")) return std::nullopt;
  for (const Json& c : summary["comparisons"]) {
    if (c.value("a", "") != a || c.value("b", "") != b) continue;
    double low = c["low"].get<double>(), high = c["high"].get<double>();
    std::string interval = (c["difference"].get<double>() >= 0 ? "+" : "") + points(c["difference"].get<double>()) +
                           " points of " + c.value("evaluation", "") + " on " + c.value("set", "") + ", 95% interval [" +
                           points(low) + ", " + points(high) + "] over " + std::to_string(c["tasks"].get<size_t>()) + " tasks";
    if (low > 0) return ahead + ": " + interval + ".";
    if (high < 0) return "the reverse of '" + ahead + "' holds: " + interval + ".";
    return none + ": " + interval + ".";
  }
  return std::nullopt;
}

// What the run shows, in plain words: DPO's and RFT's sampled pass@1 against the base's, and
// which of "DPO beats RFT", "DPO adds to RFT" (rft-dpo against rft) and "no difference detected"
// holds for this run, with its paired interval.
std::string outcome_note(const Json& summary) {
  const Json& rounds = summary["rounds"];
  if (rounds.size() < 2 || !rounds[1].contains("methods") || !rounds[0].contains("eval_sampled") ||
      rounds[0]["eval_sampled"].empty())
    return "The run has no trained round with sampled pass@1 to compare.";
  std::string set = rounds[0]["eval_sampled"].begin().key();
  std::optional<double> base = pass_at_1(rounds[0], "eval_sampled", set);
  const Json& methods = rounds[1]["methods"];
  auto method = [&](const char* name) {
    return methods.contains(name) ? pass_at_1(methods[name], "eval_sampled", set) : std::nullopt;
  };
  std::optional<double> dpo = method("dpo"), rft = method("rft");
  if (!base || !dpo) return "The run has no sampled pass@1 of the base and of DPO to compare.";
  std::string note = "Sampled pass@1 on " + set + ": base " + points(*base) + "%, DPO " + points(*dpo) + "%";
  if (rft) note += ", RFT on the same samples " + points(*rft) + "%";
  note += ".";
  if (auto versus_rft = comparison_sentence(summary, "dpo", "rft", "DPO beats RFT", "No difference detected between DPO and RFT"))
    note += " " + *versus_rft;
  if (auto adds = comparison_sentence(summary, "rft-dpo", "rft", "DPO adds to RFT", "No gain of DPO after RFT detected"))
    note += " " + *adds;
  if (auto versus_base = comparison_sentence(summary, "dpo", "start", "DPO beats the base", "No difference detected between DPO and the base"))
    note += " " + *versus_base;
  note += " One run decides little: bench/demo.sh pools five seeds (docs/BENCHMARKS.md, \"The demo\").";
  return note;
}

const char* const model_note =
    "The base model is codealign's built-in demo model: a 2M-parameter Llama with a 1,024-id byte-level BPE "
    "vocabulary, both made by codealign from random weights (scripts/make_demo_model.sh). It was trained with "
    "`codealign train sft` on builtin:train answers of which 20% carry a realistic bug (a wrong comparison, an "
    "off-by-one constant, the wrong reduction), so that, like a real SFT model, it makes mistakes that execution "
    "feedback can find. Held-out tasks combine the same building blocks in ways training never shows.";

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto o = std::make_shared<AlignOptions>();
  set_demo_defaults(*o);
  CLI::App* sub = app.add_subcommand(
      "demo", "Align codealign's built-in code model on its built-in tasks with DPO and RFT, and write a report "
              "(align with these defaults)");
  add_align_options(sub, *o);
  sub->get_option("--out")->required(false)->capture_default_str();
  sub->get_option("--model")->required(false)->capture_default_str();
  return [o, sub] {
    Json summary = run_align(sub, *o);
    if (!distributed::detect_world().is_main()) return exit_ok;  // rank 0 tells
    std::vector<std::string> notes = {outcome_note(summary)};
    std::cout << notes[0] << "\n";
    std::error_code not_comparable;
    if (std::filesystem::equivalent(o->model.model, demo_model_dir(), not_comparable)) notes.push_back(model_note);
    write_align_report(o->out, notes);
    return exit_ok;
  };
}

}  // namespace codealign::cli
