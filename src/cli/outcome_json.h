// JSON form of a sandbox outcome, shared by `execute --json` and per-sample results.
#pragma once
#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"

namespace codealign::cli {

inline nlohmann::json outcome_to_json(const sandbox::Outcome& o) {
  return {{"verdict", sandbox::verdict_name(o.verdict)},
          {"error_type", o.error_type},
          {"message", o.message},
          {"tests_passed", o.tests_passed},
          {"tests_total", o.tests_total},
          {"wall_time", o.wall_s},
          {"stdout", o.stdout_text},
          {"stderr", o.stderr_text},
          {"stdout_truncated", o.stdout_truncated},
          {"stderr_truncated", o.stderr_truncated}};
}

}  // namespace codealign::cli
