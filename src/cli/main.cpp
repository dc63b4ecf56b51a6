// codealign: align code LLMs with execution feedback. Git-style subcommands; errors are
// reported here, at the edge, as "codealign: error: ...".
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_commands.h"
#include "common/error.h"
#include "common/install_paths.h"

extern const char* const codealign_version;

namespace {

using namespace codealign::cli;

// "codealign: error: unknown command 'X' (did you mean 'Y'?)" for a misspelt subcommand.
std::string unknown_command(int argc, char** argv, const CLI::App& app) {
  if (argc < 2 || argv[1][0] == '-') return "";
  std::vector<std::string> names(std::begin(model_command_names), std::end(model_command_names));
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (std::find(names.begin(), names.end(), argv[1]) != names.end()) return "";
  return std::string("unknown command '") + argv[1] + "'" + codealign::did_you_mean(argv[1], names);
}

// Whether this command line needs the model commands: one of them, or help for everything.
bool wants_model_commands(int argc, char** argv) {
  if (argc < 2) return true;
  for (const char* name : model_command_names)
    if (std::strcmp(argv[1], name) == 0) return true;
  return std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0;
}

void load_model_commands(CLI::App& app, std::map<CLI::App*, Command>& commands) {
  const char* env = std::getenv("CODEALIGN_MODEL_COMMANDS_MODULE");
  std::string path = env ? env
                         : codealign::installed_or_build_path(CODEALIGN_INSTALLED_MODEL_COMMANDS_MODULE,
                                                              CODEALIGN_MODEL_COMMANDS_MODULE);
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!module)
    throw codealign::Error(std::string("cannot load the model commands module: ") + dlerror() +
                           " (hint: build the codealign_model_commands target, or reinstall, or set "
                           "CODEALIGN_MODEL_COMMANDS_MODULE)");
  auto register_commands = reinterpret_cast<RegisterModelCommands>(dlsym(module, register_model_commands_symbol));
  if (!register_commands) throw codealign::Error("'" + path + "' is not codealign's model commands module");
  register_commands(app, commands);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"codealign: align code LLMs with execution feedback and DPO"};
  app.require_subcommand(1);
  app.set_version_flag("--version", codealign_version);
  std::map<CLI::App*, Command> commands;
  auto add = [&](Command (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    Command command = adder(app);
    commands[app.get_subcommands({})[before]] = command;
  };
  add(add_evaluate_command);
  add(add_execute_command);
  add(add_tokenize_command);
  add(add_tokenizer_command);
  add(add_preferences_command);
  add(add_tasks_command);
  add(add_report_command);
  add(add_serve_command);
  if (std::string unknown = unknown_command(argc, argv, app); !unknown.empty()) {
    std::fprintf(stderr, "codealign: error: %s\n", unknown.c_str());
    return exit_usage;
  }
  try {
    if (wants_model_commands(argc, argv)) load_model_commands(app, commands);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "codealign: error: %s\n", e.what());
    return exit_failure;
  }
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
