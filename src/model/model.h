// The Llama/Qwen2 decoder-only transformer (libtorch): HF checkpoints in and out, llama2.c
// checkpoints in, and a forward pass over padded batches with an optional KV cache.
//
// Shapes: B batch, T new tokens, S cached + new tokens, H hidden, V vocabulary.
// Parameters are plain tensors named as in HF ("model.layers.0.self_attn.q_proj.weight"),
// so training can hand them to an optimizer and saving needs no renaming. Not thread-safe;
// a model is used by one thread at a time.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "model/config.h"

namespace codealign::model {

// Keys and values of every layer for the rows of a batch, in buffers with room for more
// positions than are used, so that a decode step writes its keys in place: growing by
// concatenation would copy the whole cache every step. The room grows by doubling when a
// forward needs more; reserving the final length up front avoids even that.
class KvCache {
 public:
  // `reserve`: positions (prompt + new tokens) to make room for at the first forward.
  explicit KvCache(int64_t reserve = 0) : reserve_(reserve) {}
  int64_t length() const { return length_; }    // cached positions S
  int64_t capacity() const { return capacity_; }
  // Keeps only the given rows (finished sequences leave the batch).
  void select_rows(const torch::Tensor& rows);
  // Makes every row n rows (n samples of one prompt prefill) that share the prompt's cached
  // keys and values instead of copying them: attention reads the shared prompt once per prompt and step, not once per
  // row, which is most of a decode step's memory traffic when prompts are longer than what
  // is generated. The cache then holds only what follows the prompts.
  void share_prefix(int64_t n);

  // The prompts' keys and values after share_prefix, read by the forward pass.
  struct SharedPrefix {
    std::vector<torch::Tensor> keys, values;  // per layer [P, kv_heads, T0, D]
    torch::Tensor valid;                      // [P, T0]
    torch::Tensor slots;                      // [B] int64: each row's place in the P x n grid
    int64_t prompts = 0, copies = 0;
    bool every_slot = true;  // slots is 0..P*n-1: no row has left, the rows are the grid
    bool no_padding = true;  // valid is all true: the prompts are of one length
  };
  const SharedPrefix* shared_prefix() const { return prefix_.prompts ? &prefix_ : nullptr; }

  // The forward pass's side, per forward over T new positions of B rows: begin() makes room
  // and returns the validity [B, S + T] of every key; append() writes one layer's new keys
  // and values [B, kv_heads, T, D] and returns all of them [B, kv_heads, S + T, D]; end()
  // counts the T positions as cached.
  // In static mode begin() returns the validity of the whole buffer [B, capacity] (positions
  // not yet written are invalid) and append() the whole buffers.
  torch::Tensor begin(const torch::Tensor& valid_now);
  std::pair<torch::Tensor, torch::Tensor> append(size_t layer, const torch::Tensor& keys, const torch::Tensor& values);
  void end();

  // Static mode, for decode steps captured as CUDA graphs: the buffers take their reserved
  // size now (zero-filled: masked attention weights are exactly 0, and 0 x garbage could be
  // NaN), a forward writes its one new position where a counter on the device says, and
  // attention covers the whole buffer under the validity mask. Every step then has the same
  // shapes and addresses, until select_rows makes new buffers. Decode steps only (T = 1).
  void make_static();
  bool is_static() const { return write_position_.defined(); }
  // Sets the cached length after graph replays, which advance the device counter without
  // running this object's host code (and after a capture, which runs it without advancing).
  void set_length(int64_t length) { length_ = length; }

 private:
  void grow(int64_t needed);

  std::vector<torch::Tensor> keys_, values_;  // per layer [B, kv_heads, capacity, D]
  torch::Tensor valid_;                       // [B, capacity] bool: false for padding
  torch::Tensor write_position_;              // static mode: [1] int64 on the device
  int64_t length_ = 0, capacity_ = 0, pending_ = 0, reserve_ = 0;
  SharedPrefix prefix_;
};

// LoRA (Hu et al. 2021): y = x W^T + (alpha / rank) * dropout(x) A^T B^T on the target
// projections, with A random and B zero, so a fresh adapter changes nothing. Adapters are
// float32 whatever the base's dtype (a bfloat16 base runs them under autocast).
class CausalLM {
 public:
  // Loads a directory with config.json and model.safetensors (or the sharded
  // model.safetensors.index.json), or a llama2.c .bin file.
  static CausalLM load(const std::string& path, torch::Dtype dtype = torch::kFloat32,
                       torch::Device device = torch::kCPU);
  // Moves every parameter and adapter to `device` (their dtypes stay).
  void to(const torch::Device& device);
  // From named tensors, checked against the config (names and shapes, errors name both).
  CausalLM(ModelConfig config, std::map<std::string, torch::Tensor> parameters);
  // Random weights (normal, std 0.02; norms at 1), seeded.
  static CausalLM random(const ModelConfig& config, uint64_t seed, torch::Dtype dtype = torch::kFloat32);

  // Writes config.json and safetensors (sharded above max_shard_bytes, with the index), in
  // `dtype` (float32, bfloat16, float16), through temporary files and renames.
  void save(const std::string& directory, torch::Dtype dtype = torch::kFloat32,
            int64_t max_shard_bytes = int64_t(5) << 30) const;

  // Logits [B, T, V] for input_ids [B, T] at positions [B, T]; `valid` [B, T] marks real
  // tokens (padding may be anywhere, usually on the left). With a cache, the new keys and
  // values are appended and attention covers everything cached.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& positions,
                        const torch::Tensor& valid, KvCache* cache = nullptr) const;
  // The final hidden states [B, T, H] (after the last norm), before the LM head; training
  // projects them to the vocabulary in chunks. `right_padded` (no cache): every row's padding
  // follows its tokens, so the causal mask alone is exact for every real token and attention
  // can use the fused kernels that take no mask (flash attention on a GPU); what padding
  // positions compute is then meaningless and must not be read.
  torch::Tensor hidden_states(const torch::Tensor& input_ids, const torch::Tensor& positions,
                              const torch::Tensor& valid, KvCache* cache = nullptr, bool right_padded = false) const;
  // The same, with the keys each query sees given: allowed [B, T, T] (query, key). Every query
  // must see at least itself. Training packs a prompt with both its completions this way.
  torch::Tensor masked_hidden_states(const torch::Tensor& input_ids, const torch::Tensor& positions,
                                     const torch::Tensor& allowed) const;
  // The LM head [V, H] (the embeddings when tied).
  const torch::Tensor& output_weight() const;

  // Adapters named as PEFT names them ("model.layers.0.self_attn.q_proj.lora_A.weight").
  void add_lora(const LoraConfig& config, uint64_t seed);
  std::map<std::string, torch::Tensor>& adapters() { return adapters_; }
  const LoraConfig& lora() const { return lora_; }
  void set_lora_enabled(bool enabled) { lora_enabled_ = enabled; }  // off: the base model
  void set_training(bool training) { training_ = training; }        // LoRA dropout only when training
  // Activation checkpointing (HF's gradient_checkpointing): with gradients on and no cache,
  // each of the first `layers` decoder layers keeps only its input and runs again in the
  // backward pass, which trades one more forward for most of its activations' memory (all
  // layers: about a third more compute). Fewer layers (Megatron's "block" recompute) sit
  // between the two. 0: off. LoRA dropout would draw other masks the second time: training
  // refuses the two together.
  void set_activation_checkpointing(int64_t layers) { checkpointed_layers_ = layers; }
  // W += (alpha / rank) B A for every adapter, which are then removed.
  void merge_lora();
  // PEFT's adapter_model.safetensors + adapter_config.json, and back.
  void save_adapters(const std::string& directory) const;
  void load_adapters(const std::string& directory);

  // One decoder layer's forward; what it needs besides the residual stream x [B, T, H].
  struct LayerContext {
    torch::Tensor cos, sin;                // rotary tables [B, 1, T, D]
    std::optional<torch::Tensor> allowed;  // [B, 1, T, S] keys each query may see; none: causal only
    bool causal = false;
  };
  torch::Tensor decoder_layer(int64_t layer, torch::Tensor x, const LayerContext& context, KvCache* cache) const;
  // The layer's parameters and adapters, in a fixed order.
  std::vector<torch::Tensor> layer_tensors(int64_t layer) const;

  const ModelConfig& config() const { return config_; }
  std::map<std::string, torch::Tensor>& parameters() { return parameters_; }
  const std::map<std::string, torch::Tensor>& parameters() const { return parameters_; }
  torch::Device device() const;

 private:
  const torch::Tensor& get(const std::string& name) const;
  // x W^T (+ b) for the projection `module`, plus its adapter when there is one.
  torch::Tensor linear(const torch::Tensor& x, const std::string& module, const torch::Tensor& bias = {}) const;
  torch::Tensor rope_inverse_frequencies(int64_t sequence_length) const;
  // The rotary cos/sin tables [B, 1, T, D] for positions [B, T].
  std::pair<torch::Tensor, torch::Tensor> rope_tables(const torch::Tensor& positions, torch::Dtype dtype) const;
  // The decoder layers and the final norm over the embedded tokens x [B, T, H].
  torch::Tensor run_layers(torch::Tensor x, const LayerContext& context, KvCache* cache) const;

  ModelConfig config_;
  std::map<std::string, torch::Tensor> parameters_;
  std::map<std::string, torch::Tensor> adapters_;
  LoraConfig lora_;
  bool lora_enabled_ = true, training_ = false;
  int64_t checkpointed_layers_ = 0;
  // Inverse rotary frequencies, computed once (they depend on the length only with dynamic
  // scaling, which recomputes them).
  mutable torch::Tensor rope_inverse_cache_;
};

// decoder_layer under activation checkpointing (model/activation_checkpointing.cpp).
torch::Tensor checkpointed_layer(const CausalLM& model, int64_t layer, const torch::Tensor& x,
                                 const CausalLM::LayerContext& context);

// The HF names and shapes a config implies (the checkpoint's expected contents).
std::map<std::string, std::vector<int64_t>> expected_shapes(const ModelConfig& config);

}  // namespace codealign::model
