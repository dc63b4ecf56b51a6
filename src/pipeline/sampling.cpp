// Sampling a task set into samples JSONL: the on-policy stage of a round, and `codealign sample`.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/progress.h"
#include "pipeline/pause_point.h"
#include "pipeline/pipeline.h"

namespace codealign::pipeline {
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

// Completion-style code ends where the next top-level statement would begin. A whole program
// (MBPP, whose prompt is prose) may define several functions and classes after its imports: it
// ends only where code that drives or tests it would begin. A script judged on its stdout
// (stdin/stdout tests) prints and may have a main guard: only the model's end of text ends it.
const std::vector<std::string> completion_stops = {"\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert "};
const std::vector<std::string> program_stops = {"\nif __name__", "\nprint(", "\nassert "};
const std::vector<std::string> script_stops = {};

const std::vector<std::string>& stops_for(const tasks::TaskSet& tasks) {
  auto every_task = [&](bool (*holds)(const tasks::Task&)) { return std::all_of(tasks.tasks.begin(), tasks.tasks.end(), holds); };
  if (every_task([](const tasks::Task& t) { return t.has_io_tests(); })) return script_stops;
  if (every_task([](const tasks::Task& t) { return t.code_prompt.empty(); })) return program_stops;
  return completion_stops;
}

nlohmann::json sample_line(const std::string& task_id, const generation::Sample& s, bool chat) {
  nlohmann::json line = chat ? nlohmann::json{{"task_id", task_id}, {"solution", first_code_block(s.text)},
                                              {"response", s.text}}
                             : nlohmann::json{{"task_id", task_id}, {"completion", s.text}};
  // The sampled ids of the text, so that training scores the tokens the policy produced.
  line["completion_ids"] = std::vector<tokenizer::TokenId>(s.ids.begin(), s.ids.begin() + long(s.text_ids));
  line["finish_reason"] = s.finish_reason;  // "length": cut at max_new_tokens (GRPO's truncated completions)
  return line;
}

}  // namespace

void sample_tasks(const model::CausalLM& model, const tokenizer::Tokenizer& tokenizer, const tasks::TaskSet& tasks,
                  const SampleConfig& config, const std::string& out_path, size_t first_task, size_t count) {
  generation::SamplingConfig sampling = config.sampling;
  sampling.stop_ids = generation::stop_ids(model, tokenizer);
  if (!config.chat) {
    const auto& stops = stops_for(tasks);
    sampling.stop_strings.insert(sampling.stop_strings.end(), stops.begin(), stops.end());
  }

  AtomicFile out(out_path);
  size_t end = first_task + std::min(count, tasks.tasks.size() - first_task);
  Progress progress("sample (" + tasks.name + ")", (end - first_task) * size_t(sampling.samples_per_prompt));
  for (size_t first = first_task; first < end; first += config.batch) {
    size_t last = std::min(end, first + config.batch);
    std::vector<std::vector<tokenizer::TokenId>> prompts;
    for (size_t i = first; i < last; ++i) {
      const std::string& text = tasks.tasks[i].prompt;  // benchmark text: never parsed for special tokens
      tokenizer::Prompt prompt =
          config.chat ? tokenizer::render_chat(*config.chat, text) : tokenizer::Prompt{text, {{0, text.size()}}};
      prompts.push_back(tokenizer::encode_prompt_completion(tokenizer, prompt, "", false).prompt);
    }
    auto samples = generation::generate(model, tokenizer, prompts, sampling, [&](const generation::Sample&) { progress.advance(); });
    for (const auto& s : samples)
      out.write(sample_line(tasks.tasks[first + s.prompt_index].task_id, s, config.chat.has_value())
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n");
    pause_point("sample:" + tasks.name);
  }
  out.commit();
}

}  // namespace codealign::pipeline
