// Whole-file reading (plain and gzip, as the benchmark loaders read *.jsonl.gz) and AtomicFile.
#include "common/files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/jsonl.h"
#include "support/test_support.h"

namespace codealign {
namespace {

using testing::TempDir;
using testing::error_of;
using testing::write_text;

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* listing = opendir(dir.c_str());
  while (const dirent* entry = readdir(listing))
    if (entry->d_name[0] != '.') names.push_back(entry->d_name);
  closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

void write_gzip(const std::string& path, const std::string& text) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, text.data(), text.size()), static_cast<int>(text.size())) << path;
  ASSERT_EQ(gzclose(file), Z_OK) << path;
}

const std::string jsonl = "{\"task_id\": \"a\"}\n{\"task_id\": \"b\"}\n{\"task_id\": \"c\"}\n";

TEST(ReadFile, GzipJsonlIsDecompressed) {
  TempDir dir;
  std::string path = dir.path + "/tasks.jsonl.gz";
  write_gzip(path, jsonl);
  std::string text = read_file(path);
  EXPECT_EQ(text, jsonl);
  std::vector<std::string> ids;
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) { ids.push_back(string_field(parse_json_object(line), "task_id", line)); });
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ReadFile, TruncatedGzipIsAnErrorNamingThePath) {
  TempDir dir;
  std::string whole = dir.path + "/whole.gz", path = dir.path + "/tasks.jsonl.gz";
  std::string long_text;
  for (int i = 0; i < 2000; ++i) long_text += "{\"task_id\": " + std::to_string(i) + "}\n";
  write_gzip(whole, long_text);
  std::ifstream compressed(whole, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(compressed)), {});
  write_text(path, bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(error_of([&] { read_file(path); }).rfind("io: cannot decompress '" + path + "'", 0), 0u)
      << "a truncated gzip file was read without error";
}

// Only the name decides: a file without ".gz" is returned as it is, compressed bytes included.
TEST(ReadFile, PlainFilesAreReadAsTheyAre) {
  TempDir dir;
  write_gzip(dir.path + "/tasks.jsonl.gz", jsonl);
  std::ifstream gzip_file(dir.path + "/tasks.jsonl.gz", std::ios::binary);
  std::string gzip_bytes((std::istreambuf_iterator<char>(gzip_file)), {});
  write_text(dir.path + "/tasks.bin", gzip_bytes);
  EXPECT_EQ(read_file(dir.path + "/tasks.bin"), gzip_bytes);
}

TEST(ReadFile, MissingFileIsAnErrorNamingThePath) {
  TempDir dir;
  for (std::string name : {"/missing.jsonl", "/missing.jsonl.gz"}) {
    std::string path = dir.path + name;
    EXPECT_EQ(error_of([&] { read_file(path); }).rfind("io: cannot open '" + path + "' for reading", 0), 0u) << path;
  }
}

TEST(AtomicFile, TargetChangesOnlyAtCommit) {
  TempDir dir;
  std::string path = dir.path + "/out.jsonl";
  write_text(path, "old\n");
  AtomicFile file(path);
  file.write("new ");
  file.write("text\n");
  EXPECT_EQ(read_file(path), "old\n") << "the target changed before commit()";
  file.commit();
  EXPECT_EQ(read_file(path), "new text\n");
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"out.jsonl"})) << "the temporary file was left behind";
}

TEST(AtomicFile, WriterDestroyedWithoutCommitLeavesNoTrace) {
  TempDir dir;
  std::string kept = dir.path + "/kept.jsonl", absent = dir.path + "/absent.jsonl";
  write_text(kept, "old\n");
  {
    AtomicFile replacing(kept), creating(absent);
    replacing.write("partial");
    creating.write("partial");
  }  // e.g. an exception unwinds a failed run
  EXPECT_EQ(read_file(kept), "old\n");
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"kept.jsonl"})) << "an uncommitted writer left a file";
}

TEST(AtomicFile, FailuresNameThePathAndLeaveNoTemporaryFile) {
  TempDir dir;
  std::string unreachable = dir.path + "/no-such-dir/out.jsonl";
  EXPECT_NE(error_of([&] { AtomicFile file(unreachable); }).find(unreachable), std::string::npos);
  // A directory in the way: the rename at commit fails.
  std::string blocked = dir.path + "/out.jsonl";
  ASSERT_EQ(mkdir(blocked.c_str(), 0755), 0);
  write_text(blocked + "/inside", "x");
  AtomicFile file(blocked);
  file.write("text");
  EXPECT_EQ(error_of([&] { file.commit(); }).rfind("io: cannot write '" + blocked + "'", 0), 0u);
  EXPECT_EQ(entries(dir.path), (std::vector<std::string>{"out.jsonl"})) << "the temporary file was left behind";
}

}  // namespace
}  // namespace codealign
