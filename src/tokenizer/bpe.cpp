#include "tokenizer/bpe.h"

#include <cstdio>
#include <functional>
#include <queue>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace codealign::tokenizer {

void Vocab::add(std::string text, TokenId id) {
  constexpr TokenId limit = 1 << 24;  // far above any real vocabulary; bounds the table
  if (id < 0 || id >= limit)
    throw Error("tokenizer: token '" + text + "' has id " + std::to_string(id) +
                ", outside 0.." + std::to_string(limit - 1));
  if (size_t(id) >= tokens.size()) tokens.resize(size_t(id) + 1);
  tokens[size_t(id)] = text;
  ids.emplace(std::move(text), id);  // the first id of a duplicated text wins
}

std::optional<TokenId> Vocab::find(std::string_view text) const {
  auto found = ids.find(text);
  if (found == ids.end()) return std::nullopt;
  return found->second;
}

Bpe::Bpe(Vocab vocab, const std::vector<Merge>& merges, BpeOptions options)
    : vocab_(std::move(vocab)), options_(options) {
  merges_.reserve(merges.size() * 2);
  for (const Merge& m : merges) merges_.emplace(key(m.left, m.right), Result{m.rank, m.merged});
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    auto id = options_.byte_level ? vocab_.find(byte_level_char(static_cast<unsigned char>(b)))
                                  : vocab_.find(hex);
    byte_ids_[size_t(b)] = id.value_or(-1);
  }
}

void Bpe::initial_symbols(std::string_view word, std::vector<TokenId>& symbols) const {
  auto unknown = [&](std::string_view what) {
    if (!options_.unk)
      throw Error("tokenizer: '" + std::string(what) +
                  "' is not in the vocabulary and the model has no unknown token");
    if (options_.fuse_unk && !symbols.empty() && symbols.back() == *options_.unk) return;
    symbols.push_back(*options_.unk);
  };
  if (options_.byte_level) {
    for (unsigned char c : word) {
      if (byte_ids_[c] < 0)
        unknown(byte_level_char(c));
      else
        symbols.push_back(byte_ids_[c]);
    }
    return;
  }
  size_t pos = 0;
  while (pos < word.size()) {
    size_t start = pos;
    pos += utf8_length(static_cast<unsigned char>(word[pos]));
    std::string_view character = word.substr(start, pos - start);
    if (auto id = vocab_.find(character)) {
      symbols.push_back(*id);
      continue;
    }
    bool all_bytes = options_.byte_fallback;
    for (unsigned char c : character) all_bytes = all_bytes && byte_ids_[c] >= 0;
    if (all_bytes) {
      for (unsigned char c : character) symbols.push_back(byte_ids_[c]);
    } else {
      unknown(character);
    }
  }
}

// Short words (most of them): keep each adjacent pair's rank in an array, merge the best
// (lowest rank, then leftmost), and look up only the two pairs the merge changed.
void Bpe::merge_short(std::vector<TokenId>& symbols) const {
  constexpr uint32_t none = UINT32_MAX;
  uint32_t ranks[short_word];
  TokenId merged[short_word];
  auto look_up = [&](size_t i) {
    auto found = merges_.find(key(symbols[i], symbols[i + 1]));
    ranks[i] = found == merges_.end() ? none : found->second.rank;
    merged[i] = found == merges_.end() ? -1 : found->second.merged;
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) look_up(i);
  while (symbols.size() > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < symbols.size(); ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks[best] == none) return;
    symbols[best] = merged[best];
    symbols.erase(symbols.begin() + long(best) + 1);
    for (size_t i = best + 1; i + 1 < symbols.size(); ++i) {
      ranks[i] = ranks[i + 1];
      merged[i] = merged[i + 1];
    }
    if (best + 1 < symbols.size()) look_up(best);
    if (best > 0) look_up(best - 1);
  }
}

// Long words (SentencePiece runs BPE over a whole line): symbols form a linked list and
// candidate pairs wait in a heap ordered by (rank, position); a popped candidate is stale
// when either side has changed since it was pushed.
void Bpe::merge(std::vector<TokenId>& symbols) const {
  size_t n = symbols.size();
  if (n < 2) return;
  if (n <= short_word) return merge_short(symbols);
  std::vector<int> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = int(i) - 1;
    next[i] = i + 1 < n ? int(i + 1) : -1;
  }
  struct Candidate {
    uint32_t rank;
    int position;
    TokenId left, right, merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : position > o.position;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto push = [&](int left) {
    if (left < 0 || next[size_t(left)] < 0) return;
    TokenId a = symbols[size_t(left)], b = symbols[size_t(next[size_t(left)])];
    auto found = merges_.find(key(a, b));
    if (found != merges_.end())
      heap.push({found->second.rank, left, a, b, found->second.merged});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(int(i));
  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    size_t left = size_t(c.position);
    int right = next[left];
    if (symbols[left] != c.left || right < 0 || symbols[size_t(right)] != c.right) continue;
    symbols[left] = c.merged;
    symbols[size_t(right)] = -1;  // removed
    next[left] = next[size_t(right)];
    if (next[left] >= 0) prev[size_t(next[left])] = int(left);
    push(prev[left]);
    push(int(left));
  }
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i)
    if (symbols[i] >= 0) symbols[kept++] = symbols[i];
  symbols.resize(kept);
}

void Bpe::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    auto whole = options_.byte_level ? vocab_.find(byte_level_encode(word)) : vocab_.find(word);
    if (whole) {
      out.push_back(*whole);
      return;
    }
  }
  bool cacheable = word.size() <= 64;
  CacheShard* shard = nullptr;
  if (cacheable) {
    shard = &cache_[std::hash<std::string_view>{}(word) % cache_shards];
    std::lock_guard lock(shard->mutex);
    auto found = shard->words.find(word);
    if (found != shard->words.end()) {
      out.insert(out.end(), found->second.begin(), found->second.end());
      return;
    }
  }
  std::vector<TokenId> symbols;
  symbols.reserve(word.size());
  initial_symbols(word, symbols);
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard lock(shard->mutex);
    if (shard->words.size() >= cache_shard_limit) shard->words.clear();
    shard->words.emplace(std::string(word), std::move(symbols));
  }
}

}  // namespace codealign::tokenizer
