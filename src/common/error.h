// Errors of codealign itself (bad input, missing files, broken invariants).
// Expected outcomes of user programs (a failed assert, a timeout) are values, never errors.
// Messages follow "<part>: <what failed> '<object>': <why>[ (hint: ...)]".
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace codealign {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Error whose message ends with strerror(errno_value).
Error system_error(const std::string& what, int errno_value);

// " (did you mean 'X'?)" for the candidate closest to a misspelt `name` (edit distance at most
// a third of its length, and at least 2), else "".
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace codealign
