// llama2.c checkpoints (the legacy "version 0" .bin): a header of seven int32 (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means
// an unshared classifier), then float32 weights layer-major. llama2.c rotates interleaved
// pairs, HF rotates halves, so q and k rows are permuted as HF's conversion script does.
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "model/model.h"
#include "model/weight_files.h"

namespace codealign::model {

CausalLM load_llama2c(const std::string& path, torch::Dtype dtype) {
  Llama2cHeader header = read_llama2c_header(path);
  ModelConfig c = header.config;
  bool shared = header.shared_classifier;
  int64_t dim = c.hidden_size, hidden = c.intermediate_size, layers = c.num_hidden_layers,
          heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, vocab = c.vocab_size,
          seq_len = c.max_position_embeddings, kv_dim = kv_heads * c.head_dim;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model: cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(7 * sizeof(int32_t));
  auto read = [&](std::vector<int64_t> shape) {
    torch::Tensor t = torch::empty(shape, torch::kFloat32);
    if (!in.read(static_cast<char*>(t.data_ptr()), std::streamsize(t.numel() * 4)))
      throw Error("model: '" + path + "' ends before its weights do");
    return t;
  };
  // Interleaved rotary pairs (0,1),(2,3).. per head -> halves (0..D/2, D/2..D), as HF's
  // convert_llama_weights_to_hf permute().
  auto to_halves = [&](const torch::Tensor& w, int64_t n_heads) {
    return w.view({n_heads, c.head_dim / 2, 2, w.size(1)}).transpose(1, 2).reshape({w.size(0), w.size(1)});
  };
  std::map<std::string, torch::Tensor> p;
  p["model.embed_tokens.weight"] = read({vocab, dim});
  auto per_layer = [&](const std::string& name, std::vector<int64_t> shape) {
    std::vector<int64_t> full = {layers};
    full.insert(full.end(), shape.begin(), shape.end());
    torch::Tensor all = read(full);
    for (int64_t l = 0; l < layers; ++l) p["model.layers." + std::to_string(l) + "." + name] = all[l].clone();
  };
  per_layer("input_layernorm.weight", {dim});
  per_layer("self_attn.q_proj.weight", {dim, dim});
  per_layer("self_attn.k_proj.weight", {kv_dim, dim});
  per_layer("self_attn.v_proj.weight", {kv_dim, dim});
  per_layer("self_attn.o_proj.weight", {dim, dim});
  per_layer("post_attention_layernorm.weight", {dim});
  per_layer("mlp.gate_proj.weight", {hidden, dim});
  per_layer("mlp.down_proj.weight", {dim, hidden});
  per_layer("mlp.up_proj.weight", {hidden, dim});
  p["model.norm.weight"] = read({dim});
  read({seq_len, c.head_dim / 2});  // precomputed rotary tables, recomputed here
  read({seq_len, c.head_dim / 2});
  if (!shared) p["lm_head.weight"] = read({vocab, dim});
  for (int64_t l = 0; l < layers; ++l) {
    std::string prefix = "model.layers." + std::to_string(l) + ".self_attn.";
    p[prefix + "q_proj.weight"] = to_halves(p[prefix + "q_proj.weight"], heads);
    p[prefix + "k_proj.weight"] = to_halves(p[prefix + "k_proj.weight"], kv_heads);
  }
  for (auto& [name, t] : p) t = t.to(dtype);
  return CausalLM(std::move(c), std::move(p));
}

}  // namespace codealign::model
