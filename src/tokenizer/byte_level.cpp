#include "tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "tokenizer/utf8.h"

namespace codealign::tokenizer {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes take the code points from
// U+0100 on, in byte order.
struct Alphabet {
  std::array<std::string, 256> chars;
  std::unordered_map<char32_t, unsigned char> bytes;
  Alphabet() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      char32_t code_point = printable ? char32_t(b) : next++;
      chars[b] = utf8_encode(code_point);
      bytes[code_point] = static_cast<unsigned char>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

const std::string& byte_level_char(unsigned char byte) { return alphabet().chars[byte]; }

std::string byte_level_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 2);
  for (unsigned char c : text) out += alphabet().chars[c];
  return out;
}

std::string byte_level_decode(std::string_view token) {
  std::string out;
  size_t pos = 0;
  while (pos < token.size()) {
    char32_t code_point = utf8_next(token, pos);
    auto found = alphabet().bytes.find(code_point);
    if (found == alphabet().bytes.end()) return std::string(token);
    out += static_cast<char>(found->second);
  }
  return out;
}

}  // namespace codealign::tokenizer
