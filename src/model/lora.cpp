// LoRA adapters: creation, merging, and PEFT's file layout.
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/model.h"
#include "model/safetensors.h"

namespace codealign::model {

void CausalLM::add_lora(const LoraConfig& config, uint64_t seed) {
  if (config.rank <= 0) throw Error("model: LoRA rank must be positive");
  lora_ = config;
  adapters_.clear();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& [name, weight] : parameters_) {
    if (!name.ends_with("_proj.weight")) continue;
    std::string module = name.substr(0, name.size() - 7);  // without ".weight"
    std::string leaf = module.substr(module.rfind('.') + 1);
    if (std::find(config.target_modules.begin(), config.target_modules.end(), leaf) == config.target_modules.end()) continue;
    int64_t out = weight.size(0), in = weight.size(1);
    // PEFT's init: A kaiming-uniform (a = sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)); B zero.
    double bound = 1.0 / std::sqrt(double(in));
    adapters_[module + ".lora_A.weight"] = (torch::rand({config.rank, in}, generator) * 2 - 1).mul(bound).to(weight.options());
    adapters_[module + ".lora_B.weight"] = torch::zeros({out, config.rank}, weight.options());
  }
  if (adapters_.empty()) throw Error("model: no projection matches the LoRA target modules");
}

void CausalLM::merge_lora() {
  torch::NoGradGuard no_grad;
  double scale = lora_.alpha / double(lora_.rank);
  for (const auto& [name, a] : adapters_) {
    if (!name.ends_with(".lora_A.weight")) continue;
    std::string module = name.substr(0, name.size() - 14);
    torch::Tensor& weight = parameters_.at(module + ".weight");
    weight = (weight + scale * torch::matmul(adapters_.at(module + ".lora_B.weight"), a)).detach();
  }
  adapters_.clear();
}

void CausalLM::save_adapters(const std::string& directory) const {
  std::filesystem::create_directories(directory);
  write_safetensors(directory + "/adapter_model.safetensors", adapters_, torch::kFloat32);
  nlohmann::json config = {{"peft_type", "LORA"}, {"r", lora_.rank}, {"lora_alpha", lora_.alpha},
                           {"lora_dropout", lora_.dropout}, {"target_modules", lora_.target_modules},
                           {"bias", "none"}, {"task_type", "CAUSAL_LM"}};
  AtomicFile file(directory + "/adapter_config.json");
  file.write(config.dump(2) + "\n");
  file.commit();
}

void CausalLM::load_adapters(const std::string& directory) {
  std::string config_path = directory + "/adapter_config.json";
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("model: bad adapter config '" + config_path + "': " + e.what());
  }
  lora_.rank = config.at("r").get<int64_t>();
  lora_.alpha = config.at("lora_alpha").get<double>();
  lora_.dropout = config.value("lora_dropout", 0.0);
  lora_.target_modules = config.at("target_modules").get<std::vector<std::string>>();
  adapters_ = read_safetensors(directory + "/adapter_model.safetensors");
  for (auto& [name, tensor] : adapters_) {
    std::string module = name.substr(0, name.rfind(".lora_"));
    if (!parameters_.count(module + ".weight"))
      throw Error("model: adapter '" + name + "' in '" + directory + "' has no base projection");
    tensor = tensor.to(parameters_.at(module + ".weight").options());
  }
}

}  // namespace codealign::model
