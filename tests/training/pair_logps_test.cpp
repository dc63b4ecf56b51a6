// Prompt sharing (training/logprobs.h, pair_logps): a pair's chosen and rejected packed in one
// row after their prompt give the log-prob sums, the token counts and the parameter gradients
// of the unpacked 2B-row batch, with activation checkpointing too, for Llama and Qwen2
// (attention biases) shapes; a batch in which one pair's prompts differ runs unpacked.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "model/model.h"
#include "support/test_support.h"
#include "training/data.h"
#include "training/logprobs.h"

namespace codealign::testing {
namespace {

using training::PairSequenceLogps;
using training::Sequence;
using training::SequencePairs;

const int64_t kVocab = 97, kLayers = 2, kChunk = 7;  // chunks cut across pairs

// Random weights far from the usual std 0.02 (and random biases), so that attention is peaked
// and the logits spread: a key seen that should not be, or a wrong position, moves the sums
// by far more than the tolerance, as it might not with near-uniform attention.
model::CausalLM sharp_model(const std::string& type, uint64_t seed) {
  auto config = model::parse_config(
      nlohmann::json({{"model_type", type}, {"vocab_size", kVocab}, {"hidden_size", 32}, {"intermediate_size", 56},
                      {"num_hidden_layers", kLayers}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"max_position_embeddings", 128}, {"rms_norm_eps", 1e-6}, {"tie_word_embeddings", type == "qwen2"}})
          .dump(),
      type);
  model::CausalLM m = model::CausalLM::random(config, seed);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : m.parameters())
    if (name.find("norm") == std::string::npos) p.normal_(0.0, 0.3, generator);
  return m;
}

// Pairs of random ids: (prompt, chosen completion, rejected completion) lengths.
struct Pairs {
  std::vector<Sequence> chosen, rejected;
  SequencePairs refs() const {
    SequencePairs out;
    for (size_t i = 0; i < chosen.size(); ++i) out.emplace_back(&chosen[i], &rejected[i]);
    return out;
  }
};

Pairs random_pairs(const std::vector<std::array<int, 3>>& lengths, uint64_t seed) {
  std::mt19937_64 random(seed);
  auto ids = [&](int n) {
    std::vector<tokenizer::TokenId> out;
    for (int i = 0; i < n; ++i) out.push_back(tokenizer::TokenId(random() % kVocab));
    return out;
  };
  Pairs pairs;
  for (const auto& [p, c, r] : lengths) {
    auto prompt = ids(p), chosen = ids(c), rejected = ids(r);
    Sequence s{prompt, size_t(p)};
    s.ids.insert(s.ids.end(), chosen.begin(), chosen.end());
    pairs.chosen.push_back(s);
    s.ids.resize(size_t(p));
    s.ids.insert(s.ids.end(), rejected.begin(), rejected.end());
    pairs.rejected.push_back(s);
  }
  return pairs;
}

// One-token completions on either side, chosen longer, rejected longer, a one-token prompt.
const std::vector<std::array<int, 3>> kLengths = {{5, 1, 7}, {3, 9, 2}, {8, 4, 4}, {1, 3, 1}, {6, 2, 11}};

// max |a - b| / max |b|
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

void expect_same_logps(const PairSequenceLogps& got, const PairSequenceLogps& expected) {
  ASSERT_EQ(got.chosen.sums.sizes(), expected.chosen.sums.sizes());
  ASSERT_EQ(got.rejected.sums.sizes(), expected.rejected.sums.sizes());
  EXPECT_EQ(got.chosen.sums.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(got.chosen.tokens, expected.chosen.tokens)) << got.chosen.tokens << expected.chosen.tokens;
  EXPECT_TRUE(torch::equal(got.rejected.tokens, expected.rejected.tokens)) << got.rejected.tokens << expected.rejected.tokens;
  // Each sum on its own (a pair's error is not hidden by a larger sum elsewhere).
  EXPECT_TRUE(torch::allclose(got.chosen.sums, expected.chosen.sums, 1e-5, 0))
      << "got " << got.chosen.sums << "\nexpected " << expected.chosen.sums;
  EXPECT_TRUE(torch::allclose(got.rejected.sums, expected.rejected.sums, 1e-5, 0))
      << "got " << got.rejected.sums << "\nexpected " << expected.rejected.sums;
}

// d(sum chosen - sum rejected) / d parameter, for every parameter.
std::map<std::string, torch::Tensor> gradients(model::CausalLM& m, const SequencePairs& pairs, bool share_prompt) {
  for (auto& [name, p] : m.parameters()) p.mutable_grad() = torch::Tensor();
  PairSequenceLogps logps = training::pair_logps(m, pairs, kChunk, share_prompt);
  EXPECT_EQ(logps.shared_prompt, share_prompt);
  (logps.chosen.sums - logps.rejected.sums).sum().backward();
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, p] : m.parameters()) out[name] = p.grad().clone();
  return out;
}

void expect_same_gradients(const std::map<std::string, torch::Tensor>& got,
                           const std::map<std::string, torch::Tensor>& expected, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [name, grad] : expected) {
    ASSERT_GT(grad.abs().max().item<double>(), 0.0) << name;
    EXPECT_LT(relative_error(got.at(name), grad), 1e-5) << name << " " << what;
  }
}

void expect_packing_matches(const std::string& type) {
  model::CausalLM m = sharp_model(type, 3);
  Pairs pairs = random_pairs(kLengths, 5);
  {
    torch::NoGradGuard no_grad;
    PairSequenceLogps packed = training::pair_logps(m, pairs.refs(), kChunk);
    ASSERT_TRUE(packed.shared_prompt);
    PairSequenceLogps plain = training::pair_logps(m, pairs.refs(), kChunk, /*share_prompt=*/false);
    ASSERT_FALSE(plain.shared_prompt);
    expect_same_logps(packed, plain);
    EXPECT_EQ(plain.chosen.tokens[0].item<float>(), 1.0f);  // the test covers a one-token completion
  }
  for (auto& [name, p] : m.parameters()) p.requires_grad_(true);
  auto plain = gradients(m, pairs.refs(), false);
  for (int64_t layers : {int64_t(0), kLayers, int64_t(1)}) {
    m.set_activation_checkpointing(layers);
    expect_same_gradients(gradients(m, pairs.refs(), true), plain, "checkpointed layers " + std::to_string(layers));
  }
}

TEST(PairLogps, packed_pairs_give_the_unpacked_sums_and_gradients_llama) { expect_packing_matches("llama"); }

TEST(PairLogps, packed_pairs_give_the_unpacked_sums_and_gradients_qwen2_with_attention_biases) {
  expect_packing_matches("qwen2");
}

// One pair's rejected has another prompt (a different id, then a different length): the
// batch runs unpacked, and gives what each sequence alone gives.
TEST(PairLogps, a_batch_whose_prompts_differ_runs_unpacked) {
  torch::NoGradGuard no_grad;
  model::CausalLM m = sharp_model("llama", 4);
  for (int variant = 0; variant < 2; ++variant) {
    Pairs pairs = random_pairs(kLengths, 6);
    Sequence& odd = pairs.rejected[2];
    if (variant == 0) odd.ids[1] = (odd.ids[1] + 1) % kVocab;
    else odd.prompt_length -= 1;
    PairSequenceLogps got = training::pair_logps(m, pairs.refs(), kChunk);
    EXPECT_FALSE(got.shared_prompt);
    PairSequenceLogps expected;
    std::vector<torch::Tensor> chosen, rejected, chosen_tokens, rejected_tokens;
    for (size_t i = 0; i < pairs.chosen.size(); ++i) {
      auto one = [&](const Sequence& s) { return training::sequence_logps(m, training::make_batch({&s}), kChunk); };
      training::SequenceLogps c = one(pairs.chosen[i]), r = one(pairs.rejected[i]);
      chosen.push_back(c.sums), rejected.push_back(r.sums);
      chosen_tokens.push_back(c.tokens), rejected_tokens.push_back(r.tokens);
    }
    expected.chosen = {torch::cat(chosen), torch::cat(chosen_tokens)};
    expected.rejected = {torch::cat(rejected), torch::cat(rejected_tokens)};
    expect_same_logps(got, expected);
  }
}

}  // namespace
}  // namespace codealign::testing
