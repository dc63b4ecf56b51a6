// Errors of codealign itself (bad input, missing files, broken invariants).
// Expected outcomes of user programs (a failed assert, a timeout) are values, never errors.
// Messages follow "<part>: <what failed> '<object>': <why>[ (hint: ...)]".
#pragma once
#include <stdexcept>
#include <string>

namespace codealign {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Error whose message ends with strerror(errno_value).
Error system_error(const std::string& what, int errno_value);

}  // namespace codealign
