// Byte-level BPE training (train.h): words counted once, then merges learned with pair
// counts kept up to date incrementally, then the vocabulary written as HF's tokenizer.json.
#include "tokenizer/train.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <queue>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/progress.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace codealign::tokenizer {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Qwen2's pre-tokenizer split (HF tokenizers and codealign's loader both run it): contractions,
// letters with one leading non-letter, single digits, punctuation runs with their newlines,
// newline runs, whitespace runs that leave the last space to the next word.
const char* const split_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr size_t byte_tokens = 256;

uint64_t pair_key(TokenId left, TokenId right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }
TokenId left_of(uint64_t key) { return TokenId(key >> 32); }
TokenId right_of(uint64_t key) { return TokenId(key & 0xFFFFFFFFu); }

// ---- Pair statistics ---------------------------------------------------------------------

struct Word {
  std::vector<TokenId> symbols;
  uint64_t count;
};

// A queue entry; stale when the pair's count has changed since it was pushed.
struct Candidate {
  int64_t count;
  uint64_t pair;
  // Highest count first; among equal counts the smaller (left, right), as HF's BpeTrainer.
  bool operator<(const Candidate& other) const {
    return count != other.count ? count < other.count : pair > other.pair;
  }
};

class PairStats {
 public:
  explicit PairStats(std::vector<Word>& words) : words_(words) {
    for (uint32_t w = 0; w < words_.size(); ++w) {
      const Word& word = words_[w];
      for (size_t i = 0; i + 1 < word.symbols.size(); ++i)
        change(pair_key(word.symbols[i], word.symbols[i + 1]), int64_t(word.count), w);
    }
    for (const auto& [pair, count] : counts_) queue_.push({count, pair});
    increased_.clear();
  }

  // The most frequent pair (nullopt when none is seen min_count times).
  std::optional<uint64_t> best(int64_t min_count) {
    while (!queue_.empty()) {
      Candidate top = queue_.top();
      queue_.pop();
      auto found = counts_.find(top.pair);
      int64_t current = found == counts_.end() ? 0 : found->second;
      if (current != top.count) {  // stale: requeue with the count it has now
        if (current > 0) queue_.push({current, top.pair});
        continue;
      }
      if (current < min_count) return std::nullopt;
      return top.pair;
    }
    return std::nullopt;
  }

  // Replaces every occurrence of `pair` (left to right, not overlapping) by `merged` in the
  // words that hold it, and updates the counts of the pairs around each occurrence.
  void merge(uint64_t pair, TokenId merged) {
    TokenId left = left_of(pair), right = right_of(pair);
    std::vector<uint32_t> holders = std::move(where_[pair]);
    where_.erase(pair);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    for (uint32_t w : holders) {
      std::vector<TokenId>& s = words_[w].symbols;
      int64_t count = int64_t(words_[w].count);
      size_t out = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == left && s[i + 1] == right) {
          if (out > 0) {
            change(pair_key(s[out - 1], left), -count, w);
            change(pair_key(s[out - 1], merged), count, w);
          }
          if (i + 2 < s.size()) {
            change(pair_key(right, s[i + 2]), -count, w);
            change(pair_key(merged, s[i + 2]), count, w);
          }
          s[out++] = merged;
          ++i;
        } else {
          s[out++] = s[i];
        }
      }
      s.resize(out);
    }
    counts_.erase(pair);
    // Pairs that gained are queued with their new count; those that lost are found stale.
    std::sort(increased_.begin(), increased_.end());
    increased_.erase(std::unique(increased_.begin(), increased_.end()), increased_.end());
    for (uint64_t gained : increased_)
      if (gained != pair) queue_.push({counts_[gained], gained});
    increased_.clear();
  }

 private:
  void change(uint64_t pair, int64_t delta, uint32_t w) {
    int64_t& count = counts_[pair];
    count += delta;
    if (delta > 0) {
      std::vector<uint32_t>& holders = where_[pair];
      if (holders.empty() || holders.back() != w) holders.push_back(w);
      increased_.push_back(pair);
    }
  }

  std::vector<Word>& words_;
  std::unordered_map<uint64_t, int64_t> counts_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where_;  // words that (may) hold the pair
  std::priority_queue<Candidate> queue_;
  std::vector<uint64_t> increased_;
};

// ---- tokenizer.json --------------------------------------------------------------------

// `value` as JSON indented by two spaces per level, its first line not indented.
std::string indented(const OrderedJson& value, int level) {
  std::string text = value.dump(2), pad(size_t(level) * 2, ' '), out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

OrderedJson byte_level_step(const char* type) {
  return {{"type", type}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
}

OrderedJson added_token(const std::string& content, TokenId id) {
  return {{"id", id},        {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", true}};
}

// HF's layout, with the vocabulary and the merges one entry per line so that a diff of two
// vocabularies reads.
std::string tokenizer_json(const std::vector<std::string>& token_bytes,
                           const std::vector<std::pair<TokenId, TokenId>>& merges,
                           const std::vector<std::string>& special_tokens) {
  OrderedJson added = OrderedJson::array();
  for (size_t i = 0; i < special_tokens.size(); ++i)
    added.push_back(added_token(special_tokens[i], TokenId(token_bytes.size() + i)));
  OrderedJson pre_tokenizer = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", split_pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
        byte_level_step("ByteLevel")}}};

  std::vector<std::string> text(token_bytes.size());
  for (size_t id = 0; id < token_bytes.size(); ++id) text[id] = byte_level_encode(token_bytes[id]);
  std::string out = "{\n";
  out += "  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": " + indented(added, 1) + ",\n";
  out += "  \"normalizer\": null,\n";
  out += "  \"pre_tokenizer\": " + indented(pre_tokenizer, 1) + ",\n";
  out += "  \"post_processor\": " + indented(byte_level_step("ByteLevel"), 1) + ",\n";
  out += "  \"decoder\": " + indented(byte_level_step("ByteLevel"), 1) + ",\n";
  out += "  \"model\": {\n";
  out += "    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n";
  out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n";
  out += "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n";
  out += "    \"vocab\": {";
  for (size_t id = 0; id < text.size(); ++id)
    out += std::string(id ? "," : "") + "\n      " + OrderedJson(text[id]).dump() + ": " + std::to_string(id);
  out += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < merges.size(); ++i)
    out += std::string(i ? "," : "") + "\n      [" + OrderedJson(text[size_t(merges[i].first)]).dump() +
           ", " + OrderedJson(text[size_t(merges[i].second)]).dump() + "]";
  out += "\n    ]\n  }\n}\n";
  return out;
}

// What transformers reads beside tokenizer.json: the class, eos and pad (the first special
// token), no BOS, and no clean-up of spaces in decoding (code keeps "a ." as it is).
std::string tokenizer_config_json(const std::vector<std::string>& special_tokens, size_t first_id) {
  OrderedJson decoder = OrderedJson::object();
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    OrderedJson token = added_token(special_tokens[i], TokenId(first_id + i));
    token.erase("id");
    decoder[std::to_string(first_id + i)] = token;
  }
  OrderedJson config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                        {"add_bos_token", false},
                        {"bos_token", nullptr},
                        {"eos_token", special_tokens[0]},
                        {"pad_token", special_tokens[0]},
                        {"unk_token", nullptr},
                        {"clean_up_tokenization_spaces", false},
                        {"added_tokens_decoder", decoder}};
  return config.dump(2) + "\n";
}

}  // namespace

// ---- BpeTrainer ---------------------------------------------------------------------------

struct BpeTrainer::Impl {
  BpeTrainOptions options;
  Regex split{split_pattern};
  StringMap<uint64_t> word_counts;
  uint64_t bytes = 0;

  void count(std::string_view word) {
    auto found = word_counts.find(word);
    if (found != word_counts.end())
      ++found->second;
    else
      word_counts.emplace(std::string(word), 1);
  }

  // The Split pre-tokenizer with behavior Isolated: every match and every gap is a word.
  void count_words(std::string_view text) {
    size_t last = 0;
    split.for_each_match(text, [&](size_t begin, size_t end) {
      if (begin > last) count(text.substr(last, begin - last));
      count(text.substr(begin, end - begin));
      last = end;
    });
    if (last < text.size()) count(text.substr(last));
  }
};

BpeTrainer::BpeTrainer(BpeTrainOptions options) : impl_(std::make_unique<Impl>()) {
  const auto& specials = options.special_tokens;
  if (specials.empty())
    throw Error("tokenizer: training needs at least one special token (the first is eos and pad)");
  for (size_t i = 0; i < specials.size(); ++i) {
    if (specials[i].empty()) throw Error("tokenizer: special token " + std::to_string(i) + " is empty");
    if (utf8_first_invalid(specials[i]) != std::string::npos)
      throw Error("tokenizer: special token " + std::to_string(i) + " is not valid UTF-8");
    if (std::find(specials.begin(), specials.begin() + i, specials[i]) != specials.begin() + i)
      throw Error("tokenizer: special token '" + specials[i] + "' is given twice");
  }
  size_t least = byte_tokens + specials.size();
  if (options.vocab_size < least)
    throw Error("tokenizer: vocabulary size " + std::to_string(options.vocab_size) + " is too small: " +
                "the 256 bytes and " + std::to_string(specials.size()) + " special token" +
                (specials.size() == 1 ? "" : "s") + " need " + std::to_string(least));
  if (options.vocab_size > size_t(INT32_MAX))
    throw Error("tokenizer: vocabulary size " + std::to_string(options.vocab_size) + " is too large");
  impl_->options = std::move(options);
}

BpeTrainer::~BpeTrainer() = default;

void BpeTrainer::add_text(std::string_view text, const std::string& source) {
  size_t bad = utf8_first_invalid(text);
  if (bad != std::string_view::npos) {
    size_t line = 1 + size_t(std::count(text.begin(), text.begin() + ptrdiff_t(bad), '\n'));
    size_t newline = text.rfind('\n', bad), line_begin = newline == std::string_view::npos ? 0 : newline + 1;
    throw Error("tokenizer: " + source + ":" + std::to_string(line) + ": text is not valid UTF-8 at byte " +
                std::to_string(bad - line_begin + 1) + " of the line");
  }
  impl_->bytes += text.size();
  // Cut at the special tokens (leftmost, longest first among those starting there).
  const auto& specials = impl_->options.special_tokens;
  size_t start = 0;
  while (start < text.size()) {
    size_t found = std::string_view::npos, length = 0;
    for (const std::string& special : specials) {
      size_t at = text.find(special, start);
      if (at < found || (at == found && at != std::string_view::npos && special.size() > length))
        found = at, length = special.size();
    }
    if (found == std::string_view::npos) break;
    if (found > start) impl_->count_words(text.substr(start, found - start));
    start = found + length;
  }
  if (start < text.size()) impl_->count_words(text.substr(start));
}

TrainedBpe BpeTrainer::train() const {
  const BpeTrainOptions& options = impl_->options;
  // Words in byte order, so that nothing depends on the hash map's order.
  std::vector<std::pair<std::string_view, uint64_t>> sorted(impl_->word_counts.begin(),
                                                             impl_->word_counts.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    Word word{{}, count};
    word.symbols.reserve(text.size());
    for (unsigned char byte : text) word.symbols.push_back(TokenId(byte));
    words.push_back(std::move(word));
  }

  std::vector<std::string> token_bytes(byte_tokens);
  StringMap<TokenId> ids;
  for (size_t b = 0; b < byte_tokens; ++b) {
    token_bytes[b] = std::string(1, char(b));
    ids.emplace(token_bytes[b], TokenId(b));
  }
  std::vector<std::pair<TokenId, TokenId>> merges;
  size_t model_size = options.vocab_size - options.special_tokens.size();

  uint64_t min_count = std::max<uint64_t>(options.min_frequency, 1);
  PairStats stats(words);
  {
    Progress progress("tokenizer: merges", options.progress ? model_size - byte_tokens : 0);
    while (token_bytes.size() < model_size) {
      std::optional<uint64_t> best = stats.best(int64_t(min_count));
      if (!best) {
        size_t have = token_bytes.size() + options.special_tokens.size();
        throw Error("tokenizer: the training text (" + std::to_string(impl_->bytes) + " bytes, " +
                    std::to_string(words.size()) + " distinct words) runs out of pairs seen at least " +
                    std::to_string(min_count) + " times after " + std::to_string(merges.size()) +
                    " merges: the vocabulary has " + std::to_string(have) + " of the " +
                    std::to_string(options.vocab_size) +
                    " ids asked for (hint: more text, or a smaller vocabulary size)");
      }
      TokenId left = left_of(*best), right = right_of(*best);
      std::string text = token_bytes[size_t(left)] + token_bytes[size_t(right)];
      auto [found, added] = ids.emplace(text, TokenId(token_bytes.size()));
      if (added) {
        token_bytes.push_back(text);
        if (options.progress) progress.advance();
      }
      merges.emplace_back(left, right);
      stats.merge(*best, found->second);
    }
  }

  TrainedBpe trained;
  trained.tokenizer_json = tokenizer_json(token_bytes, merges, options.special_tokens);
  trained.tokenizer_config_json = tokenizer_config_json(options.special_tokens, token_bytes.size());
  trained.merges = merges.size();
  trained.words = words.size();
  trained.bytes = impl_->bytes;
  return trained;
}

std::string save_trained_bpe(const TrainedBpe& trained, const std::string& out) {
  namespace fs = std::filesystem;
  fs::path tokenizer_path = out;
  if (tokenizer_path.extension() != ".json") tokenizer_path /= "tokenizer.json";
  fs::path directory = tokenizer_path.parent_path();
  std::error_code error;
  if (!directory.empty()) fs::create_directories(directory, error);
  if (error)
    throw Error("tokenizer: cannot create the directory '" + directory.string() + "': " + error.message());
  fs::path config_path = directory / "tokenizer_config.json";
  AtomicFile tokenizer_file(tokenizer_path.string()), config_file(config_path.string());
  tokenizer_file.write(trained.tokenizer_json);
  config_file.write(trained.tokenizer_config_json);
  tokenizer_file.commit();
  config_file.commit();
  return tokenizer_path.string();
}

}  // namespace codealign::tokenizer
