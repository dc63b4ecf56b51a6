// The entry point of the codealign_model_commands module (cli/model_commands.h).
#include "cli/model_commands.h"

extern "C" __attribute__((visibility("default"))) void codealign_register_model_commands(
    CLI::App& app, std::map<CLI::App*, codealign::cli::Command>& commands) {
  using namespace codealign::cli;
  for (auto adder : {add_generate_command, add_sample_command, add_train_command, add_align_command, add_demo_command}) {
    size_t before = app.get_subcommands({}).size();
    Command command = adder(app);
    commands[app.get_subcommands({})[before]] = command;
  }
}
