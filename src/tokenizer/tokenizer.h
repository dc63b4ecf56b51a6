// Tokenizers of the code models codealign trains: text <-> token ids, exactly as the
// model's reference tokenizer (HF `tokenizers`, llama.cpp, SentencePiece) does it.
//
// Loads: HF tokenizer.json (BPE: byte-level or SentencePiece-style with byte fallback),
// GPT-2 vocab.json/encoder.json + merges.txt/vocab.bpe, llama.cpp GGUF vocabularies
// (tokenizer.ggml.*), and SentencePiece tokenizer.model (through libsentencepiece).
// Unsupported components are refused with an Error naming the component; nothing is
// silently approximated.
//
// Text given to encode() must be valid UTF-8 (an Error names the first bad byte); decode()
// replaces each maximal invalid byte sequence with one U+FFFD (as HF's ByteLevel decoder;
// HF's ByteFallback gives one per byte). Added and special tokens are matched in text only
// where the caller trusts it (EncodeOptions). Known gap: a SentencePiece tokenizer.model
// with user-defined pieces (CodeLlama's FIM pieces) still matches them in untrusted text,
// because libsentencepiece does; the same vocabulary as tokenizer.json or GGUF does not.
//
// A Tokenizer is immutable after loading, cheap to copy (shared state) and safe to use from
// many threads at once. Torch-free.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace codealign::tokenizer {

using TokenId = int32_t;

// A byte range of the text whose content is untrusted: special tokens are never matched
// inside it, even when the rest of the text is parsed for them.
struct TextSpan {
  size_t begin = 0, end = 0;
};

struct EncodeOptions {
  // Add the post-processor's tokens (BOS/EOS as the tokenizer's config says), HF's
  // add_special_tokens. A BOS already at the start of the ids is not added again.
  bool add_special_tokens = false;
  // Match added tokens written in the text ("<|im_start|>" -> its id). False treats the
  // whole text as untrusted: added tokens, special or not (FIM tokens are often marked
  // non-special), are then encoded as the plain text they spell. (HF's split_special_tokens
  // still matches non-special added tokens.)
  bool parse_special = true;
  std::vector<TextSpan> untrusted;  // with parse_special: spans where added tokens stay text
  // The text continues text encoded before (a completion after its prompt): no prefix
  // space is added at its start (SentencePiece's dummy prefix, Metaspace, Prepend).
  bool continuation = false;
};

struct DecodeOptions {
  bool skip_special_tokens = false;
  // The ids continue ids decoded before: the first one keeps its leading space, which the
  // decoder otherwise drops as the prefix space the encoder added (SentencePiece, Metaspace).
  bool continuation = false;
};

class Tokenizer {
 public:
  // Loads from a file or a model directory:
  //   *.json with a "model" member (HF tokenizer.json), *.gguf, *.model (SentencePiece),
  //   encoder.json/vocab.json (merges next to it: vocab.bpe or merges.txt),
  //   a directory: tokenizer.json, else tokenizer.model, else vocab.json + merges.txt.
  // A tokenizer_config.json next to the file supplies bos/eos/add_bos_token when present.
  static Tokenizer load(const std::string& path);

  std::vector<TokenId> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Bytes of the ids' text; invalid UTF-8 is replaced by U+FFFD.
  std::string decode(std::span<const TokenId> ids, const DecodeOptions& options = {}) const;

  size_t vocab_size() const;                             // highest id + 1
  std::string token_text(TokenId id) const;              // as in the vocabulary ("Ġthe")
  std::optional<TokenId> token_id(std::string_view token_text) const;
  bool is_special(TokenId id) const;

  std::optional<TokenId> bos_id() const;
  std::optional<TokenId> eos_id() const;
  std::optional<TokenId> pad_id() const;
  // What add_special_tokens puts before and after the text (e.g. {BOS} and {}).
  const std::vector<TokenId>& prefix_ids() const;
  const std::vector<TokenId>& suffix_ids() const;
  // Ids that end generation: eos plus end-of-turn tokens such as <|im_end|>, <|eot_id|>.
  std::vector<TokenId> stop_ids() const;
  // What the tokenizer is ("hf-json bpe byte-level", "gguf llama spm", "sentencepiece").
  std::string description() const;

  struct State;  // private

 private:
  explicit Tokenizer(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
  friend class StreamDecoder;
};

// Incremental decoding of a growing id sequence (the sampler's stop strings): each push()
// returns only text that is complete UTF-8; bytes of a character split across tokens wait
// for the rest. The concatenation of all push() results and finish() equals decode(ids).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, const DecodeOptions& options = {});
  std::string push(TokenId id);
  std::string finish();  // flushes what is left (an incomplete character becomes U+FFFD)

 private:
  std::shared_ptr<const Tokenizer::State> state_;
  DecodeOptions options_;
  bool first_;
  std::string pending_;
};

// ---- Prompts for instruct models -------------------------------------------------------

// A single-turn chat format: the rendered prompt ends where the assistant's answer begins.
// Templates hold "{system}" and "{user}" where the messages go.
struct ChatFormat {
  std::string name;                       // "chatml", "qwen2.5", "llama-2", "deepseek-coder", ...
  std::string prompt_template;            // with a system message
  std::string prompt_template_no_system;  // without one; empty: use system_default instead
  std::string system_default;
  std::string assistant_suffix;           // what ends the answer in training data, e.g. "<|im_end|>"
};

// Built-in formats by name: chatml, qwen2.5, llama-2, deepseek-coder. Throws on an unknown name.
ChatFormat builtin_chat_format(const std::string& name);
// Recognises the format from a tokenizer_config.json's chat_template; nullopt when unknown.
std::optional<ChatFormat> detect_chat_format(const std::string& tokenizer_config_path);
// A user format file: JSON with the fields of ChatFormat (errors name the file and field).
ChatFormat load_chat_format(const std::string& path);

// A rendered prompt: text plus the byte spans that hold the caller's (untrusted) messages.
struct Prompt {
  std::string text;
  std::vector<TextSpan> untrusted;
};
Prompt render_chat(const ChatFormat& format, std::string_view user,
                   std::optional<std::string_view> system = std::nullopt);

// Prompt and completion tokenized so that training sees exactly what sampling saw: the
// prompt's ids (with BOS once when the tokenizer adds one) are a prefix of the whole, and
// the completion's ids follow them unchanged; EOS is appended once when asked for.
struct PromptCompletionIds {
  std::vector<TokenId> prompt, completion;
};
PromptCompletionIds encode_prompt_completion(const Tokenizer& tokenizer, const Prompt& prompt,
                                             std::string_view completion, bool append_eos);

}  // namespace codealign::tokenizer
