// A model's architecture as HF config.json states it (model_type "llama" or "qwen2").
// Torch-free: the sampler and the trainer read it before any weights are loaded.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace codealign::model {

struct RopeScaling {
  std::string type;  // "" (none), "linear", "dynamic", "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  int64_t original_max_position_embeddings = 0;         // llama3
};

struct ModelConfig {
  std::string model_type = "llama";
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // GQA: fewer key/value heads than query heads
  int64_t head_dim = 0;             // hidden_size / num_attention_heads unless given
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool attention_bias = false;  // q/k/v biases (always on for qwen2)
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  // As in transformers, the embedding row of the pad token gets no gradient from lookups.
  std::optional<int64_t> pad_token_id;
};

// Parses config.json text; `where` names the file in errors. Fields that change the math and
// are not supported (another hidden_act, mlp_bias, sliding windows, unknown rope scaling,
// unknown keys) are refused with the field named.
ModelConfig parse_config(const std::string& json_text, const std::string& where);
ModelConfig read_config(const std::string& path);
// config.json text that transformers and vLLM load.
std::string config_json(const ModelConfig& config);

// LoRA adapters (PEFT's names): rank 0 means none.
struct LoraConfig {
  int64_t rank = 0;  // 0: no adapters
  double alpha = 16;
  double dropout = 0.0;
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
};

}  // namespace codealign::model
