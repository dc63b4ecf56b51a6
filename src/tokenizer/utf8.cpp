#include "tokenizer/utf8.h"

namespace codealign::tokenizer {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid character at `pos`, or 0 when the bytes there are not one; `needed`
// tells how many bytes a complete character would need when the text ends too early.
size_t valid_char_length(std::string_view text, size_t pos, bool& truncated) {
  truncated = false;
  auto at = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  unsigned char lead = at(0);
  size_t length = utf8_length(lead);
  if (lead < 0x80) return 1;
  if (length == 1) return 0;
  // Second-byte ranges exclude overlong forms and surrogates (Unicode table 3-7).
  unsigned char low = 0x80, high = 0xBF;
  if (lead == 0xE0) low = 0xA0;
  if (lead == 0xED) high = 0x9F;
  if (lead == 0xF0) low = 0x90;
  if (lead == 0xF4) high = 0x8F;
  for (size_t i = 1; i < length; ++i) {
    if (pos + i >= text.size()) {
      truncated = true;
      return 0;
    }
    unsigned char c = at(i);
    bool ok = i == 1 ? (c >= low && c <= high) : is_continuation(c);
    if (!ok) return 0;
  }
  return length;
}

}  // namespace

std::string utf8_encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 1;
}

char32_t utf8_next(std::string_view text, size_t& pos) {
  bool truncated;
  size_t length = valid_char_length(text, pos, truncated);
  if (length == 0) {
    ++pos;
    return 0xFFFD;
  }
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  char32_t cp = length == 1   ? byte(0)
                : length == 2 ? byte(0) & 0x1F
                : length == 3 ? byte(0) & 0x0F
                              : byte(0) & 0x07;
  for (size_t i = 1; i < length; ++i) cp = (cp << 6) | (byte(i) & 0x3F);
  pos += length;
  return cp;
}

size_t utf8_first_invalid(std::string_view text) {
  size_t pos = 0;
  bool truncated;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t length = valid_char_length(text, pos, truncated);
    if (length == 0) return pos;
    pos += length;
  }
  return std::string_view::npos;
}

size_t utf8_complete_prefix(std::string_view text) {
  // Only the last three bytes can be an unfinished character.
  size_t start = text.size() > 3 ? text.size() - 3 : 0;
  for (size_t pos = start; pos < text.size(); ++pos) {
    unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80 || is_continuation(c)) continue;
    bool truncated;
    valid_char_length(text, pos, truncated);
    if (truncated) return pos;
  }
  return text.size();
}

std::string utf8_replace_invalid(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  bool truncated;
  while (pos < text.size()) {
    size_t length = valid_char_length(text, pos, truncated);
    if (length == 0) {
      // One U+FFFD per maximal subpart: the lead and the continuation bytes it accepted.
      size_t skip = 1;
      size_t expected = utf8_length(static_cast<unsigned char>(text[pos]));
      while (skip < expected && pos + skip < text.size()) {
        std::string_view probe = text.substr(pos, skip + 1);
        bool probe_truncated;
        if (valid_char_length(probe, 0, probe_truncated) == 0 && !probe_truncated) break;
        ++skip;
      }
      out += replacement;
      pos += skip;
    } else {
      out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

}  // namespace codealign::tokenizer
