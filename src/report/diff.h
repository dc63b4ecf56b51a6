// A line diff (longest common subsequence) and its side-by-side layout, for the pair inspector.
// Private to report/.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace codealign::report {

// The lines of `text`, split at '\n'; a final newline ends the last line rather than starting
// an empty one ("a\nb\n" and "a\nb" both have two lines; "" has none).
std::vector<std::string> split_lines(std::string_view text);

// One step of turning `a` into `b`: a line both share, a line only `a` has, or only `b`.
enum class DiffKind { both, only_a, only_b };
struct DiffStep {
  DiffKind kind;
  size_t a, b;  // line indexes; `b` is meaningless for only_a, `a` for only_b
};

// A shortest edit script from a longest common subsequence of lines: shared lines in order,
// and between them the lines only `a` has, then those only `b` has. Common leading and trailing
// lines are matched first; a middle larger than `max_cells` lines(a) x lines(b) is not searched
// for common lines (all of it differs), which bounds time and memory.
std::vector<DiffStep> diff_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                 size_t max_cells = size_t(4) << 20);

// A row of the side-by-side view: left line index (a), right line index (b), or npos for an
// empty cell. Changed stretches pair their lines row by row, as GitHub's split diff does.
struct SideBySideRow {
  static constexpr size_t none = size_t(-1);
  size_t a = none, b = none;
  bool changed = false;
};
std::vector<SideBySideRow> side_by_side(const std::vector<DiffStep>& steps);

}  // namespace codealign::report
