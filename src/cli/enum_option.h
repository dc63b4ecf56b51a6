// An option whose value is one of an enum's names (common/enum_names.h): CLI11 checks it when
// parsing (its message lists the valid names), config files and config.toml carry the name, and
// the command sees the enum.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/enum_names.h"

namespace codealign::cli {

template <class E, size_t N>
CLI::Option* add_enum_option(CLI::App* app, const std::string& name, E& target, const EnumNames<E, N>& names,
                             const std::string& help) {
  return app
      ->add_option_function<std::string>(
          name, [&target, &names](const std::string& text) { target = names.parse(text, "option"); }, help)
      ->check(CLI::IsMember(names.all()))
      ->default_str(names.name(target));
}

// A comma-separated list of names, e.g. --method dpo,rft.
template <class E, size_t N>
CLI::Option* add_enum_list_option(CLI::App* app, const std::string& name, std::vector<E>& target,
                                  const EnumNames<E, N>& names, const std::string& help) {
  std::string shown;
  for (E value : target) shown += (shown.empty() ? "" : ",") + names.name(value);
  return app
      ->add_option_function<std::vector<std::string>>(
          name,
          [&target, &names](const std::vector<std::string>& texts) {
            target.clear();
            for (const std::string& text : texts) target.push_back(names.parse(text, "option"));
          },
          help)
      ->delimiter(',')
      ->check(CLI::IsMember(names.all()))
      ->default_str(shown);
}

}  // namespace codealign::cli
