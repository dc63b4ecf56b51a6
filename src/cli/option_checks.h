// Checks of numeric options at parse time, whose messages say the allowed values in words:
// "--timeout: must be above 0 (got -1)". The help shows the same range beside the option.
#pragma once
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace codealign::cli {

CLI::Validator at_least(double min);               // [min, inf)
CLI::Validator above(double min);                  // (min, inf)
CLI::Validator in_range(double min, double max);   // [min, max]
CLI::Validator in_range_below(double min, double max);  // [min, max)
CLI::Validator above_up_to(double min, double max);     // (min, max]
// `special` (which means something of its own, as -1 "no limit") or at least `min`.
CLI::Validator at_least_or(double min, double special);

}  // namespace codealign::cli
