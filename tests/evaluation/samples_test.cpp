// Bad samples files fail before anything runs, naming the file and line.
#include <gtest/gtest.h>

#include "common/error.h"
#include "evaluation/evaluation.h"
#include "support/test_support.h"

namespace codealign::evaluation {
namespace {

std::string error_for(const std::string& text) {
  static const tasks::TaskSet humaneval = tasks::load_benchmark("humaneval", testing::data_dir());
  testing::TempDir dir;
  std::string path = dir.path + "/samples.jsonl";
  testing::write_text(path, text);
  try {
    read_samples(path, humaneval);
  } catch (const Error& e) {
    std::string message = e.what();
    return message.substr(message.find("samples.jsonl"));
  }
  return "";
}

TEST(Samples, MalformedInputIsNamedByLine) {
  const std::string ok = R"({"task_id": "HumanEval/0", "completion": "    return 1\n"})" "\n";
  EXPECT_EQ(error_for(ok), "");
  EXPECT_EQ(error_for(ok + "{\"task_id\": \n"), "samples.jsonl:2: invalid JSON");
  EXPECT_EQ(error_for(ok + R"({"task_id": "HumanEval/999", "completion": ""})"),
            "samples.jsonl:2: unknown task_id 'HumanEval/999' for benchmark 'humaneval'");
  EXPECT_EQ(error_for(R"({"task_id": "HumanEval/1"})"), "samples.jsonl:1: neither 'completion' nor 'solution' is present");
  EXPECT_EQ(error_for(R"({"completion": "x"})"), "samples.jsonl:1: field 'task_id' is missing");
  EXPECT_EQ(error_for(R"({"task_id": "HumanEval/1", "completion": 3})"), "samples.jsonl:1: field 'completion' is not a string");
  EXPECT_EQ(error_for(ok + "{\"task_id\": \"HumanEval/1\", \"completion\": \"\xff\"}\n"),
            "samples.jsonl:2: line is not valid UTF-8");
  EXPECT_EQ(error_for("[1, 2]\n"), "samples.jsonl:1: expected a JSON object");
}

}  // namespace
}  // namespace codealign::evaluation
