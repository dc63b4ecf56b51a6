// codealign: align code LLMs with execution feedback. Git-style subcommands; errors are
// reported here, at the edge, as "codealign: error: ...".
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include <exception>

int main(int argc, char** argv) {
  using namespace codealign::cli;
  CLI::App app{"codealign: align code LLMs with execution feedback and DPO"};
  app.require_subcommand(1);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command command = adder(app);
    commands[app.get_subcommands({})[before]] = command;
  };
  add(add_evaluate_command);
  add(add_execute_command);
  add(add_tokenize_command);
  add(add_generate_command);
  add(add_sample_command);
  add(add_train_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  try {
    for (auto& [sub, command] : commands)
      if (sub->parsed()) return command();
  } catch (const std::exception& e) {  // codealign::Error, and anything a library let through
    std::fprintf(stderr, "codealign: error: %s\n", e.what());
    return exit_failure;
  }
  return exit_usage;
}
