// Sampling: batched and padded generation equals one-by-one generation, seeds reproduce,
// samplers keep only what top-k/top-p allow, and stop strings/ids end sequences.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "generation/generation.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

using generation::SamplingConfig;

struct Stories {
  model::CausalLM model = model::CausalLM::load(data_dir() + "/models/stories260K/stories260K.bin");
  tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(data_dir() + "/models/stories260K/tok512.bin");
};
Stories& stories() {
  static Stories s;
  return s;
}

std::vector<std::vector<tokenizer::TokenId>> prompts() {
  std::vector<std::vector<tokenizer::TokenId>> out;
  for (const char* text : {"Once upon a time", "The cat", "Lily and Tom went to the big park to play with a ball"})
    out.push_back(stories().tok.encode(text, {true, false, {}}));
  return out;
}

TEST(Generation, batched_padded_greedy_equals_one_by_one) {
  SamplingConfig greedy;
  greedy.temperature = 0;
  greedy.max_new_tokens = 60;
  auto batched = generation::generate(stories().model, stories().tok, prompts(), greedy);
  ASSERT_EQ(batched.size(), 3u);
  for (size_t i = 0; i < prompts().size(); ++i) {
    auto alone = generation::generate(stories().model, stories().tok, {prompts()[i]}, greedy);
    EXPECT_EQ(batched[i].ids, alone[0].ids) << "prompt " << i;
    EXPECT_EQ(batched[i].text, alone[0].text);
    EXPECT_EQ(batched[i].finish_reason, "length");
  }
}

// Rows that stop early leave the batch; the others must go on exactly as alone.
TEST(Generation, rows_leaving_the_batch_do_not_disturb_the_rest) {
  SamplingConfig greedy;
  greedy.temperature = 0;
  greedy.max_new_tokens = 50;
  greedy.stop_strings = {" was", ","};
  auto batched = generation::generate(stories().model, stories().tok, prompts(), greedy);
  std::set<size_t> lengths;
  size_t stopped = 0;
  for (size_t i = 0; i < prompts().size(); ++i) {
    auto alone = generation::generate(stories().model, stories().tok, {prompts()[i]}, greedy);
    EXPECT_EQ(batched[i].ids, alone[0].ids) << "prompt " << i;
    stopped += batched[i].finish_reason == "stop";
    lengths.insert(batched[i].ids.size());
  }
  EXPECT_GE(stopped, 1u);
  EXPECT_GT(lengths.size(), 1u);  // rows left the batch at different steps
}

TEST(Generation, same_seed_same_samples_and_n_per_prompt) {
  SamplingConfig sampling;
  sampling.temperature = 1.0;
  sampling.top_p = 0.9;
  sampling.max_new_tokens = 40;
  sampling.samples_per_prompt = 3;
  sampling.seed = 42;
  auto first = generation::generate(stories().model, stories().tok, prompts(), sampling);
  auto again = generation::generate(stories().model, stories().tok, prompts(), sampling);
  ASSERT_EQ(first.size(), 9u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].prompt_index, i / 3);
    EXPECT_EQ(first[i].ids, again[i].ids) << i;
  }
  EXPECT_NE(first[0].ids, first[1].ids);  // samples of one prompt differ
  sampling.seed = 43;
  auto other = generation::generate(stories().model, stories().tok, prompts(), sampling);
  EXPECT_NE(other[0].ids, first[0].ids);
}

TEST(Generation, stop_strings_and_ids_end_sequences_early) {
  SamplingConfig greedy;
  greedy.temperature = 0;
  greedy.max_new_tokens = 100;
  greedy.stop_strings = {"."};
  auto samples = generation::generate(stories().model, stories().tok, {prompts()[0]}, greedy);
  EXPECT_EQ(samples[0].finish_reason, "stop");
  EXPECT_EQ(samples[0].text.find('.'), std::string::npos);
  EXPECT_LT(samples[0].ids.size(), 40u);
  // The greedy story's first period ends the text right before it.
  greedy.stop_strings.clear();
  auto full = generation::generate(stories().model, stories().tok, {prompts()[0]}, greedy);
  EXPECT_EQ(full[0].text.substr(0, full[0].text.find('.')), samples[0].text);
  greedy.stop_ids = {full[0].ids[2]};
  auto by_id = generation::generate(stories().model, stories().tok, {prompts()[0]}, greedy);
  EXPECT_EQ(by_id[0].ids.size(), 3u);
  EXPECT_EQ(by_id[0].finish_reason, "stop");
}

// Each sample has its own random stream (seed, prompt, index): batch-mates and the number of
// samples per prompt change nothing in it.
TEST(Generation, a_sample_does_not_depend_on_its_batch_mates) {
  SamplingConfig sampling;
  sampling.temperature = 1.0;
  sampling.max_new_tokens = 30;
  sampling.samples_per_prompt = 2;
  sampling.seed = 5;
  auto batched = generation::generate(stories().model, stories().tok, prompts(), sampling);
  auto alone = generation::generate(stories().model, stories().tok, {prompts()[1]}, sampling);
  ASSERT_EQ(batched.size(), 6u);
  EXPECT_EQ(alone[0].ids, batched[2].ids);
  EXPECT_EQ(alone[1].ids, batched[3].ids);
  EXPECT_NE(alone[0].ids, alone[1].ids);
  sampling.samples_per_prompt = 3;  // a third sample leaves the first two as they were
  auto three = generation::generate(stories().model, stories().tok, {prompts()[1]}, sampling);
  EXPECT_EQ(three[0].ids, alone[0].ids);
  EXPECT_EQ(three[1].ids, alone[1].ids);
}

// The static KV cache (what CUDA graphs replay: the whole buffer attended under a mask, keys
// written where a device counter says) samples what the growing cache samples: greedy and
// sampled, one and several samples per prompt (the shared prompt), rows leaving at stops.
TEST(Generation, the_static_cache_samples_what_the_growing_cache_samples) {
  for (int64_t n : {1, 3}) {
    for (double temperature : {0.0, 1.0}) {
      SamplingConfig sampling;
      sampling.temperature = temperature;
      sampling.max_new_tokens = 48;
      sampling.samples_per_prompt = n;
      sampling.seed = 11;
      sampling.stop_strings = {"."};
      sampling.decode = generation::DecodeMode::eager;
      auto growing = generation::generate(stories().model, stories().tok, prompts(), sampling);
      sampling.decode = generation::DecodeMode::static_cache;
      auto fixed = generation::generate(stories().model, stories().tok, prompts(), sampling);
      ASSERT_EQ(growing.size(), fixed.size());
      std::set<size_t> lengths;
      for (size_t i = 0; i < growing.size(); ++i) {
        EXPECT_EQ(growing[i].ids, fixed[i].ids) << "n " << n << " temperature " << temperature << " sample " << i;
        EXPECT_EQ(growing[i].text, fixed[i].text);
        EXPECT_EQ(growing[i].finish_reason, fixed[i].finish_reason);
        lengths.insert(fixed[i].ids.size());
      }
      EXPECT_GT(lengths.size(), 1u);  // rows left the batch at different steps
    }
  }
}

// Model level: a decode step over the static cache gives the growing cache's logits, before and
// after rows leave, and refuses a forward of more than one position.
TEST(Generation, a_static_cache_step_gives_the_growing_caches_logits) {
  const model::CausalLM& m = stories().model;
  torch::NoGradGuard no_grad;
  torch::Tensor ids = torch::randint(3, 512, {3, 7}, at::make_generator<at::CPUGeneratorImpl>(3));
  torch::Tensor valid = torch::ones({3, 7}, torch::kBool);
  valid[1].slice(0, 0, 4).fill_(false);  // left padding
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  model::KvCache growing(12), fixed(12);
  m.forward(ids, positions, valid, &growing);
  m.forward(ids, positions, valid, &fixed);
  fixed.make_static();
  EXPECT_THROW(m.forward(ids, positions, valid, &fixed), Error);
  torch::Tensor next = positions.select(1, 6).unsqueeze(1) + 1, one = torch::ones({3, 1}, torch::kBool);
  torch::Tensor token = torch::full({3, 1}, 17, torch::kInt64);
  for (int step = 0; step < 4; ++step) {
    if (step == 2) {  // row 1 leaves
      torch::Tensor rows = torch::tensor({0, 2}, torch::kInt64);
      growing.select_rows(rows);
      fixed.select_rows(rows);
      next = next.index_select(0, rows), one = one.index_select(0, rows), token = token.index_select(0, rows);
    }
    torch::Tensor expected = m.forward(token, next, one, &growing), got = m.forward(token, next, one, &fixed);
    EXPECT_TRUE(torch::allclose(expected, got, 1e-5, 1e-5)) << "step " << step;
    EXPECT_EQ(fixed.length(), growing.length());
    next = next + 1;
  }
}

TEST(Sampler, the_uniform_picks_the_token_whose_cumulative_mass_it_falls_in) {
  // probabilities 0.5, 0.3, 0.15, 0.05: cumulative 0.5, 0.8, 0.95, 1
  auto logits = torch::log(torch::tensor({{0.5f, 0.3f, 0.15f, 0.05f}})).repeat({7, 1});
  auto uniforms = torch::tensor({0.0f, 0.49f, 0.51f, 0.79f, 0.81f, 0.96f, 0.99999994f});
  auto chosen = generation::choose_tokens(logits, SamplingConfig{}, uniforms);
  EXPECT_EQ(std::vector<int64_t>(chosen.data_ptr<int64_t>(), chosen.data_ptr<int64_t>() + 7),
            (std::vector<int64_t>{0, 0, 1, 1, 2, 3, 3}));
  // A token masked out (top-k 2) is never chosen, even by the largest uniform.
  SamplingConfig top_k;
  top_k.top_k = 2;
  chosen = generation::choose_tokens(logits, top_k, uniforms);
  EXPECT_EQ(chosen.max().item<int64_t>(), 1);
  // Over a vocabulary of several 512-wide blocks (the cumulative sum runs per block).
  auto wide = torch::full({3, 2000}, -std::numeric_limits<float>::infinity());
  for (auto [token, p] : {std::pair{100, 0.25}, {700, 0.25}, {1500, 0.5}}) wide.select(1, token).fill_(std::log(p));
  chosen = generation::choose_tokens(wide, SamplingConfig{}, torch::tensor({0.2f, 0.3f, 0.99f}));
  EXPECT_EQ(std::vector<int64_t>(chosen.data_ptr<int64_t>(), chosen.data_ptr<int64_t>() + 3),
            (std::vector<int64_t>{100, 700, 1500}));
}

TEST(Sampler, streams_are_uniform_and_keyed_by_seed_prompt_and_index) {
  std::vector<tokenizer::TokenId> prompt = {1, 2, 3};
  uint64_t key = generation::sample_stream_key(prompt, 0, 7);
  EXPECT_EQ(key, generation::sample_stream_key(prompt, 0, 7));
  EXPECT_NE(key, generation::sample_stream_key(prompt, 1, 7));
  EXPECT_NE(key, generation::sample_stream_key(prompt, 0, 8));
  EXPECT_NE(key, generation::sample_stream_key({1, 2, 4}, 0, 7));
  torch::Tensor u = generation::stream_uniforms({key, key + 1}, 20000);
  EXPECT_GE(u.min().item<float>(), 0.0f);
  EXPECT_LT(u.max().item<float>(), 1.0f);
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 0.01);
  EXPECT_NEAR((u < 0.1).to(torch::kFloat64).mean().item<double>(), 0.1, 0.01);
  EXPECT_FALSE(torch::equal(u[0], u[1]));
}

TEST(Sampler, top_k_and_top_p_keep_only_the_allowed_tokens) {
  // probabilities 0.5, 0.3, 0.15, 0.05 (logits = log p)
  auto logits = torch::log(torch::tensor({{0.5f, 0.3f, 0.15f, 0.05f}})).repeat({2000, 1});
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  auto histogram = [&](SamplingConfig config) {
    auto chosen = generation::choose_tokens(logits, config, torch::rand({2000}, generator));
    return torch::bincount(chosen, {}, 4).to(torch::kFloat64) / 2000.0;
  };
  SamplingConfig top_k;
  top_k.top_k = 2;  // 0.5 and 0.3, renormalised: 0.625, 0.375
  auto k = histogram(top_k);
  EXPECT_EQ(k[2].item<double>() + k[3].item<double>(), 0.0);
  EXPECT_NEAR(k[0].item<double>(), 0.625, 0.04);
  SamplingConfig top_p;
  top_p.top_p = 0.85;  // 0.5 + 0.3 < 0.85, so 0.15 is kept too; 0.05 is not
  auto p = histogram(top_p);
  EXPECT_EQ(p[3].item<double>(), 0.0);
  EXPECT_GT(p[2].item<double>(), 0.1);
  SamplingConfig cold;
  cold.temperature = 0.05;  // nearly greedy
  EXPECT_GT(histogram(cold)[0].item<double>(), 0.99);
  SamplingConfig greedy;
  greedy.temperature = 0;
  EXPECT_EQ(histogram(greedy)[0].item<double>(), 1.0);
}

}  // namespace
}  // namespace codealign::testing
