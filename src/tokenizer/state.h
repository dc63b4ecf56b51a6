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

// Turns text that holds no added tokens into ids.
class Backend {
 public:
  virtual ~Backend() = default;
  // `first` says the text starts the whole input (Metaspace's prepend_scheme "first").
  virtual void encode(std::string_view text, bool first, std::vector<TokenId>& out) const = 0;
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
  std::string description;
  Vocab vocab;  // the model's tokens and the added ones
  std::vector<AddedToken> added;
  std::shared_ptr<const AddedTokenMatcher> matcher;  // over `added`, made by finish_state
  std::unique_ptr<Backend> backend;

  // Decoding: the bytes each id stands for alone, and what the decoder strips from the
  // start of the first token (Metaspace's and Strip's leading space).
  std::vector<std::string> decoded;
  std::string strip_first_char;
  size_t strip_first_count = 0;
  std::vector<bool> special;

  // Post-processor (add_special_tokens): ids around the encoded text.
  std::vector<TokenId> prefix, suffix;
  std::optional<TokenId> bos, eos, pad;
  std::vector<TokenId> stop;
};

// Completes a State after loading: added tokens decode to their content, and the matcher,
// the special flags and the stop ids are derived. Tokenizer::load calls it last.
void finish_state(Tokenizer::State& state);

}  // namespace codealign::tokenizer
