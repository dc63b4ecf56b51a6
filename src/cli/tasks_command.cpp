// `codealign tasks`: say what a task set holds; export it as tasks JSONL, or as SFT examples from
// its reference solutions (some of them, by choice, with the task's bug).
#include <iostream>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "tasks/tasks.h"

namespace codealign::cli {

Command add_tasks_command(CLI::App& app) {
  struct Options {
    std::string spec, out, sft_out, data_dir = tasks::default_data_dir();
    double buggy_fraction = 0;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "tasks", "Show a task set; write it as tasks JSONL (--out) or as SFT examples of its solutions (--sft-out)");
  sub->add_option("spec", o->spec,
                  "A task set: builtin:train, builtin:heldout, a benchmark, an MBPP split or a tasks JSONL, "
                  "with an optional slice (builtin:train[:600])")
      ->required();
  sub->add_option("-o,--out", o->out, "Write the tasks as your own tasks JSONL (evaluate --tasks reads it back)");
  CLI::Option* sft_out = sub->add_option(
      "--sft-out", o->sft_out,
      "Write one SFT example per task ({prompt, completion, task_id, buggy}, as train sft reads them) from its "
      "canonical solution");
  sub->add_option("--buggy-fraction", o->buggy_fraction,
                  "With --sft-out: the fraction of examples that carry the task's buggy variant instead (built-in "
                  "tasks only), so that a model trained on them makes realistic mistakes")
      ->capture_default_str()
      ->check(in_range(0, 1))
      ->needs(sft_out);
  sub->add_option("--seed", o->seed, "With --sft-out: which examples carry a bug")
      ->capture_default_str()
      ->needs(sft_out);
  sub->add_option("--data-dir", o->data_dir, "Benchmark data ($CODEALIGN_DATA_DIR)")->capture_default_str();
  return [o] {
    tasks::TaskSet set = tasks::load_task_source(o->spec, o->data_dir);
    std::cout << set.name << ": " << set.tasks.size() << " tasks (source hash " << set.source_hash << ")\n";
    if (!o->out.empty()) {
      tasks::write_task_file(set, o->out);
      std::cout << "  tasks: " << o->out << "\n";
    }
    if (!o->sft_out.empty()) {
      size_t buggy = tasks::write_sft_file(set, o->sft_out, o->buggy_fraction, o->seed);
      std::cout << "  sft: " << o->sft_out << " (" << set.tasks.size() << " examples, " << buggy << " with a bug)\n";
    }
    return exit_ok;
  };
}

}  // namespace codealign::cli
