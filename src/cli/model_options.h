// Options shared by the commands that load a model and sample from it (generate, sample).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "generation/generation.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "training/trainer.h"

namespace codealign::cli {

struct ModelOptions {
  std::string model, tokenizer, chat = "none";
  std::string device = "auto", dtype = "auto";  // model/device.h
  generation::SamplingConfig sampling;

  void add_to(CLI::App* sub, double default_temperature, int64_t default_max_new_tokens);
  // Loads the model (on --device, in --dtype) and its tokenizer (the model directory's, or --tokenizer).
  model::CausalLM load_model() const;
  tokenizer::Tokenizer load_tokenizer() const;
  // The chat format: none (completion style), auto (from tokenizer_config.json), or a name or file.
  std::optional<tokenizer::ChatFormat> chat_format() const;
};

// A --chat value: none (completion style), auto (from the tokenizer_config.json in
// `tokenizer_dir`; none when it has no known template), a built-in name, or a format file.
std::optional<tokenizer::ChatFormat> resolve_chat_format(const std::string& spec, const std::string& tokenizer_dir);

// train's optimisation and loss options (not mode, paths or --config), each named
// "--" + prefix + name: `train` uses no prefix, `align` "train-".
void add_train_options(CLI::App* app, training::TrainConfig& config, const std::string& prefix);

// --device and --dtype, for every command that runs a model.
void add_device_options(CLI::App* app, std::string& device, std::string& dtype);

// --dist-backend and --dist-timeout, for the commands that run as several processes.
void add_distributed_options(CLI::App* app, distributed::Settings& settings);

}  // namespace codealign::cli
