// Subcommands of the codealign CLI. Each registers its options on the app and returns the
// function that runs it; exit codes are those of exit_codes below.
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace codealign::cli {

enum ExitCode { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_interrupted = 130 };

using Command = std::function<int()>;

Command add_evaluate_command(CLI::App& app);
Command add_execute_command(CLI::App& app);
Command add_tokenize_command(CLI::App& app);
Command add_tokenizer_command(CLI::App& app);
Command add_preferences_command(CLI::App& app);
Command add_tasks_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_generate_command(CLI::App& app);
Command add_sample_command(CLI::App& app);
Command add_train_command(CLI::App& app);
Command add_align_command(CLI::App& app);
Command add_demo_command(CLI::App& app);

}  // namespace codealign::cli
