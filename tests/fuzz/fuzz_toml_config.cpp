// A command's TOML config file (--config), applied to options of every kind the commands have:
// checked numbers, enumerations, lists, flags, strings, and tables that prefix their keys.
#include <string>
#include <vector>

#include "cli/config_file.h"
#include "cli/option_checks.h"
#include "fuzz_input.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::input_file(data, size, "config.toml");
  CLI::App command("a command with options of every kind", "train");
  double beta = 0.1;
  int epochs = 1;
  std::string method = "dpo", output;
  std::vector<int> k = {1};
  bool resume = false;
  command.add_option("--train-beta", beta)->check(cli::above(0));
  command.add_option("--epochs", epochs)->check(cli::at_least(1));
  command.add_option("--method", method)->check(CLI::IsMember({"dpo", "rft", "grpo"}));
  command.add_option("--k", k)->check(cli::at_least(1));
  command.add_option("--output", output);
  command.add_flag("--resume", resume);
  command.add_option("--config");
  return fuzz::expect_parse_or_error(
      [&] { cli::apply_config_file(&command, path, {{"train", "train-"}, {"sampling", ""}}); });
}
