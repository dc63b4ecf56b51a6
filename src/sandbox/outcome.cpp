#include "sandbox/sandbox.h"

#include <algorithm>

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

std::optional<Verdict> verdict_from_name(std::string_view name) {
  for (Verdict v : {Verdict::passed, Verdict::failed, Verdict::runtime_error, Verdict::syntax_error, Verdict::timeout,
                    Verdict::out_of_memory, Verdict::crashed})
    if (name == verdict_name(v)) return v;
  return std::nullopt;
}

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) return false;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    if (path.substr(start, end - start) == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace codealign::sandbox
