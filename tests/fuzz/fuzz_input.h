// What every harness shares: the input as a file (the parsers read paths, as users give them),
// and the one failure a parser may report, codealign::Error. Anything else that escapes (another
// exception type, a crash, a sanitizer report, a hang) is a finding.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"

namespace codealign::fuzz {

// This process's directory for input files: $CODEALIGN_FUZZ_INPUT_DIR (bench/fuzz.sh makes one in
// memory and removes it: libFuzzer ends a run without exit handlers), else one under /tmp.
inline const std::filesystem::path& input_directory() {
  static const std::filesystem::path directory = [] {
    const char* given = std::getenv("CODEALIGN_FUZZ_INPUT_DIR");
    std::filesystem::path d = given ? std::filesystem::path(given)
                                    : std::filesystem::temp_directory_path() / ("codealign-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return directory;
}

// The input as the file `name` (rewritten for each input).
inline std::string input_file(const uint8_t* data, size_t size, const std::string& name) {
  std::string path = (input_directory() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

template <class Parse>
int expect_parse_or_error(Parse parse) {
  try {
    parse();
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace codealign::fuzz
