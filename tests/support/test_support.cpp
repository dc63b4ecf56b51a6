#include "support/test_support.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace codealign::testing {

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

sandbox::Config test_config(double timeout_s) {
  sandbox::Config config;
  config.workers = 2;
  config.limits.timeout_s = timeout_s;
  config.limits.memory_bytes = 1ull << 30;
  return config;
}

}  // namespace codealign::testing
