// A model's config.json (HF checkpoints downloaded from anywhere).
#include <string>

#include "fuzz_input.h"
#include "model/config.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::expect_parse_or_error([&] { model::parse_config(text, "config.json"); });
}
