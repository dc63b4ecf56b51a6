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

// Typed reads of one JSON object's fields: a mistyped field is refused by name (a JSON library
// exception would not say which field, or which file).
class Fields {
 public:
  Fields(const json& object, std::string where, std::string prefix = "")
      : object_(object), where_(std::move(where)), prefix_(std::move(prefix)) {}

  const json* find(const std::string& key) const {
    auto found = object_.find(key);
    return found == object_.end() || found->is_null() ? nullptr : &*found;
  }
  Error fail(const std::string& key, const std::string& why) const {
    return Error("model: config '" + where_ + "' field '" + prefix_ + key + "': " + why);
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_string()) throw fail(key, "must be a string");
    return value->get<std::string>();
  }
  bool flag(const std::string& key, bool fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_boolean()) throw fail(key, "must be true or false");
    return value->get<bool>();
  }
  double number(const std::string& key, double fallback) const {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number()) throw fail(key, "must be a number");
    return value->get<double>();
  }
  int64_t positive(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    const json* value = find(key);
    if (!value) {
      if (fallback) return *fallback;
      throw fail(key, "missing");
    }
    if (!value->is_number_integer() || value->get<int64_t>() <= 0) throw fail(key, "must be a positive integer");
    return value->get<int64_t>();
  }
  // A token id or a list of them (eos_token_id is either).
  std::vector<int64_t> token_ids(const std::string& key) const {
    const json* value = find(key);
    std::vector<int64_t> ids;
    if (!value) return ids;
    auto id = [&](const json& item) {
      if (!item.is_number_integer()) throw fail(key, "must be a token id or a list of them");
      return item.get<int64_t>();
    };
    if (value->is_array()) {
      for (const json& item : *value) ids.push_back(id(item));
    } else {
      ids.push_back(id(*value));
    }
    return ids;
  }

 private:
  const json& object_;
  std::string where_, prefix_;
};

// Keys unknown to codealign may change the forward pass: they are refused, not ignored.
void refuse_unknown_keys(const json& object, const std::set<std::string>& known, const Fields& fields) {
  for (const auto& [key, value] : object.items())
    if (!known.count(key) && !value.is_null())
      throw fields.fail(key, "unknown to codealign, so it may change the model's math; refused");
}

void read_architecture(const Fields& f, ModelConfig& c) {
  c.model_type = f.text("model_type", "");
  if (c.model_type != "llama" && c.model_type != "qwen2")
    throw f.fail("model_type", "'" + c.model_type + "' is not supported (llama, qwen2)");
  if (f.text("hidden_act", "silu") != "silu") throw f.fail("hidden_act", "only silu is supported");
  if (f.flag("mlp_bias", false)) throw f.fail("mlp_bias", "MLP biases are not supported");
  if (f.flag("use_sliding_window", false)) throw f.fail("use_sliding_window", "sliding-window attention is not supported");
  if (const json* types = f.find("layer_types"); types && types->is_array())
    for (const json& type : *types)
      if (type != "full_attention") throw f.fail("layer_types", "only full_attention layers are supported");
  c.vocab_size = f.positive("vocab_size");
  c.hidden_size = f.positive("hidden_size");
  c.intermediate_size = f.positive("intermediate_size");
  c.num_hidden_layers = f.positive("num_hidden_layers");
  c.num_attention_heads = f.positive("num_attention_heads");
  c.num_key_value_heads = f.positive("num_key_value_heads", c.num_attention_heads);
  c.head_dim = f.positive("head_dim", c.hidden_size / c.num_attention_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    throw f.fail("num_key_value_heads", "must divide num_attention_heads");
  if (c.head_dim % 2 != 0) throw f.fail("head_dim", "must be even for rotary embeddings");
  c.max_position_embeddings = f.positive("max_position_embeddings", 2048);
  c.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
  c.rope_theta = f.number("rope_theta", 10000.0);
  c.attention_bias = c.model_type == "qwen2" || f.flag("attention_bias", false);
  c.tie_word_embeddings = f.flag("tie_word_embeddings", false);
}

void read_special_tokens(const Fields& f, ModelConfig& c) {
  if (const json* dtype = f.find("torch_dtype"); dtype && dtype->is_string()) c.torch_dtype = dtype->get<std::string>();
  if (const json* bos = f.find("bos_token_id"); bos && bos->is_number_integer()) c.bos_token_id = bos->get<int64_t>();
  if (const json* pad = f.find("pad_token_id")) {
    // Negative ids count from the end, as nn.Embedding's padding_idx does (old Llama configs say -1).
    int64_t id = pad->is_number_integer() ? pad->get<int64_t>() : c.vocab_size;
    if (id < -c.vocab_size || id >= c.vocab_size) throw f.fail("pad_token_id", "must be a token id within vocab_size");
    c.pad_token_id = id < 0 ? id + c.vocab_size : id;
  }
  c.eos_token_ids = f.token_ids("eos_token_id");
}

// transformers >= 5 writes "rope_parameters" (rope_theta inside); older files "rope_scaling".
void read_rope(const Fields& f, const std::string& where, ModelConfig& c) {
  std::string key = f.find("rope_parameters") ? "rope_parameters" : "rope_scaling";
  const json* rope = f.find(key);
  if (!rope) return;
  if (!rope->is_object()) throw f.fail(key, "must be an object");
  Fields r(*rope, where, key + ".");
  refuse_unknown_keys(*rope, {"rope_type", "type", "factor", "low_freq_factor", "high_freq_factor",
                              "original_max_position_embeddings", "rope_theta"}, r);
  std::string type = r.text("rope_type", r.text("type", "default"));
  if (type != "linear" && type != "dynamic" && type != "llama3" && type != "default")
    throw f.fail(key, "type '" + type + "' is not supported (default, linear, dynamic, llama3)");
  c.rope_theta = r.number("rope_theta", c.rope_theta);
  if (type == "default") return;
  c.rope_scaling.type = type;
  c.rope_scaling.factor = r.number("factor", 1.0);
  c.rope_scaling.low_freq_factor = r.number("low_freq_factor", 1.0);
  c.rope_scaling.high_freq_factor = r.number("high_freq_factor", 4.0);
  c.rope_scaling.original_max_position_embeddings =
      r.positive("original_max_position_embeddings", c.max_position_embeddings);
}

}  // namespace

ModelConfig parse_config(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error("model: bad JSON in '" + where + "': " + e.what());
  }
  if (!j.is_object()) throw Error("model: config '" + where + "' must be a JSON object");
  Fields fields(j, where);
  refuse_unknown_keys(j, harmless_keys, fields);
  ModelConfig c;
  read_architecture(fields, c);
  read_special_tokens(fields, c);
  read_rope(fields, where, c);
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
