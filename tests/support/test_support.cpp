#include "support/test_support.h"

#include "common/error.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

extern char** environ;

namespace codealign::testing {

std::string read_proc_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  close(fd);
  return text;
}

std::string data_dir() {
  const char* env = std::getenv("CODEALIGN_DATA_DIR");
  std::string dir = env && *env ? env : CODEALIGN_DEFAULT_DATA_DIR;
  struct stat st;
  if (stat((dir + "/benchmarks").c_str(), &st) != 0) {
    std::fprintf(stderr, "test data missing: '%s/benchmarks' (set CODEALIGN_DATA_DIR)\n", dir.c_str());
    std::abort();
  }
  return dir;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/codealign-test-XXXXXX";
  path = mkdtemp(pattern);
}

TempDir::~TempDir() { std::filesystem::remove_all(path); }

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

CommandResult run_codealign(const std::string& args) {
  return run_command(std::string(CODEALIGN_BINARY) + " " + args + " 2>&1");
}

CommandResult run_command(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

PausedRun::PausedRun(const std::string& args, const std::string& pause, const std::string& log_path) {
  // Everything exec needs is built before fork: the child only calls exec.
  std::string command = "exec " + std::string(CODEALIGN_BINARY) + " " + args + " >" + log_path + " 2>&1";
  std::string name = pause.substr(0, pause.find('=') + 1);
  std::vector<std::string> env{pause};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind(name, 0) != 0) env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  pid_ = fork();
  if (pid_ == 0) {
    execve("/bin/sh", const_cast<char**>(argv), envp.data());
    _exit(127);
  }
}

PausedRun::~PausedRun() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool PausedRun::paused() {
  int status = 0;
  if (waitpid(pid_, &status, WUNTRACED) != pid_) return false;
  if (WIFSTOPPED(status)) return true;
  pid_ = -1;  // it ended
  return false;
}

int PausedRun::finish_with(int signal) {
  kill(pid_, signal);
  kill(pid_, SIGCONT);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

sandbox::Config test_config(double timeout_s) {
  sandbox::Config config;
  config.workers = 2;
  config.limits.timeout_s = timeout_s;
  config.limits.memory_bytes = 1ull << 30;
  return config;
}

}  // namespace codealign::testing
