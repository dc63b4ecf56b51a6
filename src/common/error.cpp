#include "common/error.h"

#include <algorithm>
#include <cstring>

namespace codealign {

Error system_error(const std::string& what, int errno_value) {
  return Error(what + ": " + std::strerror(errno_value));
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string& candidate : candidates)
    if (size_t d = edit_distance(name, candidate); d < best_distance) best_distance = d, best = &candidate;
  return best ? " (did you mean '" + *best + "'?)" : "";
}

}  // namespace codealign
