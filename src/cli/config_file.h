// TOML config files for commands (toml++): each key sets the command-line option of the same
// name (underscores read as dashes); the command line wins over the file.
#pragma once
#include <map>
#include <string>

#include <CLI/CLI.hpp>

namespace codealign::cli {

// Applies `path` to the options of `command`. Top-level keys and keys of the tables in
// `tables` are options; a table maps to the prefix its keys get (e.g. {"train", "train-"}:
// [train] beta = 0.1 sets --train-beta; {"sampling", ""}: [sampling] only groups keys).
// Errors name the file, line and key: unknown tables and options, values of the wrong type.
void apply_config_file(CLI::App* command, const std::string& path, const std::map<std::string, std::string>& tables);

}  // namespace codealign::cli
