#include "cli/config_file.h"

#include <optional>
#include <sstream>

#include <toml++/toml.h>

#include "common/error.h"

namespace codealign::cli {
namespace {

std::string where(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line) + ": ";
}

// A scalar as CLI11 reads it from the command line; empty for tables and nested arrays.
std::optional<std::string> scalar_text(const toml::node& node) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto f = node.as_floating_point()) {
    std::ostringstream text;
    text.precision(17);
    text << f->get();
    return text.str();
  }
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  return std::nullopt;
}

std::vector<std::string> option_names(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::Option* option : command->get_options())
    if (!option->get_lnames().empty()) names.push_back(option->get_lnames()[0]);
  return names;
}

void apply_key(CLI::App* command, const std::string& path, const std::string& name, const toml::node& value) {
  std::string key = name;
  for (char& c : key) c = c == '_' ? '-' : c;
  CLI::Option* option = command->get_option_no_throw("--" + key);
  if (!option || key == "config")
    throw Error(where(path, value) + "unknown option '" + name + "'" + did_you_mean(key, option_names(command)) +
                " (see codealign " + command->get_name() + " --help)");
  if (option->count() > 0) return;  // the command line wins
  std::vector<std::string> items;
  if (auto array = value.as_array()) {
    for (const toml::node& item : *array) {
      auto text = scalar_text(item);
      if (!text) throw Error(where(path, item) + "'" + name + "' must be a list of plain values");
      items.push_back(*text);
    }
  } else if (auto text = scalar_text(value)) {
    items.push_back(*text);
  } else {
    throw Error(where(path, value) + "'" + name + "' must be a plain value or a list");
  }
  // CLI11 runs an option's callback on its results: none at all is undefined (a fuzzing finding).
  if (items.empty()) throw Error(where(path, value) + "'" + name + "' is an empty list; give it a value or leave it out");
  try {
    for (const std::string& item : items) option->add_result(item);
    option->run_callback();
  } catch (const CLI::Error& e) {
    throw Error(where(path, value) + "bad value for '" + name + "': " + e.what());
  }
}

}  // namespace

void apply_config_file(CLI::App* command, const std::string& path, const std::map<std::string, std::string>& tables) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0) throw Error("config: cannot read '" + path + "': " + std::string(e.description()));
    throw Error(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (const auto& [name, node] : root) {
    const toml::table* table = node.as_table();
    if (!table) {
      apply_key(command, path, std::string(name.str()), node);
      continue;
    }
    auto prefix = tables.find(std::string(name.str()));
    if (prefix == tables.end()) {
      std::vector<std::string> names;
      for (const auto& [t, p] : tables) names.push_back(t);
      throw Error(where(path, node) + "unknown table [" + std::string(name.str()) + "]" +
                  did_you_mean(std::string(name.str()), names));
    }
    for (const auto& [key, value] : *table) {
      if (value.is_table()) throw Error(where(path, value) + "nested table '" + std::string(key.str()) + "' is not an option");
      apply_key(command, path, prefix->second + std::string(key.str()), value);
    }
  }
}

}  // namespace codealign::cli
