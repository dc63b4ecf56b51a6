// The subcommands that run a model (generate, sample, train, align, demo) live in a module of their own,
// `codealign_model_commands`, which links libtorch. The codealign binary loads it only when
// one of them is asked for (or for the full --help), so that the torch-free commands (execute,
// evaluate, tokenize) start without loading torch's libraries (about 0.6-0.9 s on its own).
#pragma once
#include <map>

#include "cli/commands.h"

namespace codealign::cli {

// The names the module registers, known without loading it.
inline constexpr const char* model_command_names[] = {"generate", "sample", "train", "align", "demo"};

// Exported by the module (extern "C", looked up with dlsym): adds its subcommands to `app`.
using RegisterModelCommands = void (*)(CLI::App& app, std::map<CLI::App*, Command>& commands);
inline constexpr const char* register_model_commands_symbol = "codealign_register_model_commands";

}  // namespace codealign::cli
