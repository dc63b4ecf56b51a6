// Small UTF-8 helpers for the tokenizer (code points, validation, safe prefixes).
#pragma once
#include <string>
#include <string_view>

namespace codealign::tokenizer {

std::string utf8_encode(char32_t code_point);
// Decodes the code point at `pos` and advances past it; an invalid byte yields U+FFFD and
// advances by one.
char32_t utf8_next(std::string_view text, size_t& pos);
// Byte length of the character that starts with `lead` (1 for an invalid lead byte).
size_t utf8_length(unsigned char lead);
// Offset of the first byte that is not part of valid UTF-8, or npos.
size_t utf8_first_invalid(std::string_view text);
// Length of the longest prefix that ends on a character boundary, where the tail may be the
// start of a character still incomplete (it is left out). Invalid bytes count as complete.
size_t utf8_complete_prefix(std::string_view text);
// Replaces every invalid sequence with U+FFFD, one per maximal invalid subpart.
std::string utf8_replace_invalid(std::string_view text);

}  // namespace codealign::tokenizer
