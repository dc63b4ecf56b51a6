// A command-line window onto codealign's model for the Python reference tests
// (tests/reference/test_*.py), which compare what it prints with transformers and PEFT.
//
//   probe logits MODEL_DIR IDS_JSON [ADAPTER_DIR]  rows of different lengths, left-padded into
//                                                  one batch; prints {"logits": [row][token][V]}
//                                                  for the real tokens only
//   probe greedy MODEL_DIR IDS_JSON STEPS TOKENIZER batched greedy generation (no stop ids);
//                                                  prints {"ids": [row][STEPS]}
//   probe resave MODEL_DIR OUT_DIR DTYPE SHARD_BYTES  loads with codealign and saves again
//   probe random CONFIG_JSON OUT_DIR SEED          codealign's own random model
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "generation/generation.h"
#include "model/model.h"

namespace {

using codealign::model::CausalLM;
using Rows = std::vector<std::vector<int64_t>>;

struct Batch {
  torch::Tensor ids, positions, valid;  // [B, T], left-padded
};

Batch left_padded(const Rows& rows) {
  int64_t B = int64_t(rows.size()), T = 0;
  for (const auto& row : rows) T = std::max(T, int64_t(row.size()));
  Batch batch{torch::zeros({B, T}, torch::kInt64), {}, torch::zeros({B, T}, torch::kBool)};
  for (int64_t b = 0; b < B; ++b) {
    int64_t offset = T - int64_t(rows[size_t(b)].size());
    for (size_t t = 0; t < rows[size_t(b)].size(); ++t) batch.ids[b][offset + int64_t(t)] = rows[size_t(b)][t];
    batch.valid[b].slice(0, offset).fill_(true);
  }
  batch.positions = (batch.valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  return batch;
}

nlohmann::json logits(const std::string& model_dir, const Rows& rows, const std::string& adapter) {
  CausalLM model = CausalLM::load(model_dir);
  if (!adapter.empty()) model.load_adapters(adapter);
  Batch batch = left_padded(rows);
  torch::NoGradGuard no_grad;
  torch::Tensor out = model.forward(batch.ids, batch.positions, batch.valid);  // [B, T, V]
  nlohmann::json result = nlohmann::json::array();
  for (size_t b = 0; b < rows.size(); ++b) {
    int64_t T = out.size(1), offset = T - int64_t(rows[b].size());
    torch::Tensor row = out[int64_t(b)].slice(0, offset).contiguous();
    std::vector<float> values(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
    nlohmann::json tokens = nlohmann::json::array();
    for (int64_t t = 0; t < row.size(0); ++t)
      tokens.push_back(std::vector<float>(values.begin() + t * row.size(1), values.begin() + (t + 1) * row.size(1)));
    result.push_back(tokens);
  }
  return {{"logits", result}};
}

nlohmann::json greedy(const std::string& model_dir, const Rows& rows, int64_t steps, const std::string& tokenizer_path) {
  CausalLM model = CausalLM::load(model_dir);
  auto tokenizer = codealign::tokenizer::Tokenizer::load(tokenizer_path);
  std::vector<std::vector<codealign::tokenizer::TokenId>> prompts;
  for (const auto& row : rows) prompts.emplace_back(row.begin(), row.end());
  codealign::generation::SamplingConfig config;
  config.temperature = 0;
  config.max_new_tokens = steps;
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& sample : codealign::generation::generate(model, tokenizer, prompts, config)) ids.push_back(sample.ids);
  return {{"ids", ids}};
}

torch::Dtype dtype_named(const std::string& name) {
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kFloat16;
  throw codealign::Error("probe: unknown dtype '" + name + "'");
}

int run(const std::vector<std::string>& a) {
  auto rows = [&](size_t i) { return nlohmann::json::parse(a.at(i)).get<Rows>(); };
  if (a.size() >= 3 && a[0] == "logits") {
    std::cout << logits(a[1], rows(2), a.size() > 3 ? a[3] : "").dump() << "\n";
  } else if (a.size() == 5 && a[0] == "greedy") {
    std::cout << greedy(a[1], rows(2), std::stoll(a[3]), a[4]).dump() << "\n";
  } else if (a.size() == 5 && a[0] == "resave") {
    CausalLM::load(a[1]).save(a[2], dtype_named(a[3]), std::stoll(a[4]));
  } else if (a.size() == 4 && a[0] == "random") {
    CausalLM::random(codealign::model::read_config(a[1]), std::stoull(a[3])).save(a[2]);
  } else {
    std::cerr << "usage: probe logits|greedy|resave|random ... (see tests/reference/probe.cpp)\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "probe: " << e.what() << "\n";
    return 1;
  }
}
