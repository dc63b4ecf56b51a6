// The names of an enum's values, as options, config files and logs spell them: parse() refuses
// any other text with the valid names, so a mode is checked once, where it enters, and is an
// enum everywhere after.
#pragma once
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace codealign {

template <class E, size_t N>
struct EnumNames {
  std::array<std::pair<E, std::string_view>, N> entries;

  std::string name(E value) const {
    for (const auto& [v, text] : entries)
      if (v == value) return std::string(text);
    return "?";
  }
  // `what` names the field: "training: loss_type 'x' is unknown (valid: sigmoid, ipo)".
  E parse(std::string_view text, const std::string& what) const {
    for (const auto& [v, name] : entries)
      if (name == text) return v;
    std::string valid;
    for (const auto& [v, name] : entries) valid += (valid.empty() ? "" : ", ") + std::string(name);
    throw Error(what + " '" + std::string(text) + "' is unknown (valid: " + valid + ")");
  }
  std::vector<std::string> all() const {
    std::vector<std::string> names;
    for (const auto& entry : entries) names.emplace_back(entry.second);
    return names;
  }
};

}  // namespace codealign
