// Whole-file reading (plain or gzip) and atomic writing.
// Writers go to "<path>.tmp.<pid>" and rename on commit, so a failed run never leaves a
// half-written output in place. Not thread-safe per object.
#pragma once
#include <cstdio>
#include <string>

namespace codealign {

// Reads a whole file; ".gz" files are decompressed. Throws Error naming the path.
std::string read_file(const std::string& path);

bool file_exists(const std::string& path);

// Writes to a temporary sibling and renames it over `path` on commit(); a writer destroyed
// without commit() removes the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view text);
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_, temp_path_;
  std::FILE* file_ = nullptr;
};

}  // namespace codealign
