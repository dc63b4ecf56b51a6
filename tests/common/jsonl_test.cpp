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
  EXPECT_EQ(numbers, (std::vector<int>{1, 4}));  // also proves the callback ran twice
}

// Assertions inside a callback count only if it ran: each test counts the calls.
TEST(Jsonl, ErrorsNameFileAndLine) {
  std::string text = "{\"task_id\": 1}\n{broken\n";
  int visited = 0;
  try {
    for_each_jsonl_line("samples.jsonl", text, [&](const JsonlLine& line) {
      ++visited;
      parse_json_object(line);
    });
    FAIL() << "the broken line 2 was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "samples.jsonl:2: invalid JSON");
  }
  EXPECT_EQ(visited, 2);
  int missing_field_calls = 0;
  for_each_jsonl_line("s.jsonl", "{\"x\": 1}", [&](const JsonlLine& line) {
    ++missing_field_calls;
    try {
      string_field(parse_json_object(line), "completion", line);
      FAIL() << "the missing field was not reported";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "s.jsonl:1: field 'completion' is missing");
    }
  });
  EXPECT_EQ(missing_field_calls, 1);
}

TEST(Jsonl, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));               // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));           // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));       // surrogate
  int calls = 0;
  for_each_jsonl_line("bad.jsonl", "{\"a\": \"\xff\"}", [&](const JsonlLine& line) {
    ++calls;
    EXPECT_THROW(parse_json_object(line), Error);
  });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace codealign
