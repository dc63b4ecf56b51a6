// Finds added tokens (special and not) in text before the model sees it, leftmost and
// longest first, as HF's AddedVocabulary does.
#pragma once
#include <array>
#include <functional>
#include <string_view>
#include <vector>

#include "tokenizer/state.h"

namespace codealign::tokenizer {

class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  // Calls on_text(text, starts_input) for the stretches between matches and on_token(id)
  // for each match. Added tokens match only with parse_special and outside `untrusted`.
  void split(std::string_view text, const EncodeOptions& options,
             const std::function<void(std::string_view, bool)>& on_text,
             const std::function<void(TokenId)>& on_token) const;

 private:
  struct Match {
    size_t begin, end;
    TokenId id;
  };
  bool find_at(std::string_view text, size_t pos, const EncodeOptions& options,
               Match& match) const;

  const std::vector<AddedToken>& tokens_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // token indexes, longest first
};

}  // namespace codealign::tokenizer
