// The bodies of `serve`'s POST /run_code (SandboxFusion's) and /v1/evaluate, from any client.
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "service/protocol.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;  // the server answers 400 before any of this
  service::RequestLimits limits;
  try {
    service::parse_run_code(body, limits);
  } catch (const service::BadRequest&) {
  }
  try {
    service::parse_evaluate(body, limits);
  } catch (const service::BadRequest&) {
  }
  return 0;
}
