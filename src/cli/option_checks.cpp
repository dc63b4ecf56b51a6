#include "cli/option_checks.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace codealign::cli {
namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

struct Bound {
  double value;
  bool inclusive;
};

// A check of [low, high] with open or closed ends (either may be absent), and an exception.
CLI::Validator range_check(std::optional<Bound> low, std::optional<Bound> high, std::optional<double> special = {}) {
  std::string allowed;
  if (low && high)
    allowed = "in " + std::string(low->inclusive ? "[" : "(") + number(low->value) + ", " + number(high->value) +
              (high->inclusive ? "]" : ")");
  else if (low)
    allowed = std::string(low->inclusive ? "at least " : "above ") + number(low->value);
  if (special) allowed = number(*special) + " or " + allowed;
  auto check = [=](const std::string& input) -> std::string {
    char* end = nullptr;
    double value = std::strtod(input.c_str(), &end);
    if (input.empty() || *end != '\0' || std::isnan(value)) return "must be a number " + allowed + " (got '" + input + "')";
    if (special && value == *special) return "";
    bool fits = (!low || (low->inclusive ? value >= low->value : value > low->value)) &&
                (!high || (high->inclusive ? value <= high->value : value < high->value));
    return fits ? "" : "must be " + allowed + " (got " + input + ")";
  };
  return CLI::Validator(check, allowed);
}

}  // namespace

CLI::Validator at_least(double min) { return range_check(Bound{min, true}, std::nullopt); }
CLI::Validator above(double min) { return range_check(Bound{min, false}, std::nullopt); }
CLI::Validator in_range(double min, double max) { return range_check(Bound{min, true}, Bound{max, true}); }
CLI::Validator in_range_below(double min, double max) { return range_check(Bound{min, true}, Bound{max, false}); }
CLI::Validator above_up_to(double min, double max) { return range_check(Bound{min, false}, Bound{max, true}); }
CLI::Validator at_least_or(double min, double special) { return range_check(Bound{min, true}, std::nullopt, special); }

}  // namespace codealign::cli
