// The HF tokenizers pipeline for BPE models: normalizers, then pre-tokenizers that cut the
// text into words, then the BPE model on each word. Also the decoder steps, applied to each
// vocabulary entry once at load time.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/regex.h"
#include "tokenizer/state.h"

namespace codealign::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(std::string& text, Position position) const = 0;
};
std::unique_ptr<Normalizer> make_nfc();
std::unique_ptr<Normalizer> make_replace(std::string pattern_regex, std::string content);
std::unique_ptr<Normalizer> make_prepend(std::string prefix);

// Pre-tokenizers refine a list of words; each may also rewrite the words.
using Words = std::vector<std::string>;
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void apply(Words& words, Position position) const = 0;
};

enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };
std::unique_ptr<PreTokenizer> make_split(const std::string& pattern_regex, SplitBehavior behavior,
                                         bool invert);
// GPT-2's own split pattern, the one ByteLevel uses with use_regex.
extern const char* const gpt2_pattern;
std::unique_ptr<PreTokenizer> make_byte_level_prefix_space();
std::unique_ptr<PreTokenizer> make_digits(bool individual);
enum class PrependScheme { always, first, never };
std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme,
                                             bool split);

class PipelineBackend : public Backend {
 public:
  PipelineBackend(std::vector<std::unique_ptr<Normalizer>> normalizers,
                  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers,
                  std::unique_ptr<Bpe> model)
      : normalizers_(std::move(normalizers)),
        pre_tokenizers_(std::move(pre_tokenizers)),
        model_(std::move(model)) {}
  void encode(std::string_view text, Position position, std::vector<TokenId>& out) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> normalizers_;
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers_;
  std::unique_ptr<Bpe> model_;
};

// Sets state.decoder and fills state.decoded (every id as a non-first token).
void apply_decoder(std::vector<DecoderStep> steps, Tokenizer::State& state);
// The bytes of one token through the decoder steps; `first` applies what HF's decoders do
// to the first token (Metaspace drops its replacement characters, Strip after Fuse strips
// the start of the text).
std::string decode_token(const Tokenizer::State& state, TokenId id, bool first);

}  // namespace codealign::tokenizer
