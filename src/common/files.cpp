#include "common/files.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include "common/error.h"

namespace codealign {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_gzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw system_error("io: cannot open '" + path + "' for reading", errno);
  std::string text;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, n);
  int status = Z_OK;
  std::string why = gzerror(file, &status);
  gzclose(file);
  // A stream cut short ends the reading like a whole one, with Z_BUF_ERROR left as the state.
  if (n < 0 || status == Z_BUF_ERROR) throw Error("io: cannot decompress '" + path + "': " + why);
  return text;
}

}  // namespace

std::string read_file(const std::string& path) {
  if (ends_with(path, ".gz")) return read_gzip(path);
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw system_error("io: cannot open '" + path + "' for reading", errno);
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed) throw Error("io: cannot read '" + path + "'");
  return text;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp." + std::to_string(getpid())) {
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) throw system_error("io: cannot open '" + temp_path_ + "' for writing", errno);
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    unlink(temp_path_.c_str());
  }
}

void AtomicFile::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size())
    throw system_error("io: cannot write '" + temp_path_ + "'", errno);
}

void AtomicFile::commit() {
  bool failed = std::fflush(file_) != 0 || fsync(fileno(file_)) != 0;
  int saved = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (failed || std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    if (!failed) saved = errno;
    unlink(temp_path_.c_str());
    throw system_error("io: cannot write '" + path_ + "'", saved);
  }
}

}  // namespace codealign
