// JSON Lines input with file:line diagnostics (nlohmann::json underneath).
#pragma once
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace codealign {

using Json = nlohmann::json;

// One non-blank line of a JSONL file.
struct JsonlLine {
  const std::string& path;
  int number;             // 1-based
  std::string_view text;  // without the newline
  // "path:line: " prefix for messages about this line ("path: " when number is 0).
  std::string where() const { return path + (number ? ":" + std::to_string(number) : "") + ": "; }
};

// Calls `visit` for each non-blank line of `text` (read from `path`); blank lines are skipped.
void for_each_jsonl_line(const std::string& path, const std::string& text,
                         const std::function<void(const JsonlLine&)>& visit);

// Parses one line as a JSON object; throws Error("<path>:<line>: invalid JSON: ...") otherwise.
Json parse_json_object(const JsonlLine& line);

// A required string field; throws "<path>:<line>: field 'name' is missing / not a string".
std::string string_field(const Json& object, const char* name, const JsonlLine& line);

// True if `text` is valid UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace codealign
