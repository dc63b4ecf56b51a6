#include "tokenizer/pipeline.h"

#include <utf8proc.h>

#include <cstdlib>

#include "common/error.h"
#include "tokenizer/byte_level.h"

namespace codealign::tokenizer {

// ---- Normalizers ----------------------------------------------------------------------------

namespace {

bool is_ascii(std::string_view text) {
  for (unsigned char c : text)
    if (c >= 0x80) return false;
  return true;
}

class Nfc : public Normalizer {
 public:
  void apply(std::string& text, Position) const override {
    if (is_ascii(text)) return;  // ASCII is always in NFC
    utf8proc_uint8_t* result = nullptr;
    auto length = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                               utf8proc_ssize_t(text.size()), &result,
                               utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (length < 0) throw Error(std::string("tokenizer: NFC failed: ") + utf8proc_errmsg(length));
    text.assign(reinterpret_cast<char*>(result), size_t(length));
    std::free(result);
  }
};

class Replace : public Normalizer {
 public:
  Replace(std::string pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void apply(std::string& text, Position) const override {
    std::string out;
    size_t last = 0;
    pattern_.for_each_match(text, [&](size_t begin, size_t end) {
      out.append(text, last, begin - last);
      out += content_;
      last = end;
    });
    if (last == 0 && out.empty()) return;
    out.append(text, last);
    text = std::move(out);
  }

 private:
  Regex pattern_;
  std::string content_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  void apply(std::string& text, Position position) const override {
    if (!text.empty() && !position.continues) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

}  // namespace

std::unique_ptr<Normalizer> make_nfc() { return std::make_unique<Nfc>(); }
std::unique_ptr<Normalizer> make_replace(std::string pattern, std::string content) {
  return std::make_unique<Replace>(std::move(pattern), std::move(content));
}
std::unique_ptr<Normalizer> make_prepend(std::string prefix) {
  return std::make_unique<Prepend>(std::move(prefix));
}

// ---- Pre-tokenizers -------------------------------------------------------------------------

const char* const gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

struct Piece {
  size_t begin, end;
  bool delimiter;
};

// HF's SplitDelimiterBehavior over the delimiters (matches) and the text between them.
void split_word(const std::string& word, const std::vector<Piece>& pieces,
                SplitBehavior behavior, Words& out) {
  std::string current;
  bool open = false;  // merged_with_next: a delimiter waits for the text after it
  auto flush = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  for (size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    std::string_view text(word.data() + p.begin, p.end - p.begin);
    switch (behavior) {
      case SplitBehavior::removed:
        if (!p.delimiter) out.emplace_back(text);
        break;
      case SplitBehavior::isolated:
        out.emplace_back(text);
        break;
      case SplitBehavior::merged_with_previous:
        if (p.delimiter && i > 0 && !pieces[i - 1].delimiter && !out.empty())
          out.back() += text;
        else
          out.emplace_back(text);
        break;
      case SplitBehavior::merged_with_next:
        if (p.delimiter) {
          flush();
          current = text;
          open = true;
        } else if (open) {
          current += text;
          flush();
          open = false;
        } else {
          out.emplace_back(text);
        }
        break;
      case SplitBehavior::contiguous:
        if (p.delimiter && i > 0 && pieces[i - 1].delimiter && !out.empty())
          out.back() += text;
        else
          out.emplace_back(text);
        break;
    }
  }
  flush();
}

class Split : public PreTokenizer {
 public:
  Split(const std::string& pattern, SplitBehavior behavior, bool invert)
      : pattern_(pattern), behavior_(behavior), invert_(invert) {}
  void apply(Words& words, Position) const override {
    Words out;
    out.reserve(words.size() * 4);
    std::vector<Piece> pieces;
    for (const std::string& word : words) {
      pieces.clear();
      size_t last = 0;
      pattern_.for_each_match(word, [&](size_t begin, size_t end) {
        if (begin > last) pieces.push_back({last, begin, invert_});
        pieces.push_back({begin, end, !invert_});
        last = end;
      });
      if (last < word.size()) pieces.push_back({last, word.size(), invert_});
      split_word(word, pieces, behavior_, out);
    }
    words = std::move(out);
  }

 private:
  Regex pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class PrefixSpace : public PreTokenizer {
 public:
  void apply(Words& words, Position position) const override {
    if (position.continues) return;
    for (std::string& word : words)
      if (word.empty() || word[0] != ' ') word.insert(0, " ");
  }
};

class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)),
        scheme_(scheme),
        split_(split ? std::make_unique<Split>(Regex::escape(replacement_),
                                               SplitBehavior::merged_with_next, false)
                     : nullptr) {}
  void apply(Words& words, Position position) const override {
    for (size_t i = 0; i < words.size(); ++i) {
      std::string& word = words[i];
      std::string replaced;
      for (char c : word) c == ' ' ? replaced += replacement_ : replaced += c;
      bool prepend = (scheme_ == PrependScheme::always && !position.continues) ||
                     (scheme_ == PrependScheme::first && position.starts_input && i == 0);
      if (prepend && replaced.compare(0, replacement_.size(), replacement_) != 0)
        replaced.insert(0, replacement_);
      word = std::move(replaced);
    }
    if (split_) split_->apply(words, position);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  std::unique_ptr<Split> split_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_split(const std::string& pattern, SplitBehavior behavior,
                                         bool invert) {
  return std::make_unique<Split>(pattern, behavior, invert);
}
std::unique_ptr<PreTokenizer> make_byte_level_prefix_space() {
  return std::make_unique<PrefixSpace>();
}
std::unique_ptr<PreTokenizer> make_digits(bool individual) {
  return make_split(individual ? R"(\p{N})" : R"(\p{N}+)", SplitBehavior::isolated, false);
}
std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme,
                                             bool split) {
  return std::make_unique<Metaspace>(std::move(replacement), scheme, split);
}

void PipelineBackend::encode(std::string_view text, Position position,
                             std::vector<TokenId>& out) const {
  std::string normalized(text);
  for (const auto& normalizer : normalizers_) normalizer->apply(normalized, position);
  Words words;
  words.push_back(std::move(normalized));
  for (const auto& pre_tokenizer : pre_tokenizers_) pre_tokenizer->apply(words, position);
  for (const std::string& word : words) model_->encode_word(word, out);
}

// ---- Decoder ------------------------------------------------------------------------------

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
}

bool byte_token(const std::string& token, char& byte) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return false;
  char* end = nullptr;
  long value = std::strtol(token.substr(3, 2).c_str(), &end, 16);
  if (*end != '\0') return false;
  byte = static_cast<char>(value);
  return true;
}

}  // namespace

std::string decode_token(const Tokenizer::State& state, TokenId id, bool first) {
  std::string text = state.vocab.tokens[size_t(id)];
  bool fused = false;  // after a Fuse, Strip works on the whole text: only its start
  for (const DecoderStep& step : state.decoder) {
    switch (step.kind) {
      case DecoderStep::byte_level: text = byte_level_decode(text); break;
      case DecoderStep::replace: replace_all(text, step.from, step.to); break;
      case DecoderStep::metaspace:
        replace_all(text, step.from, first && step.strip_first_space ? "" : " ");
        break;
      case DecoderStep::byte_fallback: {
        char byte;
        if (byte_token(text, byte)) text = std::string(1, byte);
        break;
      }
      case DecoderStep::fuse: fused = true; break;
      case DecoderStep::strip:
        if (!fused || first)
          for (size_t n = 0; n < step.strip_start && text.rfind(step.from, 0) == 0; ++n)
            text.erase(0, step.from.size());
        break;
    }
  }
  return text;
}

void apply_decoder(std::vector<DecoderStep> steps, Tokenizer::State& state) {
  state.decoder = std::move(steps);
  state.decoded.resize(state.vocab.tokens.size());
  for (size_t id = 0; id < state.vocab.tokens.size(); ++id)
    state.decoded[id] = decode_token(state, TokenId(id), false);
}

}  // namespace codealign::tokenizer
