// Training codealign's own tokenizers: a byte-level BPE vocabulary learned from text and
// written as an HF tokenizer.json that codealign's loader and HF `tokenizers` (and
// transformers' PreTrainedTokenizerFast, through the tokenizer_config.json beside it) encode
// to the same ids.
//
// What is written: Qwen2's split pattern (digits one by one, indentation and newline runs
// kept together) as a Split pre-tokenizer, ByteLevel without its own regex, no normalizer
// (so decode(encode(text)) == text for any UTF-8 text), the ByteLevel decoder. Ids: 0-255 the
// bytes (id == byte value), then one id per merge in the order learned, then the special
// tokens as added tokens. What it does not do: unigram/WordPiece models, normalization,
// dropout, or continuing an earlier vocabulary.
//
// Merges: the most frequent adjacent pair of the words' current symbols (word counts
// weighted), ties to the smaller (left id, right id), as HF's BpeTrainer; pair counts are
// updated incrementally, so a merge costs only the words that hold its pair. The same texts,
// in any order, give a byte-identical tokenizer.json.
//
// A BpeTrainer is not thread-safe; it owns copies of the words it has counted. Torch-free.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace codealign::tokenizer {

struct BpeTrainOptions {
  // Every id: 256 bytes + merges + special tokens; training stops when there are this many.
  size_t vocab_size = 1024;
  // Added tokens after the merges, in this order; the first is eos and pad. Training text is
  // cut at them, so no merge spans or spells one.
  std::vector<std::string> special_tokens = {"<|endoftext|>"};
  // Pairs seen fewer times than this in all the text are never merged; when no pair is left
  // the text is too small for the vocabulary and train() says so.
  uint64_t min_frequency = 2;
  bool progress = false;  // a progress line over the merges on stderr (when it is a terminal)
};

struct TrainedBpe {
  std::string tokenizer_json;         // HF tokenizer.json
  std::string tokenizer_config_json;  // transformers' tokenizer_config.json: eos, pad, class
  size_t merges = 0;                  // merges learned (each one id, unless its text repeats)
  size_t words = 0;                   // distinct pre-tokenized words trained on
  uint64_t bytes = 0;                 // bytes of text trained on
};

class BpeTrainer {
 public:
  // Throws Error when vocab_size leaves no room (below 256 + special tokens), or a special
  // token is empty, repeated or not valid UTF-8.
  explicit BpeTrainer(BpeTrainOptions options);
  ~BpeTrainer();
  BpeTrainer(const BpeTrainer&) = delete;
  BpeTrainer& operator=(const BpeTrainer&) = delete;

  // Cuts `text` at the special tokens, pre-tokenizes it and counts its words. Throws Error
  // "tokenizer: <source>:<line>: text is not valid UTF-8 at byte <n> of the line" for bad text.
  void add_text(std::string_view text, const std::string& source = "text");

  // Learns the merges from all text added so far (the trainer can take more text and train
  // again). Throws Error when the pairs seen min_frequency times run out first.
  TrainedBpe train() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes tokenizer.json and tokenizer_config.json, each through a temporary file and a
// rename: into the directory `out`, or to `out` itself when it ends in ".json", with
// tokenizer_config.json beside it; missing directories are created. Returns the
// tokenizer.json path.
std::string save_trained_bpe(const TrainedBpe& trained, const std::string& out);

}  // namespace codealign::tokenizer
