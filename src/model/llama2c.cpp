// llama2.c checkpoints (the legacy "version 0" .bin): a header of seven int32 (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means
// an unshared classifier), then float32 weights layer-major. llama2.c rotates interleaved
// pairs, HF rotates halves, so q and k rows are permuted as HF's conversion script does.
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "model/model.h"

namespace codealign::model {

CausalLM load_llama2c(const std::string& path, torch::Dtype dtype) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model: cannot open '" + path + "': " + std::strerror(errno));
  int32_t header[7];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header))
    throw Error("model: '" + path + "' is too short for a llama2.c header");
  int64_t dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kv_heads = header[4],
          vocab = std::abs(header[5]), seq_len = header[6];
  bool shared = header[5] > 0;
  if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kv_heads <= 0 || seq_len <= 0 || dim % heads != 0)
    throw Error("model: '" + path + "' has an implausible llama2.c header");
  ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = vocab;
  c.hidden_size = dim;
  c.intermediate_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.head_dim = dim / heads;
  c.max_position_embeddings = seq_len;
  c.rms_norm_eps = 1e-5;  // llama2.c's constant
  c.tie_word_embeddings = shared;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  int64_t kv_dim = kv_heads * c.head_dim;
  // The weights the header promises must be in the file before anything is allocated, so a
  // hostile header cannot ask for terabytes. Each term is below 2^93: no overflow in 128 bits.
  using Wide = unsigned __int128;
  Wide per_layer_floats = Wide(2 * dim) + Wide(2 * dim) * dim + Wide(2 * kv_dim) * dim + Wide(3 * hidden) * dim;
  Wide floats = Wide(vocab) * dim * (shared ? 1 : 2) + Wide(layers) * per_layer_floats + dim + Wide(seq_len) * c.head_dim;
  in.seekg(0, std::ios::end);
  Wide file_size = Wide(uint64_t(in.tellg()));
  in.seekg(sizeof header);
  if (file_size < sizeof header + floats * 4)
    throw Error("model: '" + path + "' is shorter than its llama2.c header promises (" + std::to_string(uint64_t(file_size)) +
                " bytes)");

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
