// The forward pass: embeddings, then per layer RMSNorm -> attention (RoPE, GQA) -> residual,
// RMSNorm -> SwiGLU MLP -> residual; a final RMSNorm and the LM head. Math as transformers'
// LlamaForCausalLM / Qwen2ForCausalLM.
#include <cmath>
#include <limits>
#include <tuple>

#include "common/error.h"
#include "model/model.h"
#include "model/own_key_attention.h"

namespace codealign::model {

namespace {

std::string layer_name(int64_t layer, const std::string& rest) {
  return "model.layers." + std::to_string(layer) + "." + rest;
}

// RMSNorm in float32, cast back before the weight (as HF does).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  torch::Tensor x32 = x.to(torch::kFloat32);
  torch::Tensor normed = x32 * torch::rsqrt(x32.pow(2).mean(-1, true) + eps);
  return weight * normed.to(x.scalar_type());
}

// x W^T (+ b): the nn.Linear of HF's modules.
torch::Tensor project(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias = {}) {
  return bias.defined() ? at::linear(x, weight, bias) : at::linear(x, weight);
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  int64_t half = x.size(-1) / 2;
  return torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

// The [P * n, heads, T, X] rows of `rows_by_slot` in the grouped layout of a prompt's n
// copies, [P, kv_heads, group * n * T, X], so that one matrix product per prompt and key/value
// head covers every copy's queries.
torch::Tensor to_prompt_groups(const torch::Tensor& rows_by_slot, int64_t P, int64_t n, int64_t kv_heads) {
  int64_t heads = rows_by_slot.size(1), T = rows_by_slot.size(2), X = rows_by_slot.size(3);
  return rows_by_slot.view({P, n, kv_heads, heads / kv_heads, T, X})
      .permute({0, 2, 3, 1, 4, 5})
      .reshape({P, kv_heads, heads / kv_heads * n * T, X});
}

torch::Tensor from_prompt_groups(const torch::Tensor& groups, int64_t n, int64_t heads, int64_t T) {
  int64_t P = groups.size(0), kv_heads = groups.size(1), X = groups.size(3);
  return groups.view({P, kv_heads, heads / kv_heads, n, T, X}).permute({0, 3, 1, 2, 4, 5}).reshape({P * n, heads, T, X});
}

// q [B, heads, T, D] against k [B, kv_heads, L, D], scaled: each key/value head meets its
// group of query heads in one matrix product, without a copy of the keys per query head.
torch::Tensor grouped_scores(const torch::Tensor& q, const torch::Tensor& k) {
  int64_t B = q.size(0), heads = q.size(1), T = q.size(2), D = q.size(3), kv_heads = k.size(1);
  return torch::matmul(q.reshape({B, kv_heads, heads / kv_heads * T, D}), k.transpose(2, 3))
      .view({B, heads, T, k.size(2)})
      .mul_(1.0 / std::sqrt(double(D)));
}

// probabilities [B, heads, T, L] times v [B, kv_heads, L, D], grouped the same way.
torch::Tensor grouped_values(const torch::Tensor& probabilities, const torch::Tensor& v) {
  int64_t B = probabilities.size(0), heads = probabilities.size(1), T = probabilities.size(2);
  int64_t kv_heads = v.size(1), L = v.size(2);
  return torch::matmul(probabilities.reshape({B, kv_heads, heads / kv_heads * T, L}), v).view({B, heads, T, v.size(3)});
}

// Softmax in float32 (as the fused kernels accumulate), back in the values' dtype.
torch::Tensor attention_weights(const torch::Tensor& scores, torch::ScalarType dtype) {
  return scores.softmax(-1, torch::kFloat32).to(dtype);
}

const double minus_infinity = -std::numeric_limits<double>::infinity();

// Masked attention with grouped heads, for decode steps: given a mask, SDPA's only kernel for
// grouped heads is its plain one, which copies every cached key and value once per query head.
// Float32 on the CPU takes own_key_attention.h's loops (the whole cache is the row's own here).
torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& allowed) {
  if (!own_key_loops_apply(q, k)) {
    torch::Tensor scores = grouped_scores(q, k).masked_fill_(allowed.logical_not(), minus_infinity);
    return grouped_values(attention_weights(scores, v.scalar_type()), v);
  }
  int64_t B = q.size(0), heads = q.size(1), T = q.size(2), D = q.size(3);
  torch::Tensor scores = torch::empty({B, heads, T, k.size(2)}, q.options());
  own_key_scores(q, k, 1.0 / std::sqrt(double(D)), scores);
  torch::Tensor probabilities = attention_weights(scores.masked_fill_(allowed.logical_not(), minus_infinity), v.scalar_type());
  torch::Tensor attended = torch::zeros({B, heads, T, D}, q.options());
  add_own_values(probabilities, v, attended);
  return attended;
}

// Attention of q [B, heads, T, D] over the shared prompt of each row (KvCache::share_prefix)
// and the row's own keys and values k, v [B, kv_heads, L, D] (`allowed` [B, 1, T, L]): one
// softmax over both, as if the prompt's keys were in the row's cache. The masks and the moves
// between rows and the prompts' grid are skipped where they would change nothing: no padding in
// the prompts, no row gone, own keys all valid (a growing cache at one query per row). The own
// keys' part goes through own_key_attention.h's loops where they apply (float32 on the CPU).
torch::Tensor shared_prefix_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      const torch::Tensor& allowed, const KvCache::SharedPrefix& prefix, size_t layer,
                                      bool own_all_valid) {
  int64_t B = q.size(0), heads = q.size(1), T = q.size(2), D = q.size(3);
  int64_t kv_heads = k.size(1), L = k.size(2), P = prefix.prompts, n = prefix.copies, T0 = prefix.valid.size(1);
  double scale = 1.0 / std::sqrt(double(D));
  bool by_hand = own_key_loops_apply(q, k);
  auto to_grid = [&](const torch::Tensor& rows, int64_t width) {
    return prefix.every_slot ? rows
                             : torch::zeros({P * n, heads, T, width}, q.options()).index_copy_(0, prefix.slots, rows);
  };
  auto from_grid = [&](const torch::Tensor& grid) { return prefix.every_slot ? grid : grid.index_select(0, prefix.slots); };
  torch::Tensor scores = torch::empty({B, heads, T, T0 + L}, q.options());  // the prompt's keys, then the own
  torch::Tensor shared = scores.narrow(-1, 0, T0), own = scores.narrow(-1, T0, L);
  shared.copy_(from_grid(from_prompt_groups(
      torch::matmul(to_prompt_groups(to_grid(q, D), P, n, kv_heads), prefix.keys[layer].transpose(2, 3)), n, heads, T)));
  shared.mul_(scale);
  if (!prefix.no_padding) {
    torch::Tensor prompt_valid = prefix.valid.index_select(0, torch::floor_divide(prefix.slots, n));  // [B, T0]
    shared.masked_fill_(prompt_valid.logical_not().view({B, 1, 1, T0}), minus_infinity);
  }
  if (by_hand)
    own_key_scores(q, k, scale, own);
  else
    own.copy_(grouped_scores(q, k));
  if (!own_all_valid) own.masked_fill_(allowed.logical_not(), minus_infinity);
  torch::Tensor probabilities = attention_weights(scores, v.scalar_type());
  torch::Tensor from_shared =
      torch::matmul(to_prompt_groups(to_grid(probabilities.narrow(-1, 0, T0), T0), P, n, kv_heads), prefix.values[layer]);
  torch::Tensor attended = from_grid(from_prompt_groups(from_shared, n, heads, T));
  if (!by_hand) return attended + grouped_values(probabilities.narrow(-1, T0, L), v);
  add_own_values(probabilities.narrow(-1, T0, L), v, attended);
  return attended;
}

}  // namespace

const torch::Tensor& CausalLM::get(const std::string& name) const {
  auto found = parameters_.find(name);
  if (found == parameters_.end()) throw Error("model: parameter '" + name + "' is missing");
  return found->second;
}

torch::Tensor CausalLM::linear(const torch::Tensor& x, const std::string& module, const torch::Tensor& bias) const {
  torch::Tensor y = project(x, get(module + ".weight"), bias);
  if (!lora_enabled_ || adapters_.empty()) return y;
  auto a = adapters_.find(module + ".lora_A.weight");
  if (a == adapters_.end()) return y;
  torch::Tensor input = training_ && lora_.dropout > 0 ? torch::dropout(x, lora_.dropout, true) : x;
  return y + project(project(input, a->second), adapters_.at(module + ".lora_B.weight")) * (lora_.alpha / double(lora_.rank));
}

torch::Device CausalLM::device() const { return parameters_.begin()->second.device(); }

void CausalLM::to(const torch::Device& device) {
  for (auto& [name, tensor] : parameters_) tensor = tensor.to(device);
  for (auto& [name, tensor] : adapters_) tensor = tensor.to(device);
  rope_inverse_cache_ = torch::Tensor();
}

// Inverse frequencies of the rotary embedding, with HF's rope_scaling variants.
torch::Tensor CausalLM::rope_inverse_frequencies(int64_t sequence_length) const {
  const ModelConfig& c = config_;
  double base = c.rope_theta;
  const RopeScaling& scaling = c.rope_scaling;
  int64_t dim = c.head_dim;
  if (scaling.type == "dynamic" && sequence_length > c.max_position_embeddings)
    base *= std::pow(scaling.factor * double(sequence_length) / double(c.max_position_embeddings) - (scaling.factor - 1),
                     double(dim) / double(dim - 2));
  torch::Tensor inv = 1.0 / torch::pow(base, torch::arange(0, dim, 2, torch::kFloat64) / double(dim));
  if (scaling.type == "linear") inv = inv / scaling.factor;
  if (scaling.type == "llama3") {
    double old_context = double(scaling.original_max_position_embeddings);
    double low_wavelen = old_context / scaling.low_freq_factor, high_wavelen = old_context / scaling.high_freq_factor;
    torch::Tensor wavelen = 2 * M_PI / inv;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / scaling.factor, inv);
    torch::Tensor smooth = (old_context / wavelen - scaling.low_freq_factor) /
                           (scaling.high_freq_factor - scaling.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * scaled / scaling.factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen);
    inv = torch::where(medium, smoothed, scaled);
  }
  return inv.to(torch::kFloat32);
}

std::pair<torch::Tensor, torch::Tensor> CausalLM::rope_tables(const torch::Tensor& positions, torch::Dtype dtype) const {
  torch::Tensor inv;
  if (config_.rope_scaling.type == "dynamic") {
    int64_t longest = positions.numel() ? positions.max().item<int64_t>() + 1 : 1;
    inv = rope_inverse_frequencies(longest).to(positions.device());
  } else {
    if (!rope_inverse_cache_.defined() || rope_inverse_cache_.device() != positions.device())
      rope_inverse_cache_ = rope_inverse_frequencies(0).to(positions.device());
    inv = rope_inverse_cache_;
  }
  torch::Tensor angles = positions.to(torch::kFloat32).unsqueeze(-1) * inv;  // [B, T, D/2]
  torch::Tensor emb = torch::cat({angles, angles}, -1);
  return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

torch::Tensor CausalLM::forward(const torch::Tensor& input_ids, const torch::Tensor& positions,
                                const torch::Tensor& valid, KvCache* cache) const {
  return project(hidden_states(input_ids, positions, valid, cache), output_weight());
}

const torch::Tensor& CausalLM::output_weight() const {
  return config_.tie_word_embeddings ? get("model.embed_tokens.weight") : get("lm_head.weight");
}

torch::Tensor CausalLM::hidden_states(const torch::Tensor& input_ids, const torch::Tensor& positions,
                                      const torch::Tensor& valid, KvCache* cache, bool right_padded) const {
  int64_t T = input_ids.size(1);
  torch::Device dev = device();
  torch::Tensor ids = input_ids.to(dev), pos = positions.to(dev), valid_now = valid.to(dev).to(torch::kBool);
  torch::Tensor x = torch::embedding(get("model.embed_tokens.weight"), ids, config_.pad_token_id.value_or(-1));  // [B, T, H]
  auto [cos, sin] = rope_tables(pos, x.scalar_type());

  int64_t past = cache ? cache->length() : 0;
  torch::Tensor key_valid = cache ? cache->begin(valid_now) : valid_now;  // [B, S]
  if (cache && cache->is_static())  // one query per row; unwritten positions are invalid
    return run_layers(x, {cos, sin, key_valid.unsqueeze(1).unsqueeze(1), false}, cache);
  if (right_padded && !cache) return run_layers(x, {cos, sin, std::nullopt, true}, cache);
  // Which keys each query may see: causal, real tokens only, and always itself (so that a
  // padding query has one key and its row stays finite).
  int64_t S = past + T;
  torch::Tensor query_index = torch::arange(past, S, torch::TensorOptions().device(dev)).unsqueeze(1);
  torch::Tensor key_index = torch::arange(S, torch::TensorOptions().device(dev)).unsqueeze(0);
  torch::Tensor allowed = (((key_index <= query_index).unsqueeze(0) & key_valid.unsqueeze(1)) |
                           (key_index == query_index).unsqueeze(0))
                              .unsqueeze(1);  // [B, 1, T, S]
  return run_layers(x, {cos, sin, allowed, false}, cache);
}

torch::Tensor CausalLM::masked_hidden_states(const torch::Tensor& input_ids, const torch::Tensor& positions,
                                             const torch::Tensor& allowed) const {
  torch::Device dev = device();
  torch::Tensor x =
      torch::embedding(get("model.embed_tokens.weight"), input_ids.to(dev), config_.pad_token_id.value_or(-1));
  auto [cos, sin] = rope_tables(positions.to(dev), x.scalar_type());
  return run_layers(x, {cos, sin, allowed.to(dev).to(torch::kBool).unsqueeze(1), false}, nullptr);
}

torch::Tensor CausalLM::run_layers(torch::Tensor x, const LayerContext& context, KvCache* cache) const {
  bool recompute = checkpointed_layers_ > 0 && !cache && torch::GradMode::is_enabled();
  for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer)
    x = recompute && layer < checkpointed_layers_ ? checkpointed_layer(*this, layer, x, context)
                                                  : decoder_layer(layer, x, context, cache);
  if (cache) cache->end();
  return rms_norm(x, get("model.norm.weight"), config_.rms_norm_eps);
}

torch::Tensor CausalLM::decoder_layer(int64_t layer, torch::Tensor x, const LayerContext& context, KvCache* cache) const {
  const ModelConfig& c = config_;
  int64_t B = x.size(0), T = x.size(1);
  int64_t heads = c.num_attention_heads, kv_heads = c.num_key_value_heads, D = c.head_dim;
  auto p = [&](const std::string& rest) -> const torch::Tensor& { return get(layer_name(layer, rest)); };
  auto bias = [&](const std::string& rest) { return c.attention_bias ? p(rest) : torch::Tensor(); };
  auto module = [&](const char* name) { return layer_name(layer, name); };
  torch::Tensor h = rms_norm(x, p("input_layernorm.weight"), c.rms_norm_eps);
  torch::Tensor q = linear(h, module("self_attn.q_proj"), bias("self_attn.q_proj.bias")).view({B, T, heads, D}).transpose(1, 2);
  torch::Tensor k = linear(h, module("self_attn.k_proj"), bias("self_attn.k_proj.bias")).view({B, T, kv_heads, D}).transpose(1, 2);
  torch::Tensor v = linear(h, module("self_attn.v_proj"), bias("self_attn.v_proj.bias")).view({B, T, kv_heads, D}).transpose(1, 2);
  q = q * context.cos + rotate_half(q) * context.sin;
  k = k * context.cos + rotate_half(k) * context.sin;
  if (cache) std::tie(k, v) = cache->append(size_t(layer), k, v);
  // GQA (each key/value head serves heads / kv_heads query heads) without copying the cache
  // once per query head: in the fused kernels, or grouped by hand for decode steps.
  const KvCache::SharedPrefix* prefix = cache ? cache->shared_prefix() : nullptr;
  torch::Tensor attended =
      prefix           ? shared_prefix_attention(q, k, v, *context.allowed, *prefix, size_t(layer), T == 1 && !cache->is_static())
      : cache && T == 1 ? grouped_attention(q, k, v, *context.allowed)
                        : at::scaled_dot_product_attention(q, k, v, context.allowed, 0.0, context.causal, std::nullopt,
                                                           heads != kv_heads);
  torch::Tensor out = attended.transpose(1, 2).reshape({B, T, heads * D});
  // Llama's attention_bias covers o_proj too; Qwen2's biases are on q, k and v only.
  bool o_bias = c.attention_bias && c.model_type == "llama";
  x = x + linear(out, module("self_attn.o_proj"), o_bias ? p("self_attn.o_proj.bias") : torch::Tensor());
  h = rms_norm(x, p("post_attention_layernorm.weight"), c.rms_norm_eps);
  torch::Tensor gate = linear(h, module("mlp.gate_proj"));
  torch::Tensor up = linear(h, module("mlp.up_proj"));
  return x + linear(torch::silu(gate) * up, module("mlp.down_proj"));
}

std::vector<torch::Tensor> CausalLM::layer_tensors(int64_t layer) const {
  std::string prefix = layer_name(layer, "");
  std::vector<torch::Tensor> tensors;
  for (const auto* map : {&parameters_, &adapters_})
    for (auto it = map->lower_bound(prefix); it != map->end() && it->first.starts_with(prefix); ++it)
      tensors.push_back(it->second);
  return tensors;
}

std::map<std::string, std::vector<int64_t>> expected_shapes(const ModelConfig& c) {
  std::map<std::string, std::vector<int64_t>> shapes;
  int64_t q_out = c.num_attention_heads * c.head_dim, kv_out = c.num_key_value_heads * c.head_dim;
  shapes["model.embed_tokens.weight"] = {c.vocab_size, c.hidden_size};
  shapes["model.norm.weight"] = {c.hidden_size};
  if (!c.tie_word_embeddings) shapes["lm_head.weight"] = {c.vocab_size, c.hidden_size};
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    shapes[layer_name(l, "input_layernorm.weight")] = {c.hidden_size};
    shapes[layer_name(l, "post_attention_layernorm.weight")] = {c.hidden_size};
    shapes[layer_name(l, "self_attn.q_proj.weight")] = {q_out, c.hidden_size};
    shapes[layer_name(l, "self_attn.k_proj.weight")] = {kv_out, c.hidden_size};
    shapes[layer_name(l, "self_attn.v_proj.weight")] = {kv_out, c.hidden_size};
    shapes[layer_name(l, "self_attn.o_proj.weight")] = {c.hidden_size, q_out};
    if (c.attention_bias && c.model_type == "llama") shapes[layer_name(l, "self_attn.o_proj.bias")] = {c.hidden_size};
    if (c.attention_bias) {
      shapes[layer_name(l, "self_attn.q_proj.bias")] = {q_out};
      shapes[layer_name(l, "self_attn.k_proj.bias")] = {kv_out};
      shapes[layer_name(l, "self_attn.v_proj.bias")] = {kv_out};
    }
    shapes[layer_name(l, "mlp.gate_proj.weight")] = {c.intermediate_size, c.hidden_size};
    shapes[layer_name(l, "mlp.up_proj.weight")] = {c.intermediate_size, c.hidden_size};
    shapes[layer_name(l, "mlp.down_proj.weight")] = {c.hidden_size, c.intermediate_size};
  }
  return shapes;
}

CausalLM::CausalLM(ModelConfig config, std::map<std::string, torch::Tensor> parameters)
    : config_(std::move(config)), parameters_(std::move(parameters)) {
  auto shapes = expected_shapes(config_);
  for (const auto& [name, shape] : shapes) {
    auto found = parameters_.find(name);
    if (found == parameters_.end()) throw Error("model: checkpoint lacks tensor '" + name + "'");
    if (found->second.sizes().vec() != shape) {
      std::string got, want;
      for (auto s : found->second.sizes()) got += (got.empty() ? "" : ", ") + std::to_string(s);
      for (auto s : shape) want += (want.empty() ? "" : ", ") + std::to_string(s);
      throw Error("model: tensor '" + name + "' has shape [" + got + "], expected [" + want + "] (hidden_size=" +
                  std::to_string(config_.hidden_size) + ", heads=" + std::to_string(config_.num_attention_heads) +
                  ", kv_heads=" + std::to_string(config_.num_key_value_heads) + ", head_dim=" +
                  std::to_string(config_.head_dim) + ")");
    }
  }
  for (const auto& [name, tensor] : parameters_)
    if (!shapes.count(name)) throw Error("model: checkpoint has unexpected tensor '" + name + "'");
}

CausalLM CausalLM::random(const ModelConfig& config, uint64_t seed, torch::Dtype dtype) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::map<std::string, torch::Tensor> parameters;
  for (const auto& [name, shape] : expected_shapes(config)) {
    bool norm = name.find("norm") != std::string::npos, bias = name.ends_with(".bias");
    torch::Tensor t = norm ? torch::ones(shape) : bias ? torch::zeros(shape) : at::normal(0.0, 0.02, shape, generator);
    parameters[name] = t.to(dtype);
  }
  return CausalLM(config, std::move(parameters));
}

}  // namespace codealign::model
