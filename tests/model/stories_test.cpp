// stories260K, a real trained llama2.c checkpoint: greedy output must be byte-identical to
// llama2.c's (`run stories260K.bin -z tok512.bin -t 0 -n 200`, from BOS).
#include <gtest/gtest.h>

#include "common/files.h"
#include "generation/generation.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

std::string stories() { return data_dir() + "/models/stories260K"; }

TEST(Stories260K, greedy_200_matches_llama2c_byte_for_byte) {
  auto model = model::CausalLM::load(stories() + "/stories260K.bin");
  auto tok = tokenizer::Tokenizer::load(stories() + "/tok512.bin");
  generation::SamplingConfig greedy;
  greedy.temperature = 0;
  greedy.max_new_tokens = 200;  // llama2.c -n 200: 200 forward steps, each printing a token
  greedy.stop_ids = {1};        // llama2.c stops at a BOS
  auto samples = generation::generate(model, tok, {{1}}, greedy);
  ASSERT_EQ(samples.size(), 1u);
  std::string expected = read_file(stories() + "/expected_greedy_200.txt");
  std::string got = tok.decode(samples[0].ids);  // the first token loses its prefix space, as in llama2.c
  EXPECT_EQ(got + "\n", expected);
  EXPECT_EQ(samples[0].text + "\n", expected);  // the streamed text too: a BOS-only prompt starts it fresh
}

}  // namespace
}  // namespace codealign::testing
