// HF tokenizers downloaded from anywhere: tokenizer.json, a NUL byte, then tokenizer_config.json
// (its chat template and special tokens); a tokenizer that loads then encodes and decodes.
#include <algorithm>
#include <filesystem>

#include "fuzz_input.h"
#include "tokenizer/tokenizer.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* split = std::find(data, data + size, uint8_t(0));
  std::string json = fuzz::input_file(data, size_t(split - data), "tokenizer.json");
  std::string config = std::filesystem::path(json).parent_path() / "tokenizer_config.json";
  if (split == data + size)
    std::filesystem::remove(config);
  else
    fuzz::input_file(split + 1, size_t(data + size - split - 1), "tokenizer_config.json");
  return fuzz::expect_parse_or_error([&] {
    auto tok = tokenizer::Tokenizer::load(std::filesystem::path(json).parent_path().string());
    auto ids = tok.encode("def f(x):\n    return x  # ünïcode <|endoftext|>");
    tok.decode(ids);
  });
}
