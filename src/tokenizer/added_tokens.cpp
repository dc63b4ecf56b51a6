#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace codealign::tokenizer {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_word_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool overlaps(const std::vector<TextSpan>& spans, size_t begin, size_t end) {
  for (const TextSpan& span : spans)
    if (begin < span.end && span.begin < end) return true;
  return false;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) : tokens_(tokens) {
  for (size_t i = 0; i < tokens.size(); ++i)
    if (!tokens[i].content.empty())
      by_first_byte_[static_cast<unsigned char>(tokens[i].content[0])].push_back(i);
  for (auto& list : by_first_byte_)
    std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
      return tokens[a].content.size() > tokens[b].content.size();
    });
}

bool AddedTokenMatcher::find_at(std::string_view text, size_t pos, const EncodeOptions& options,
                                Match& match) const {
  for (size_t index : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const AddedToken& token = tokens_[index];
    if (text.compare(pos, token.content.size(), token.content) != 0) continue;
    size_t end = pos + token.content.size();
    // Untrusted text matches no added token at all, special or not (FIM tokens are often
    // marked non-special, yet text must not forge them).
    if (!options.parse_special || overlaps(options.untrusted, pos, end)) continue;
    if (token.single_word && ((pos > 0 && is_word_char(text[pos - 1])) ||
                              (end < text.size() && is_word_char(text[end]))))
      continue;
    match = {pos, end, token.id};
    if (token.lstrip)
      while (match.begin > 0 && is_space(text[match.begin - 1])) --match.begin;
    if (token.rstrip)
      while (match.end < text.size() && is_space(text[match.end])) ++match.end;
    return true;
  }
  return false;
}

void AddedTokenMatcher::split(std::string_view text, const EncodeOptions& options,
                              const std::function<void(std::string_view, bool)>& on_text,
                              const std::function<void(TokenId)>& on_token) const {
  size_t segment_start = 0;
  Match match;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (by_first_byte_[static_cast<unsigned char>(text[pos])].empty()) continue;
    if (!find_at(text, pos, options, match)) continue;
    size_t begin = std::max(match.begin, segment_start);  // lstrip stops at the last match
    if (begin > segment_start)
      on_text(text.substr(segment_start, begin - segment_start), segment_start == 0);
    on_token(match.id);
    segment_start = match.end;
    pos = match.end - 1;
  }
  if (segment_start < text.size())
    on_text(text.substr(segment_start), segment_start == 0);
}

}  // namespace codealign::tokenizer
