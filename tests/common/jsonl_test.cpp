#include "common/jsonl.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace codealign {
namespace {

TEST(Jsonl, LinesAreNumberedAndBlankLinesSkipped) {
  std::vector<int> numbers;
  for_each_jsonl_line("f.jsonl", "{\"a\":1}\n\n  \n{\"a\":2}\r\n", [&](const JsonlLine& line) {
    numbers.push_back(line.number);
    EXPECT_EQ(parse_json_object(line).at("a"), numbers.size());
  });
  EXPECT_EQ(numbers, (std::vector<int>{1, 4}));
}

TEST(Jsonl, ErrorsNameFileAndLine) {
  std::string text = "{\"task_id\": 1}\n{broken\n";
  try {
    for_each_jsonl_line("samples.jsonl", text, [](const JsonlLine& line) { parse_json_object(line); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "samples.jsonl:2: invalid JSON");
  }
  for_each_jsonl_line("s.jsonl", "{\"x\": 1}", [](const JsonlLine& line) {
    try {
      string_field(parse_json_object(line), "completion", line);
      FAIL();
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "s.jsonl:1: field 'completion' is missing");
    }
  });
}

TEST(Jsonl, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));               // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));           // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));       // surrogate
  for_each_jsonl_line("bad.jsonl", "{\"a\": \"\xff\"}", [](const JsonlLine& line) {
    EXPECT_THROW(parse_json_object(line), Error);
  });
}

}  // namespace
}  // namespace codealign
