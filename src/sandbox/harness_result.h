// The harness's result line (the judge's JSON object, one per job) read into an Outcome.
// Private to the sandbox part; a fuzzer (tests/fuzz/fuzz_harness_result.cpp) calls it directly.
#pragma once
#include <string>

#include "sandbox/sandbox.h"

namespace codealign::sandbox {

// Errors name the field at fault; a "harness_error" object is reported as the harness's failure.
Outcome parse_harness_result(const std::string& text);

}  // namespace codealign::sandbox
