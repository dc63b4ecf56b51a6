// Checkpoints: HF directories (config.json + safetensors, sharded with an index) in and out,
// and llama2.c .bin files in.
#include <cstdio>
#include <filesystem>
#include <set>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/model.h"
#include "model/safetensors.h"

namespace codealign::model {
namespace fs = std::filesystem;

CausalLM load_llama2c(const std::string& path, torch::Dtype dtype);

namespace {

std::map<std::string, torch::Tensor> read_weights(const fs::path& directory) {
  fs::path index = directory / "model.safetensors.index.json";
  if (!fs::exists(index)) {
    fs::path single = directory / "model.safetensors";
    if (!fs::exists(single))
      throw Error("model: '" + directory.string() + "' has neither model.safetensors nor model.safetensors.index.json");
    return read_safetensors(single.string());
  }
  nlohmann::json map;
  try {
    map = nlohmann::json::parse(read_file(index.string())).at("weight_map");
  } catch (const nlohmann::json::exception& e) {
    throw Error("model: bad index '" + index.string() + "': " + e.what());
  }
  std::set<std::string> shards;
  for (const auto& [name, file] : map.items()) shards.insert(file.get<std::string>());
  std::map<std::string, torch::Tensor> tensors;
  for (const std::string& shard : shards)
    for (auto& [name, tensor] : read_safetensors((directory / shard).string())) {
      if (!map.contains(name) || map[name] != shard)
        throw Error("model: tensor '" + name + "' in shard '" + shard + "' is not listed there by '" + index.string() + "'");
      tensors[name] = tensor;
    }
  for (const auto& [name, file] : map.items())
    if (!tensors.count(name))
      throw Error("model: '" + index.string() + "' lists tensor '" + name + "' in '" + file.get<std::string>() + "', which lacks it");
  return tensors;
}

}  // namespace

CausalLM CausalLM::load(const std::string& path, torch::Dtype dtype, torch::Device device) {
  if (fs::is_regular_file(path) && fs::path(path).extension() == ".bin") {
    CausalLM model = load_llama2c(path, dtype);
    model.to(device);
    return model;
  }
  if (!fs::is_directory(path)) throw Error("model: '" + path + "' is neither a model directory nor a llama2.c .bin file");
  fs::path directory(path);
  ModelConfig config = read_config((directory / "config.json").string());
  std::map<std::string, torch::Tensor> tensors = read_weights(directory);
  if (config.tie_word_embeddings) tensors.erase("lm_head.weight");  // some exporters write the tied copy too
  // Old exports carry the rotary tables as tensors; they are recomputed, as in HF.
  for (auto it = tensors.begin(); it != tensors.end();)
    it = it->first.ends_with(".rotary_emb.inv_freq") ? tensors.erase(it) : std::next(it);
  for (auto& [name, tensor] : tensors) tensor = tensor.to(device, dtype);
  try {
    return CausalLM(std::move(config), std::move(tensors));
  } catch (const Error& e) {  // name the checkpoint as well as the tensor
    throw Error(std::string(e.what()) + " (in '" + path + "')");
  }
}

void CausalLM::save(const std::string& directory, torch::Dtype dtype, int64_t max_shard_bytes) const {
  fs::create_directories(directory);
  ModelConfig config = config_;
  config.torch_dtype = dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
  // Greedy shards in name order, each under max_shard_bytes (a bigger tensor gets its own).
  std::vector<std::map<std::string, torch::Tensor>> shards(1);
  int64_t shard_bytes = 0, element = torch::elementSize(dtype);
  for (const auto& [name, tensor] : parameters_) {
    int64_t bytes = tensor.numel() * element;
    if (shard_bytes > 0 && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back()[name] = tensor;
    shard_bytes += bytes;
  }
  fs::path dir(directory);
  fs::remove(dir / "model.safetensors");
  fs::remove(dir / "model.safetensors.index.json");
  if (shards.size() == 1) {
    write_safetensors((dir / "model.safetensors").string(), shards[0], dtype);
  } else {
    nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
    int64_t total = 0;
    for (size_t i = 0; i < shards.size(); ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
      write_safetensors((dir / name).string(), shards[i], dtype);
      for (const auto& [tensor_name, tensor] : shards[i]) {
        index["weight_map"][tensor_name] = name;
        total += tensor.numel() * element;
      }
    }
    index["metadata"]["total_size"] = total;
    AtomicFile file((dir / "model.safetensors.index.json").string());
    file.write(index.dump(2) + "\n");
    file.commit();
  }
  AtomicFile file((dir / "config.json").string());
  file.write(config_json(config));
  file.commit();
}

}  // namespace codealign::model
