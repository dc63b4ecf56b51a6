#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/error.h"

namespace codealign::tokenizer {

struct Regex::Compiled {
  std::string pattern;
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

// MULTILINE: in Oniguruma's Ruby syntax, which HF tokenizers uses, ^ and $ match at line
// boundaries (DeepSeek's "\\s+$"); lines end at LF only, whatever PCRE2's build default.
Regex::Regex(const std::string& pattern) {
  auto fail = [&](const std::string& why) {
    throw Error("tokenizer: bad regex '" + pattern + "': " + why);
  };
  std::unique_ptr<pcre2_compile_context, decltype(&pcre2_compile_context_free)> context(
      pcre2_compile_context_create(nullptr), &pcre2_compile_context_free);
  if (!context) fail("out of memory");
  pcre2_set_newline(context.get(), PCRE2_NEWLINE_LF);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  auto compiled = std::make_shared<Compiled>();
  compiled->pattern = pattern;
  compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error_code,
                                 &error_offset, context.get());
  if (!compiled->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    fail(std::string(reinterpret_cast<char*>(message)) + " at offset " + std::to_string(error_offset));
  }
  // HF splits at empty matches (look-arounds alone); codealign does not, so refuse them.
  uint32_t min_length = 1;
  pcre2_pattern_info(compiled->code, PCRE2_INFO_MINLENGTH, &min_length);
  if (min_length == 0) fail("it can match the empty string, which is not supported");
  pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
  compiled_ = std::move(compiled);
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

void Regex::for_each_match(std::string_view text,
                           const std::function<void(size_t, size_t)>& on_match) const {
  // One match-data block per thread and pattern size is enough: matches never nest.
  thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create(32, nullptr), &pcre2_match_data_free);
  if (!data) throw Error("tokenizer: out of memory for regex match data");
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset <= text.size()) {
    int rc = pcre2_match(compiled_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK,
                         data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw Error("tokenizer: regex '" + compiled_->pattern + "' failed: " +
                  reinterpret_cast<char*>(message));
    }
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    size_t begin = ovector[0], end = ovector[1];
    // Look-arounds alone can still match empty (PCRE2's minimum length counts them).
    if (begin == end)
      throw Error("tokenizer: regex '" + compiled_->pattern + "' matched the empty string at byte " +
                  std::to_string(begin) + ": zero-width splits are not supported");
    on_match(begin, end);
    offset = end;
  }
}

}  // namespace codealign::tokenizer
