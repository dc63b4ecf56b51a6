// GPT-2's byte-level alphabet: each of the 256 bytes is shown as one printable character
// ("Ġ" for a space), so that byte-level vocabularies are plain strings.
#pragma once
#include <string>
#include <string_view>

namespace codealign::tokenizer {

// The UTF-8 text of the character that stands for `byte`.
const std::string& byte_level_char(unsigned char byte);
// Maps every byte of `text` to its character.
std::string byte_level_encode(std::string_view text);
// The inverse: a token made of alphabet characters becomes their bytes; a token with any
// other character is kept as it is (as HF's ByteLevel decoder does, e.g. for added tokens).
std::string byte_level_decode(std::string_view token);

}  // namespace codealign::tokenizer
