// PCRE2 (UTF, Unicode properties, JIT) for the pre-tokenizers' split patterns. The syntax the
// tokenizer.json files use (Oniguruma: \p{L}, (?i:...), look-ahead) is PCRE2 syntax too;
// Oniguruma-only meanings (\h as hex digit, (?m) as dot-all) are not translated.
// Patterns that can match the empty string are refused (at load where PCRE2 can tell, else
// at the first empty match).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace codealign::tokenizer {

class Regex {
 public:
  // Throws Error "tokenizer: bad regex '<pattern>': <why>".
  explicit Regex(const std::string& pattern);
  static std::string escape(std::string_view literal);

  // Calls on_match(begin, end) for each leftmost non-overlapping match, in order. The text
  // must be valid UTF-8 (the tokenizer checks it once, up front).
  void for_each_match(std::string_view text,
                      const std::function<void(size_t, size_t)>& on_match) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace codealign::tokenizer
