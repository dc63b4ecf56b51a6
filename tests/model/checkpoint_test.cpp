// Checkpoints and the forward pass: save/load round trips (single file, sharded, bf16, f16),
// the KV cache, and config refusals. The logits themselves are checked against transformers
// in tests/reference/test_model.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

using model::CausalLM;
using model::ModelConfig;

ModelConfig small_config(const std::string& type) {
  return model::parse_config(nlohmann::json({{"model_type", type}, {"vocab_size", 97}, {"hidden_size", 32},
                                             {"intermediate_size", 56}, {"num_hidden_layers", 2},
                                             {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                                             {"max_position_embeddings", 64}, {"rms_norm_eps", 1e-6},
                                             {"rope_theta", 10000.0}, {"tie_word_embeddings", type == "qwen2"}})
                                 .dump(),
                             type);
}

torch::Tensor logits_of(const CausalLM& model, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  auto positions = torch::arange(ids.size(1)).unsqueeze(0).expand_as(ids);
  return model.forward(ids, positions, torch::ones_like(ids, torch::kBool));
}

torch::Tensor some_ids() { return torch::tensor({{1, 5, 9, 33, 2, 96, 40}, {7, 7, 7, 0, 12, 50, 3}}); }

TEST(Checkpoint, save_and_load_give_identical_logits_single_and_sharded) {
  for (const char* type : {"llama", "qwen2"}) {
    CausalLM model = CausalLM::random(small_config(type), 7);
    if (std::string(type) == "qwen2")  // make the q/k/v biases matter
      for (auto& [name, t] : model.parameters())
        if (name.ends_with(".bias")) t.normal_(0, 0.1);
    TempDir dir;
    model.save(dir.path + "/single");
    model.save(dir.path + "/sharded", torch::kFloat32, 20000);
    EXPECT_TRUE(std::filesystem::exists(dir.path + "/sharded/model.safetensors.index.json"));
    auto index = nlohmann::json::parse(read_file(dir.path + "/sharded/model.safetensors.index.json"));
    std::set<std::string> shards;
    for (const auto& [name, file] : index["weight_map"].items()) shards.insert(file.get<std::string>());
    EXPECT_GT(shards.size(), 2u) << type;
    for (const std::string& shard : shards) EXPECT_TRUE(std::filesystem::exists(dir.path + "/sharded/" + shard));
    auto expected = logits_of(model, some_ids());
    for (const char* sub : {"/single", "/sharded"})
      EXPECT_TRUE(torch::equal(logits_of(CausalLM::load(dir.path + sub), some_ids()), expected)) << type << sub;
  }
}

TEST(Checkpoint, bf16_and_f16_files_load) {
  CausalLM model = CausalLM::random(small_config("llama"), 3);
  TempDir dir;
  for (auto dtype : {torch::kBFloat16, torch::kFloat16}) {
    model.save(dir.path, dtype);
    auto config = nlohmann::json::parse(read_file(dir.path + "/config.json"));
    EXPECT_EQ(config["torch_dtype"], dtype == torch::kBFloat16 ? "bfloat16" : "float16");
    CausalLM loaded = CausalLM::load(dir.path);
    for (const auto& [name, t] : model.parameters())
      EXPECT_TRUE(torch::equal(loaded.parameters().at(name), t.to(dtype).to(torch::kFloat32))) << name;
  }
}

TEST(Forward, cache_and_left_padding_change_nothing) {
  CausalLM model = CausalLM::random(small_config("llama"), 5);
  for (auto& [name, t] : model.parameters())
    if (name.find("norm") == std::string::npos) t.normal_(0, 0.2);
  torch::NoGradGuard no_grad;
  auto ids = some_ids();
  auto full = logits_of(model, ids);
  // Token by token through the cache.
  model::KvCache cache;
  for (int64_t t = 0; t < ids.size(1); ++t) {
    auto step = model.forward(ids.slice(1, t, t + 1), torch::full({2, 1}, t), torch::ones({2, 1}, torch::kBool), &cache);
    EXPECT_TRUE(torch::allclose(step.select(1, 0), full.select(1, t), 1e-5, 1e-5)) << "position " << t;
  }
  // Row 1 shortened to 4 tokens and left-padded with 3 pads: its last logits are unchanged.
  auto padded = torch::cat({torch::zeros({1, 3}, torch::kInt64), ids.slice(0, 1, 2).slice(1, 0, 4)}, 1);
  auto valid = torch::tensor({{false, false, false, true, true, true, true}});
  auto positions = torch::tensor({{0, 0, 0, 0, 1, 2, 3}});
  auto out = model.forward(padded, positions, valid);
  EXPECT_TRUE(torch::allclose(out[0][6], full[1][3], 1e-5, 1e-5));
}

// Two left-padded prompts, 3 copies each sharing the prompt's keys (GQA 4/2); each copy then
// takes its own tokens, and two rows leave midway. Every row's logits must equal a plain
// forward over its prompt and tokens.
TEST(Forward, shared_prompt_prefix_equals_a_plain_forward_per_row) {
  CausalLM model = CausalLM::random(small_config("llama"), 11);
  for (auto& [name, t] : model.parameters())
    if (name.find("norm") == std::string::npos) t.normal_(0, 0.2);
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> prompts = {{4, 8, 15, 16, 23}, {42, 7}};
  const int64_t P = 2, n = 3, T0 = 5, steps = 4;
  auto ids = torch::tensor({{4, 8, 15, 16, 23}, {0, 0, 0, 42, 7}});
  auto valid = torch::tensor({{true, true, true, true, true}, {false, false, false, true, true}});
  auto positions = torch::tensor({{0, 1, 2, 3, 4}, {0, 0, 0, 0, 1}});
  model::KvCache cache(T0 + steps);
  model.forward(ids, positions, valid, &cache);
  cache.share_prefix(n);
  std::vector<int64_t> rows(P * n);
  for (int64_t r = 0; r < P * n; ++r) rows[size_t(r)] = r;
  std::vector<std::vector<int64_t>> tokens(P * n);
  for (int64_t step = 0; step < steps; ++step) {
    if (step == 2) {  // rows 1 (prompt 0) and 3 (prompt 1) finish
      rows = {0, 2, 4, 5};
      cache.select_rows(torch::tensor({0, 2, 4, 5}));
    }
    int64_t B = int64_t(rows.size());
    std::vector<int64_t> next, next_positions;
    for (int64_t r : rows) {
      tokens[size_t(r)].push_back(1 + (r * 13 + step * 7) % 90);
      next.push_back(tokens[size_t(r)].back());
      next_positions.push_back(int64_t(prompts[size_t(r / n)].size()) + step);
    }
    auto logits = model.forward(torch::tensor(next).view({B, 1}), torch::tensor(next_positions).view({B, 1}),
                                torch::ones({B, 1}, torch::kBool), &cache);
    for (int64_t i = 0; i < B; ++i) {
      int64_t r = rows[size_t(i)];
      std::vector<int64_t> whole = prompts[size_t(r / n)];
      whole.insert(whole.end(), tokens[size_t(r)].begin(), tokens[size_t(r)].end());
      auto expected = logits_of(model, torch::tensor(whole).unsqueeze(0))[0][int64_t(whole.size()) - 1];
      EXPECT_TRUE(torch::allclose(logits[i][0], expected, 1e-5, 1e-5))
          << "step " << step << " row " << r << ": max difference " << (logits[i][0] - expected).abs().max().item<float>();
    }
  }
}

TEST(Config, refuses_what_would_change_the_math) {
  auto message = [](nlohmann::json j) {
    try {
      model::parse_config(j.dump(), "config.json");
      return std::string("no error");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  nlohmann::json base = {{"model_type", "llama"}, {"vocab_size", 10}, {"hidden_size", 8}, {"intermediate_size", 16},
                         {"num_hidden_layers", 1}, {"num_attention_heads", 2}};
  EXPECT_EQ(message(base), "no error");
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = base;
    j[key] = value;
    return message(j);
  };
  EXPECT_EQ(with("hidden_act", "gelu"), "model: config 'config.json' field 'hidden_act': only silu is supported");
  EXPECT_EQ(with("model_type", "mistral"), "model: config 'config.json' field 'model_type': 'mistral' is not supported (llama, qwen2)");
  EXPECT_EQ(with("rope_scaling", {{"type", "yarn"}, {"factor", 4}}),
            "model: config 'config.json' field 'rope_scaling': type 'yarn' is not supported (default, linear, dynamic, llama3)");
  EXPECT_EQ(with("rope_parameters", {{"rope_type", "yarn"}, {"rope_theta", 1e6}}),
            "model: config 'config.json' field 'rope_parameters': type 'yarn' is not supported (default, linear, dynamic, llama3)");
  EXPECT_EQ(with("rope_parameters", {{"rope_type", "default"}, {"partial_rotary_factor", 0.5}}),
            "model: config 'config.json' field 'rope_parameters.partial_rotary_factor': unknown to codealign, so it may change the model's math; refused");
  EXPECT_EQ(with("use_sliding_window", true), "model: config 'config.json' field 'use_sliding_window': sliding-window attention is not supported");
  EXPECT_EQ(with("partial_rotary_factor", 0.5),
            "model: config 'config.json' field 'partial_rotary_factor': unknown to codealign, so it may change the model's math; refused");
  EXPECT_EQ(with("num_key_value_heads", 3), "model: config 'config.json' field 'num_key_value_heads': must divide num_attention_heads");
  // Mistyped fields are named (found by tests/fuzz/fuzz_model_config).
  EXPECT_EQ(with("tie_word_embeddings", "yes"), "model: config 'config.json' field 'tie_word_embeddings': must be true or false");
  EXPECT_EQ(with("eos_token_id", {"2"}), "model: config 'config.json' field 'eos_token_id': must be a token id or a list of them");
  EXPECT_EQ(with("rope_scaling", {{"type", "linear"}, {"factor", "4"}}),
            "model: config 'config.json' field 'rope_scaling.factor': must be a number");
  EXPECT_EQ(message(nlohmann::json::array({base})), "model: config 'config.json' must be a JSON object");
}

// Hostile headers are refused by their size before any allocation (a terabyte tensor here
// would abort the test process if it were allocated first).
TEST(Checkpoint, hostile_headers_are_refused_before_allocating) {
  TempDir dir;
  auto message = [](auto load) -> std::string {
    try {
      load();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::string header = R"({"w": {"dtype": "F32", "shape": [1099511627776, 1024], "data_offsets": [0, 16]}})";
  uint64_t size = header.size();
  write_text(dir.path + "/model.safetensors",
             std::string(reinterpret_cast<const char*>(&size), 8) + header + std::string(16, '\0'));
  EXPECT_EQ(message([&] { model::read_safetensors(dir.path + "/model.safetensors"); }),
            "model: '" + dir.path + "/model.safetensors' tensor 'w': shape runs past the file");
  auto llama2c_message = [&](std::vector<int32_t> fields) {  // dim, hidden, layers, heads, kv heads, vocab, seq
    write_text(dir.path + "/model.bin", std::string(reinterpret_cast<const char*>(fields.data()), 28) + std::string(64, '\0'));
    return message([&] { CausalLM::load(dir.path + "/model.bin"); });
  };
  std::string llama2c = "model: '" + dir.path + "/model.bin' llama2.c header: ";
  EXPECT_EQ(llama2c_message({1 << 30, 1 << 30, 64, 8, 8, 32000, 2048}),
            llama2c + "the file is shorter than the header promises (92 bytes)");
  EXPECT_EQ(llama2c_message({8, 16, 1, 2, 2, INT32_MIN, 4}), llama2c + "the file is shorter than the header promises (92 bytes)");
  EXPECT_EQ(llama2c_message({8, 16, 1, 4, 3, 4, 4}), llama2c + "n_kv_heads must divide n_heads");
  EXPECT_EQ(llama2c_message({12, 16, 1, 4, 4, 4, 4}), llama2c + "dim must be n_heads times an even head size");
  EXPECT_EQ(llama2c_message({8, 16, 0, 2, 2, 4, 4}), llama2c + "every size must be positive");
}

TEST(Checkpoint, wrong_shapes_and_missing_tensors_are_named) {
  CausalLM model = CausalLM::random(small_config("llama"), 1);
  auto params = model.parameters();
  params["model.layers.1.self_attn.k_proj.weight"] = torch::zeros({32, 32});
  try {
    CausalLM(model.config(), params);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "model: tensor 'model.layers.1.self_attn.k_proj.weight' has shape [32, 32], expected [16, 32] "
                                     "(hidden_size=32, heads=4, kv_heads=2, head_dim=8)");
  }
  params.erase("model.norm.weight");
  EXPECT_THROW(CausalLM(model.config(), params), Error);
  // Loading names the checkpoint too.
  TempDir dir;
  model.save(dir.path);
  std::filesystem::remove(dir.path + "/model.safetensors");
  CausalLM::random(small_config("qwen2"), 1).save(dir.path + "/other");
  std::filesystem::copy_file(dir.path + "/other/model.safetensors", dir.path + "/model.safetensors");
  try {
    CausalLM::load(dir.path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(in '" + dir.path + "')"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace codealign::testing
