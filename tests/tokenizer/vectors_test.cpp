// Every llama.cpp test vector, through each file format that holds its vocabulary.
#include <gtest/gtest.h>

#include "support/test_support.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using tokenizer::Tokenizer;

std::string tokenizers() { return data_dir() + "/tokenizers"; }

TEST(TokenizerVectors, qwen2_through_tokenizer_json) {
  expect_vectors(Tokenizer::load(tokenizers() + "/qwen/tokenizer.json"), "qwen2");
}

TEST(TokenizerVectors, gpt2_through_encoder_json_and_vocab_bpe) {
  expect_vectors(Tokenizer::load(tokenizers() + "/gpt2/encoder.json"), "gpt-2");
}

TEST(TokenizerVectors, llama_spm_through_sentencepiece_model) {
  expect_vectors(Tokenizer::load(tokenizers() + "/llama2/tokenizer.model"), "llama-spm");
}

}  // namespace
}  // namespace codealign::testing
