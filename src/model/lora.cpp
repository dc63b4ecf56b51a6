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
    // Float32 whatever the base's dtype: adapters are what trains (a bfloat16 base stays frozen).
    adapters_[module + ".lora_A.weight"] = (torch::rand({config.rank, in}, generator) * 2 - 1).mul(bound).to(weight.device());
    adapters_[module + ".lora_B.weight"] = torch::zeros({out, config.rank}, weight.options().dtype(torch::kFloat32));
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
    // In float32: a bfloat16 weight would round most of a small update away.
    torch::Tensor update = scale * torch::matmul(adapters_.at(module + ".lora_B.weight"), a);
    weight = (weight.to(torch::kFloat32) + update).detach();
  }
  adapters_.clear();
}

// PEFT stores adapter tensors under the wrapped model's names.
const std::string peft_prefix = "base_model.model.";

void CausalLM::save_adapters(const std::string& directory) const {
  std::filesystem::create_directories(directory);
  std::map<std::string, torch::Tensor> named;
  for (const auto& [name, tensor] : adapters_) named[peft_prefix + name] = tensor;
  write_safetensors(directory + "/adapter_model.safetensors", named, torch::kFloat32);
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
  auto fail = [&](const std::string& why) { return Error("model: adapter config '" + config_path + "': " + why); };
  // Variants that change the math and are not implemented.
  if (config.value("use_rslora", false) || config.value("use_dora", false) || config.value("fan_in_fan_out", false) ||
      config.value("bias", std::string("none")) != "none" ||
      (config.contains("rank_pattern") && !config["rank_pattern"].empty()) ||
      (config.contains("alpha_pattern") && !config["alpha_pattern"].empty()))
    throw fail("rslora, dora, fan_in_fan_out, biases and per-module rank/alpha patterns are not supported");
  try {
    lora_.rank = config.at("r").get<int64_t>();
    lora_.alpha = config.at("lora_alpha").get<double>();
    lora_.dropout = config.value("lora_dropout", 0.0);
    const auto& targets = config.at("target_modules");
    lora_.target_modules = targets.is_string() ? std::vector<std::string>{targets.get<std::string>()}
                                               : targets.get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw fail(e.what());
  }
  if (lora_.rank <= 0) throw fail("r must be positive");
  adapters_.clear();
  for (auto& [stored, tensor] : read_safetensors(directory + "/adapter_model.safetensors")) {
    std::string name = stored.rfind(peft_prefix, 0) == 0 ? stored.substr(peft_prefix.size()) : stored;
    adapters_[name] = tensor;
  }
  for (auto& [name, tensor] : adapters_) {
    bool is_a = name.ends_with(".lora_A.weight");
    std::string module = name.substr(0, name.rfind(".lora_"));
    auto base = parameters_.find(module + ".weight");
    if (base == parameters_.end()) throw fail("adapter '" + name + "' has no base projection");
    std::string partner = module + (is_a ? ".lora_B.weight" : ".lora_A.weight");
    if (!adapters_.count(partner)) throw fail("adapter '" + name + "' has no '" + partner + "'");
    std::vector<int64_t> expected = is_a ? std::vector<int64_t>{lora_.rank, base->second.size(1)}
                                         : std::vector<int64_t>{base->second.size(0), lora_.rank};
    if (tensor.sizes().vec() != expected) throw fail("adapter '" + name + "' does not have the shape r and its projection imply");
    tensor = tensor.to(base->second.device(), torch::kFloat32);
  }
}

}  // namespace codealign::model
