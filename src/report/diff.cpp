// Line diff by longest common subsequence (dynamic programming over the middle that remains
// once common leading and trailing lines are matched).
#include "report/diff.h"

#include <algorithm>
#include <cstdint>

namespace codealign::report {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<DiffStep> diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                 size_t max_cells) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  std::vector<DiffStep> steps;
  for (size_t i = 0; i < prefix; ++i) steps.push_back({DiffKind::both, i, i});

  // The middle: a[prefix, n_end), b[prefix, m_end).
  size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
  if (n > 0 && m > 0 && n * m <= max_cells) {
    // length[i][j]: LCS length of a's middle from i and b's middle from j.
    std::vector<uint32_t> length((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return length[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        at(i, j) = a[prefix + i] == b[prefix + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    std::vector<DiffStep> only_a, only_b;  // a changed stretch: a's lines first, then b's
    auto flush = [&] {
      steps.insert(steps.end(), only_a.begin(), only_a.end());
      steps.insert(steps.end(), only_b.begin(), only_b.end());
      only_a.clear();
      only_b.clear();
    };
    while (i < n || j < m) {
      if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
        flush();
        steps.push_back({DiffKind::both, prefix + i++, prefix + j++});
      } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
        only_a.push_back({DiffKind::only_a, prefix + i++, 0});
      } else {
        only_b.push_back({DiffKind::only_b, 0, prefix + j++});
      }
    }
    flush();
  } else {
    for (size_t i = 0; i < n; ++i) steps.push_back({DiffKind::only_a, prefix + i, 0});
    for (size_t j = 0; j < m; ++j) steps.push_back({DiffKind::only_b, 0, prefix + j});
  }
  for (size_t k = 0; k < suffix; ++k)
    steps.push_back({DiffKind::both, a.size() - suffix + k, b.size() - suffix + k});
  return steps;
}

std::vector<SideBySideRow> side_by_side(const std::vector<DiffStep>& steps) {
  std::vector<SideBySideRow> rows;
  size_t k = 0;
  while (k < steps.size()) {
    if (steps[k].kind == DiffKind::both) {
      rows.push_back({steps[k].a, steps[k].b, false});
      ++k;
      continue;
    }
    std::vector<size_t> left, right;
    for (; k < steps.size() && steps[k].kind != DiffKind::both; ++k)
      (steps[k].kind == DiffKind::only_a ? left : right).push_back(steps[k].kind == DiffKind::only_a ? steps[k].a
                                                                                                     : steps[k].b);
    for (size_t r = 0; r < std::max(left.size(), right.size()); ++r)
      rows.push_back({r < left.size() ? left[r] : SideBySideRow::none, r < right.size() ? right[r] : SideBySideRow::none,
                      true});
  }
  return rows;
}

}  // namespace codealign::report
