#include "cli/model_options.h"

#include <algorithm>
#include <filesystem>

#include "cli/enum_option.h"
#include "cli/option_checks.h"
#include "common/error.h"
#include "model/device.h"

namespace codealign::cli {

void ModelOptions::add_to(CLI::App* sub, double default_temperature, int64_t default_max_new_tokens) {
  sampling.temperature = default_temperature;
  sampling.max_new_tokens = default_max_new_tokens;
  sub->add_option("-m,--model", model, "HF model directory (config.json + safetensors) or a llama2.c .bin")->required();
  sub->add_option("--tokenizer", tokenizer, "Tokenizer file or directory (default: the model directory)");
  sub->add_option("--chat", chat, "Chat format for instruct models: none (completion style), auto "
                                  "(from tokenizer_config.json), chatml, qwen2.5, llama-2, deepseek-coder, or a JSON file")
      ->capture_default_str();
  sub->add_option("--max-new-tokens", sampling.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str()
      ->check(at_least(1));
  sub->add_option("-t,--temperature", sampling.temperature, "Sampling temperature; 0 is greedy")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--top-p", sampling.top_p, "Nucleus sampling: keep the most likely tokens covering this mass")
      ->capture_default_str()
      ->check(above_up_to(0, 1));
  sub->add_option("--top-k", sampling.top_k, "Keep only the k most likely tokens (0: off)")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--seed", sampling.seed, "Random seed (the same seed gives the same samples)")->capture_default_str();
  sub->add_option("-n,--n", sampling.samples_per_prompt, "Samples per prompt")->capture_default_str()
      ->check(at_least(1));
  sub->add_option("--stop", sampling.stop_strings, "A stop string (repeatable)");
  sub->add_flag_callback("--no-cuda-graphs", [this] { sampling.decode = generation::DecodeMode::eager; },
                         "On a GPU, run each decode step's kernels one by one instead of replaying a CUDA graph");
  add_device_options(sub, device, dtype);
}

void add_device_options(CLI::App* app, std::string& device, std::string& dtype) {
  app->add_option("--device", device, "auto (the first GPU if there is one), cpu, cuda or cuda:N")->capture_default_str();
  app->add_option("--dtype", dtype,
                  "auto (bfloat16 on a GPU, float32 on the CPU), float32, bfloat16 or float16; training in bfloat16 "
                  "keeps float32 master weights and optimizer state")
      ->capture_default_str();
}

void add_distributed_options(CLI::App* app, distributed::Settings& settings) {
  add_enum_option(app, "--dist-backend", settings.backend, distributed::backend_kinds,
                  "Under torchrun, srun or mpirun: the collectives' backend: gloo (CPU), nccl (GPUs), or auto (nccl when "
                  "training on a GPU)");
  app->add_option("--dist-timeout", settings.timeout_seconds,
                  "Seconds a collective waits for the other processes before it fails naming the ones that are gone")
      ->capture_default_str()
      ->check(at_least(1));
}

model::CausalLM ModelOptions::load_model() const {
  at::set_num_threads(1);
  torch::Device where = model::resolve_device(device);
  return model::CausalLM::load(model, model::resolve_dtype(dtype, where), where);
}

tokenizer::Tokenizer ModelOptions::load_tokenizer() const {
  if (!tokenizer.empty()) return tokenizer::Tokenizer::load(tokenizer);
  if (std::filesystem::is_directory(model)) return tokenizer::Tokenizer::load(model);
  throw Error("a llama2.c model needs --tokenizer (its tok*.bin)");
}

std::optional<tokenizer::ChatFormat> resolve_chat_format(const std::string& spec, const std::string& tokenizer_dir) {
  if (spec == "none") return std::nullopt;
  if (spec == "auto") {
    std::string config = (std::filesystem::path(tokenizer_dir) / "tokenizer_config.json").string();
    if (!std::filesystem::exists(config)) return std::nullopt;
    return tokenizer::detect_chat_format(config);
  }
  if (spec.ends_with(".json")) return tokenizer::load_chat_format(spec);
  return tokenizer::builtin_chat_format(spec);
}

std::optional<tokenizer::ChatFormat> ModelOptions::chat_format() const {
  return resolve_chat_format(chat, tokenizer.empty() ? model : tokenizer);
}

}  // namespace codealign::cli
