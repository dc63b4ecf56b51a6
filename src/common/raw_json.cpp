#include "common/raw_json.h"

#include "common/error.h"

namespace codealign {
namespace {

// Index just past the JSON string starting at `i` (which holds '"').
size_t skip_string(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') ++i;
    else if (text[i] == '"') return i + 1;
  }
  throw Error("json: unterminated string");
}

size_t skip_space(std::string_view text, size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  return i;
}

// Index just past the value starting at `i`: strings and brackets are matched, anything else
// (numbers, literals such as Infinity) runs to the next ',' '}' or ']' at depth 0.
size_t skip_value(std::string_view text, size_t i) {
  int depth = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') { i = skip_string(text, i); if (depth == 0) return i; continue; }
    if (c == '[' || c == '{') ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (c == ',' && depth == 0) return i;
    ++i;
  }
  if (depth != 0) throw Error("json: unbalanced brackets");
  return i;
}

}  // namespace

std::optional<std::string_view> raw_json_member(std::string_view text, std::string_view key) {
  size_t i = skip_space(text, 0);
  if (i >= text.size() || text[i] != '{') throw Error("json: expected an object");
  i = skip_space(text, i + 1);
  while (i < text.size() && text[i] != '}') {
    if (text[i] != '"') throw Error("json: expected a member name");
    size_t name_end = skip_string(text, i);
    std::string_view name = text.substr(i + 1, name_end - i - 2);
    i = skip_space(text, name_end);
    if (i >= text.size() || text[i] != ':') throw Error("json: expected ':'");
    size_t value_start = skip_space(text, i + 1);
    size_t value_end = skip_value(text, value_start);
    std::string_view value = text.substr(value_start, value_end - value_start);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\r')) value.remove_suffix(1);
    if (name == key) return value;
    i = skip_space(text, value_end);
    if (i < text.size() && text[i] == ',') i = skip_space(text, i + 1);
  }
  return std::nullopt;
}

}  // namespace codealign
