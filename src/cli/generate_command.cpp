// `codealign generate`: sample text from a model for prompts given on the command line.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_options.h"

namespace codealign::cli {

Command add_generate_command(CLI::App& app) {
  struct Options {
    ModelOptions model;
    std::vector<std::string> prompts;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("generate", "Generate text from a model for the given prompts");
  o->model.add_to(sub, 0.0, 128);
  sub->add_option("-p,--prompt", o->prompts, "A prompt (repeatable); with --chat it is the user message")->required();
  sub->add_flag("--json", o->json, "Print one JSON object per sample: prompt, sample, text, finish_reason, tokens");
  return [o] {
    model::CausalLM model = o->model.load_model();
    tokenizer::Tokenizer tok = o->model.load_tokenizer();
    auto format = o->model.chat_format();
    std::vector<std::vector<tokenizer::TokenId>> prompts;
    for (const std::string& text : o->prompts) {
      tokenizer::Prompt prompt = format ? tokenizer::render_chat(*format, text) : tokenizer::Prompt{text, {}};
      prompts.push_back(tokenizer::encode_prompt_completion(tok, prompt, "", false).prompt);
    }
    generation::SamplingConfig config = o->model.sampling;
    config.stop_ids = generation::stop_ids(model, tok);
    auto samples = generation::generate(model, tok, prompts, config);
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto& s = samples[i];
      if (o->json)
        std::cout << nlohmann::json{{"prompt", s.prompt_index}, {"sample", i % size_t(config.samples_per_prompt)},
                                    {"text", s.text}, {"finish_reason", s.finish_reason}, {"tokens", s.ids.size()}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
      else
        std::cout << (i ? "\n" : "") << s.text << "\n";
    }
    return exit_ok;
  };
}

}  // namespace codealign::cli
