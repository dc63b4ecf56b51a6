#include "common/error.h"

#include <cstring>

namespace codealign {

Error system_error(const std::string& what, int errno_value) {
  return Error(what + ": " + std::strerror(errno_value));
}

}  // namespace codealign
