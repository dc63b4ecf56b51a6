// The sandbox harness's result line, read back into an Outcome.
#include <string>

#include "fuzz_input.h"
#include "sandbox/harness_result.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::expect_parse_or_error([&] { sandbox::parse_harness_result(text); });
}
