// Options shared by the commands that load a model and sample from it (generate, sample).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "generation/generation.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace codealign::cli {

struct ModelOptions {
  std::string model, tokenizer, chat = "none";
  generation::SamplingConfig sampling;

  void add_to(CLI::App* sub, double default_temperature, int64_t default_max_new_tokens);
  // Loads the model (float32, CPU) and its tokenizer (the model directory's, or --tokenizer).
  model::CausalLM load_model() const;
  tokenizer::Tokenizer load_tokenizer() const;
  // The chat format: none (completion style), auto (from tokenizer_config.json), or a name or file.
  std::optional<tokenizer::ChatFormat> chat_format() const;
  // Stop ids: the tokenizer's end-of-text/turn ids and the config's eos ids.
  std::vector<tokenizer::TokenId> stop_ids(const model::CausalLM& model, const tokenizer::Tokenizer& tok) const;
};

}  // namespace codealign::cli
