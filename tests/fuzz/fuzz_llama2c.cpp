// A llama2.c checkpoint's header: seven int32 sizes checked against the file before any allocation.
#include "fuzz_input.h"
#include "model/weight_files.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::input_file(data, size, "model.bin");
  return fuzz::expect_parse_or_error([&] { model::read_llama2c_header(path); });
}
