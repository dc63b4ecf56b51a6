#include "common/raw_json.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace codealign {
namespace {

TEST(RawJson, MembersKeepTheirOriginalText) {
  std::string text = R"({"task_id": "Mbpp/1", "base_input": [[1e-30, -Infinity], [99999999999999999999999]], )"
                     R"("s": "a \"quoted\" ], {brace", "atol": 0.0001, "nested": {"x": [1, {"y": 2}]}})";
  EXPECT_EQ(*raw_json_member(text, "task_id"), "\"Mbpp/1\"");
  EXPECT_EQ(*raw_json_member(text, "base_input"), "[[1e-30, -Infinity], [99999999999999999999999]]");
  EXPECT_EQ(*raw_json_member(text, "s"), R"("a \"quoted\" ], {brace")");
  EXPECT_EQ(*raw_json_member(text, "atol"), "0.0001");
  EXPECT_EQ(*raw_json_member(text, "nested"), R"({"x": [1, {"y": 2}]})");
  EXPECT_FALSE(raw_json_member(text, "x"));  // only top-level members
}

TEST(RawJson, MalformedTextIsAnError) {
  EXPECT_THROW(raw_json_member("[1, 2]", "a"), Error);
  EXPECT_THROW(raw_json_member(R"({"a": "unterminated)", "a"), Error);
  EXPECT_THROW(raw_json_member(R"({"a": [1, 2)", "b"), Error);
}

}  // namespace
}  // namespace codealign
