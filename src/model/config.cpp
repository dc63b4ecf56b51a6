#include "model/config.h"

#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace codealign::model {
namespace {

using nlohmann::json;

// Keys that describe a file or training rather than the forward pass.
const std::set<std::string> harmless_keys = {
    "architectures", "transformers_version", "_name_or_path", "use_cache", "initializer_range",
    "pad_token_id", "attention_dropout", "max_window_layers", "sliding_window", "pretraining_tp",
    "torch_dtype", "dtype", "bos_token_id", "eos_token_id", "model_type", "tie_word_embeddings",
    "use_sliding_window", "hidden_act", "mlp_bias", "attention_bias", "rope_scaling", "rope_theta",
    "rope_parameters",
    "rms_norm_eps", "max_position_embeddings", "head_dim", "vocab_size", "hidden_size",
    "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
    "layer_types", "output_attentions", "output_hidden_states",
    "return_dict", "id2label", "label2id", "tokenizer_class", "task_specific_params",
    "generation_config", "_attn_implementation_autoset", "keys_to_ignore_at_inference",
};

}  // namespace

ModelConfig parse_config(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error("model: bad JSON in '" + where + "': " + e.what());
  }
  auto fail = [&](const std::string& field, const std::string& why) -> Error {
    return Error("model: config '" + where + "' field '" + field + "': " + why);
  };
  for (const auto& [key, value] : j.items())
    if (!harmless_keys.count(key) && !value.is_null())
      throw fail(key, "unknown to codealign, so it may change the model's math; refused");
  ModelConfig c;
  auto integer = [&](const char* key, std::optional<int64_t> fallback = std::nullopt) {
    if (!j.contains(key) || j[key].is_null()) {
      if (fallback) return *fallback;
      throw fail(key, "missing");
    }
    if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0) throw fail(key, "must be a positive integer");
    return j[key].get<int64_t>();
  };
  auto number = [&](const char* key, double fallback) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number()) throw fail(key, "must be a number");
    return j[key].get<double>();
  };
  c.model_type = j.value("model_type", "");
  if (c.model_type != "llama" && c.model_type != "qwen2")
    throw fail("model_type", "'" + c.model_type + "' is not supported (llama, qwen2)");
  if (j.value("hidden_act", "silu") != "silu") throw fail("hidden_act", "only silu is supported");
  if (j.value("mlp_bias", false)) throw fail("mlp_bias", "MLP biases are not supported");
  if (j.value("use_sliding_window", false)) throw fail("use_sliding_window", "sliding-window attention is not supported");
  if (j.contains("layer_types") && j["layer_types"].is_array())
    for (const json& type : j["layer_types"])
      if (type != "full_attention") throw fail("layer_types", "only full_attention layers are supported");
  c.vocab_size = integer("vocab_size");
  c.hidden_size = integer("hidden_size");
  c.intermediate_size = integer("intermediate_size");
  c.num_hidden_layers = integer("num_hidden_layers");
  c.num_attention_heads = integer("num_attention_heads");
  c.num_key_value_heads = integer("num_key_value_heads", c.num_attention_heads);
  c.head_dim = integer("head_dim", c.hidden_size / c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw fail("num_key_value_heads", "must divide num_attention_heads");
  if (c.head_dim % 2 != 0) throw fail("head_dim", "must be even for rotary embeddings");
  c.max_position_embeddings = integer("max_position_embeddings", 2048);
  c.rms_norm_eps = number("rms_norm_eps", 1e-6);
  c.rope_theta = number("rope_theta", 10000.0);
  c.attention_bias = c.model_type == "qwen2" || j.value("attention_bias", false);
  c.tie_word_embeddings = j.value("tie_word_embeddings", false);
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"];
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"].get<int64_t>();
  if (j.contains("pad_token_id") && !j["pad_token_id"].is_null()) {
    // Negative ids count from the end, as nn.Embedding's padding_idx does (old Llama configs say -1).
    int64_t pad = j["pad_token_id"].is_number_integer() ? j["pad_token_id"].get<int64_t>() : c.vocab_size;
    if (pad < -c.vocab_size || pad >= c.vocab_size) throw fail("pad_token_id", "must be a token id within vocab_size");
    c.pad_token_id = pad < 0 ? pad + c.vocab_size : pad;
  }
  if (j.contains("eos_token_id")) {
    const json& eos = j["eos_token_id"];
    if (eos.is_number_integer()) c.eos_token_ids.push_back(eos.get<int64_t>());
    if (eos.is_array())
      for (const json& id : eos) c.eos_token_ids.push_back(id.get<int64_t>());
  }
  // transformers >= 5 writes "rope_parameters" (rope_theta inside); older files "rope_scaling".
  const char* rope_key = j.contains("rope_parameters") && !j["rope_parameters"].is_null() ? "rope_parameters"
                                                                                           : "rope_scaling";
  if (j.contains(rope_key) && !j[rope_key].is_null()) {
    const json& r = j[rope_key];
    if (!r.is_object()) throw fail(rope_key, "must be an object");
    static const std::set<std::string> rope_fields = {"rope_type", "type", "factor", "low_freq_factor",
                                                      "high_freq_factor", "original_max_position_embeddings",
                                                      "rope_theta"};
    for (const auto& [key, value] : r.items())
      if (!rope_fields.count(key) && !value.is_null())
        throw fail(std::string(rope_key) + "." + key, "unknown to codealign, so it may change the model's math; refused");
    std::string type = r.value("rope_type", r.value("type", "default"));
    if (type != "linear" && type != "dynamic" && type != "llama3" && type != "default")
      throw fail(rope_key, "type '" + type + "' is not supported (default, linear, dynamic, llama3)");
    if (r.contains("rope_theta")) c.rope_theta = r["rope_theta"].get<double>();
    if (type != "default") {
      c.rope_scaling.type = type;
      c.rope_scaling.factor = r.value("factor", 1.0);
      c.rope_scaling.low_freq_factor = r.value("low_freq_factor", 1.0);
      c.rope_scaling.high_freq_factor = r.value("high_freq_factor", 4.0);
      c.rope_scaling.original_max_position_embeddings =
          r.value("original_max_position_embeddings", c.max_position_embeddings);
    }
  }
  return c;
}

ModelConfig read_config(const std::string& path) { return parse_config(read_file(path), path); }

std::string config_json(const ModelConfig& c) {
  json j = {
      {"architectures", {c.model_type == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"}},
      {"model_type", c.model_type},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads},
      {"head_dim", c.head_dim},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"torch_dtype", c.torch_dtype},
  };
  if (c.model_type == "llama") j["attention_bias"] = c.attention_bias;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  if (c.eos_token_ids.size() > 1) j["eos_token_id"] = c.eos_token_ids;
  if (!c.rope_scaling.type.empty()) {
    j["rope_scaling"] = {{"rope_type", c.rope_scaling.type}, {"factor", c.rope_scaling.factor}};
    if (c.rope_scaling.type == "llama3") {
      j["rope_scaling"]["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      j["rope_scaling"]["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      j["rope_scaling"]["original_max_position_embeddings"] = c.rope_scaling.original_max_position_embeddings;
    }
  }
  return j.dump(2) + "\n";
}

}  // namespace codealign::model
