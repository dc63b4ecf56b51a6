// What a loaded tokenizer is made of (private to the tokenizer part). Loaders fill a State;
// tokenizer.cpp runs it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/tokenizer.h"

namespace codealign::tokenizer {

class AddedTokenMatcher;

// Where a stretch of text sits: at the very start of the input (Metaspace's prepend_scheme
// "first"), or right after text encoded before it (a continuation: no prefix space added).
struct Position {
  bool starts_input = true;
  bool continues = false;
};

// Turns text that holds no added tokens into ids.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void encode(std::string_view text, Position position, std::vector<TokenId>& out) const = 0;
};

// One HF decoder step, applied to each token's text.
struct DecoderStep {
  enum Kind { byte_level, replace, byte_fallback, fuse, strip, metaspace } kind;
  std::string from, to;    // replace: pattern and content; strip: content; metaspace: replacement
  size_t strip_start = 0;  // strip: leading copies of `from` removed
  bool strip_first_space = false;  // metaspace: prepend scheme other than "never"
};

// A token matched in the text before the backend sees it (HF's added tokens).
struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool special = false;
  bool lstrip = false, rstrip = false;  // the match swallows whitespace on that side
  bool single_word = false;             // only between word boundaries
};

struct Tokenizer::State {
  State() = default;
  State(const State&) = delete;  // the backend and matcher point into it
  State& operator=(const State&) = delete;

  std::string description;
  Vocab vocab;  // the model's tokens and the added ones
  std::vector<AddedToken> added;
  std::shared_ptr<const AddedTokenMatcher> matcher;  // over `added`, made by finish_state
  std::unique_ptr<Backend> backend;

  // Decoding: the decoder steps, and the bytes each id stands for when it is not the first
  // token (the first may lose a leading space: Metaspace, Strip).
  std::vector<DecoderStep> decoder;
  std::vector<std::string> decoded;
  std::vector<bool> special;

  // Post-processor (add_special_tokens): ids around the encoded text.
  std::vector<TokenId> prefix, suffix;
  std::optional<TokenId> bos, eos, pad;
  std::vector<TokenId> stop;
};

// Completes a State after loading: checks the special ids, and derives the matcher, the
// special flags and the stop ids. Tokenizer::load calls it last.
void finish_state(Tokenizer::State& state);

}  // namespace codealign::tokenizer
