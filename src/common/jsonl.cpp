#include "common/jsonl.h"

#include "common/error.h"

namespace codealign {

void for_each_jsonl_line(const std::string& path, const std::string& text,
                         const std::function<void(const JsonlLine&)>& visit) {
  size_t start = 0;
  int number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) visit({path, number, line});
    start = end + 1;
  }
}

Json parse_json_object(const JsonlLine& line) {
  if (!is_valid_utf8(line.text)) throw Error(line.where() + "line is not valid UTF-8");
  Json value = Json::parse(line.text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) throw Error(line.where() + "invalid JSON");
  if (!value.is_object()) throw Error(line.where() + "expected a JSON object");
  return value;
}

std::string string_field(const Json& object, const char* name, const JsonlLine& line) {
  auto it = object.find(name);
  if (it == object.end()) throw Error(line.where() + "field '" + name + "' is missing");
  if (!it->is_string()) throw Error(line.where() + "field '" + name + "' is not a string");
  return it->get<std::string>();
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0, n = text.size();
  while (i < n) {
    unsigned char c = text[i];
    int extra;
    unsigned min;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; min = 0x80; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; min = 0x800; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; min = 0x10000; c &= 0x07; }
    else return false;
    if (i + extra >= n) return false;
    unsigned code = c;
    for (int k = 1; k <= extra; ++k) {
      unsigned char d = text[i + k];
      if ((d & 0xC0) != 0x80) return false;
      code = (code << 6) | (d & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace codealign
