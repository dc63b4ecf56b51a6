namespace codealign::cli { }
#include "cli/commands.h"
namespace codealign::cli { Command add_evaluate_command(CLI::App& app) { app.add_subcommand("evaluate", "todo"); return [] { return 0; }; } }
