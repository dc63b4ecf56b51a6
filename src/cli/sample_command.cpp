// `codealign sample`: sample solutions for a task set into a samples JSONL that `codealign
// evaluate` reads (pipeline::sample_tasks says what each line holds).
#include "cli/commands.h"
#include "cli/option_checks.h"
#include "cli/model_options.h"
#include "pipeline/pipeline.h"
#include "tasks/tasks.h"

namespace codealign::cli {

Command add_sample_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    std::string benchmark = "humaneval", tasks_file, out, data_dir = tasks::default_data_dir();
    size_t batch = 8;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("sample", "Sample solutions for a benchmark's tasks into samples JSONL");
  o->model.add_to(sub, 0.2, 512);
  sub->add_option("-b,--benchmark", o->benchmark,
                  "humaneval, humaneval+, mbpp, mbpp-sanitized or mbpp+, or an MBPP split such as mbpp:train")
      ->capture_default_str();
  sub->add_option("--tasks", o->tasks_file,
                  "Your own tasks JSONL (or builtin:train, builtin:heldout) instead of a benchmark");
  sub->add_option("-o,--out", o->out, "Samples JSONL to write")->required();
  sub->add_option("--batch", o->batch, "Prompts per batch")->capture_default_str()->check(at_least(1));
  sub->add_option("--data-dir", o->data_dir, "Benchmark data directory")->capture_default_str();
  return [o] {
    tasks::TaskSet set = o->tasks_file.empty() ? tasks::load_task_source(o->benchmark, o->data_dir)
                                               : tasks::load_tasks_argument(o->tasks_file, o->data_dir);
    model::CausalLM model = o->model.load_model();
    tokenizer::Tokenizer tok = o->model.load_tokenizer();
    pipeline::SampleConfig config{o->model.sampling, o->model.chat_format(), o->batch};
    pipeline::sample_tasks(model, tok, set, config, o->out);
    return exit_ok;
  };
}

}  // namespace codealign::cli
