// llama.cpp's tokenizer test vectors: <name>.gguf.inp holds texts separated by
// "\n__ggml_vocab_test__\n"; <name>.gguf.out holds the expected ids, one line per text
// (HF tokenizers' encode with add_special_tokens=False).
#pragma once
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace codealign::testing {

struct Vector {
  std::string text;
  std::vector<tokenizer::TokenId> ids;
};

std::vector<Vector> read_vectors(const std::string& name);  // e.g. "qwen2"
std::string vectors_dir();

// Options for untrusted text: no added or special token is matched.
tokenizer::EncodeOptions plain_text();

// Checks every vector, printing text, expected and got ids for each mismatch.
void expect_vectors(const tokenizer::Tokenizer& tok, const std::string& name);

}  // namespace codealign::testing
