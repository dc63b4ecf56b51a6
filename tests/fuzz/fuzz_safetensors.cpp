// A safetensors file's header: its length prefix, JSON, and every tensor's dtype, shape and range.
#include "fuzz_input.h"
#include "model/weight_files.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::input_file(data, size, "model.safetensors");
  return fuzz::expect_parse_or_error([&] { model::read_safetensors_index(path); });
}
