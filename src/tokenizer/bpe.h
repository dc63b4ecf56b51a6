// The BPE model: a word's initial symbols are merged pairwise, lowest rank first (leftmost
// first among equal ranks), as HF's BPE and llama.cpp's SPM tokenizer do.
//
// Two alphabets: byte-level (each byte is one symbol, looked up through the GPT-2 alphabet)
// or characters (each UTF-8 character is one symbol; characters missing from the vocabulary
// become <0xXX> byte tokens with byte_fallback, or the unknown token).
#pragma once
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace codealign::tokenizer {

// Lets string-keyed maps be searched with a string_view, without a temporary string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

struct Vocab {
  std::vector<std::string> tokens;  // id -> text ("" for an unused id)
  StringMap<TokenId> ids;

  void add(std::string text, TokenId id);
  std::optional<TokenId> find(std::string_view text) const;
};

struct BpeOptions {
  bool byte_level = false;
  bool byte_fallback = false;
  bool ignore_merges = false;  // a word that is itself a token is not split (Llama-3)
  bool fuse_unk = false;
  std::optional<TokenId> unk;
};

class Bpe {
 public:
  // left + right -> merged, lowest rank first. Ranks may be shared (SentencePiece scores);
  // for a pair listed twice the first listing counts.
  struct Merge {
    TokenId left, right, merged;
    uint32_t rank;
  };
  // `vocab` is the model's own (HF's model.vocab): added tokens are not in it, so merges and
  // whole-word lookups never produce them.
  Bpe(Vocab vocab, const std::vector<Merge>& merges, BpeOptions options);

  void encode_word(std::string_view word, std::vector<TokenId>& out) const;

 private:
  struct Result {
    uint32_t rank;
    TokenId merged;
  };
  static uint64_t key(TokenId left, TokenId right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  void initial_symbols(std::string_view word, std::vector<TokenId>& symbols) const;
  void merge(std::vector<TokenId>& symbols) const;
  static constexpr size_t short_word = 24;  // symbols; longer words use the heap
  void merge_short(std::vector<TokenId>& symbols) const;

  Vocab vocab_;
  BpeOptions options_;
  std::unordered_map<uint64_t, Result> merges_;
  std::array<TokenId, 256> byte_ids_;  // byte-level symbol, or <0xXX> token; -1 when absent

  // Words seen before, sharded so that threads rarely wait on one another.
  static constexpr size_t cache_shards = 64, cache_shard_limit = 8192;
  struct CacheShard {
    std::mutex mutex;
    StringMap<std::vector<TokenId>> words;
  };
  mutable std::array<CacheShard, cache_shards> cache_;
};

}  // namespace codealign::tokenizer
