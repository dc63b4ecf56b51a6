#include "sandbox/sandbox.h"

namespace codealign::sandbox {

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::passed: return "passed";
    case Verdict::failed: return "failed";
    case Verdict::runtime_error: return "runtime_error";
    case Verdict::syntax_error: return "syntax_error";
    case Verdict::timeout: return "timeout";
    case Verdict::out_of_memory: return "out_of_memory";
    case Verdict::crashed: return "crashed";
  }
  return "crashed";
}

}  // namespace codealign::sandbox
