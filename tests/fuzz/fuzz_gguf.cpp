// GGUF headers (llama.cpp vocabularies): every key, type and length comes from the file.
#include "fuzz_input.h"
#include "tokenizer/gguf.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::input_file(data, size, "vocab.gguf");
  return fuzz::expect_parse_or_error([&] { tokenizer::GgufHeader::read(path); });
}
