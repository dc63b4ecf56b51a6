// Helpers shared by the tests: the data directory (which must exist: CI fails, not skips,
// without it), temporary directories, and running the codealign binary.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"

namespace codealign::testing {

// $CODEALIGN_DATA_DIR or ../shared/data; aborts the test program if it is missing.
std::string data_dir();

// A fresh directory under /tmp, removed by the destructor.
struct TempDir {
  TempDir();
  ~TempDir();
  std::string path;
};

// The JSON values of a JSONL file's non-empty lines.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// The message of the codealign::Error that `action` throws; "(no error)" when it throws none.
std::string error_of(const std::function<void()>& action);

// The contents of a /proc file, "" when the process is gone (it may end while being read,
// which makes an ifstream throw).
std::string read_proc_file(const std::string& path);

// Writes `text` to `path`.
void write_text(const std::string& path, const std::string& text);

// Runs the codealign binary with `args` (a shell fragment); returns exit status and stdout+stderr.
struct CommandResult {
  int status;
  std::string output;
};
CommandResult run_codealign(const std::string& args);
// Runs a shell command; returns exit status and stdout (stderr too when the command says 2>&1).
CommandResult run_command(const std::string& command);

// `codealign ARGS` started in the background with `pause` ("NAME=VALUE") added to its
// environment: a test hook that makes it stop itself (SIGSTOP) at a known point, so that a
// test can signal it there whatever the machine's speed (the trainer's
// CODEALIGN_TEST_PAUSE_AFTER_STEP, align's CODEALIGN_TEST_PAUSE_AT). Output goes to
// `log_path`. paused() waits until the process has stopped (false if it ended instead); the
// destructor kills a process still alive, so a failed assertion leaves none behind.
class PausedRun {
 public:
  PausedRun(const std::string& args, const std::string& pause, const std::string& log_path);
  ~PausedRun();
  PausedRun(const PausedRun&) = delete;
  PausedRun& operator=(const PausedRun&) = delete;
  bool paused();
  // Sends `signal`, lets the process continue, and returns its wait status.
  int finish_with(int signal);

 private:
  int pid_ = -1;
};

// A small executor for tests: 2 workers, short timeout, 1 GiB of memory.
sandbox::Config test_config(double timeout_s = 3.0);

}  // namespace codealign::testing
