// Raw member access for JSON objects that nlohmann cannot hold exactly: evalplus data has
// integers beyond 64 bits and Infinity/NaN literals, which only Python parses faithfully.
// These helpers return the member's original text untouched, for the sandbox's Python side.
#pragma once
#include <optional>
#include <string_view>

namespace codealign {

// The raw text of top-level member `key` of the JSON object in `object_text`, or nullopt.
// Throws Error if the text is not an object with well-formed strings and brackets.
std::optional<std::string_view> raw_json_member(std::string_view object_text, std::string_view key);

}  // namespace codealign
