#include "tokenizer/tokenizer.h"

#include "common/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/state.h"
#include "tokenizer/utf8.h"

namespace codealign::tokenizer {

void finish_state(Tokenizer::State& state) {
  size_t size = state.vocab.tokens.size();
  auto check = [&](std::optional<TokenId> id, const char* what) {
    if (id && (*id < 0 || size_t(*id) >= size))
      throw Error("tokenizer: " + std::string(what) + " id " + std::to_string(*id) +
                  " is outside the vocabulary (size " + std::to_string(size) + ")");
  };
  for (TokenId id : state.prefix) check(id, "post-processor");
  for (TokenId id : state.suffix) check(id, "post-processor");
  check(state.bos, "bos");
  check(state.eos, "eos");
  check(state.pad, "pad");
  state.special.assign(size, false);
  for (const AddedToken& token : state.added) state.special[size_t(token.id)] = token.special;
  for (auto id : {state.bos, state.eos, state.pad})
    if (id) state.special[size_t(*id)] = true;
  state.matcher = std::make_shared<AddedTokenMatcher>(state.added);
  // End-of-turn tokens of the chat formats codealign knows end generation too.
  if (state.eos) state.stop.push_back(*state.eos);
  for (const char* text : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|EOT|>",
                           "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"}) {
    auto id = state.vocab.find(text);
    if (id && state.special[size_t(*id)] && (!state.eos || *id != *state.eos))
      state.stop.push_back(*id);
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  size_t bad = utf8_first_invalid(text);
  if (bad != std::string_view::npos)
    throw Error("tokenizer: text is not valid UTF-8 at byte " + std::to_string(bad) +
                " (hint: decode it with errors replaced before tokenizing)");
  std::vector<TokenId> ids;
  ids.reserve(text.size() / 3 + 4);
  const State& s = *state_;
  s.matcher->split(
      text, options,
      [&](std::string_view segment, bool at_start) {
        Position position{at_start && !options.continuation, at_start && options.continuation};
        s.backend->encode(segment, position, ids);
      },
      [&](TokenId id) { ids.push_back(id); });
  if (!options.add_special_tokens) return ids;
  std::vector<TokenId> out;
  out.reserve(ids.size() + s.prefix.size() + s.suffix.size());
  // BOS/EOS exactly once: a prefix the text already begins with is not added again.
  bool has_prefix = ids.size() >= s.prefix.size() &&
                    std::equal(s.prefix.begin(), s.prefix.end(), ids.begin());
  if (!has_prefix) out = s.prefix;
  out.insert(out.end(), ids.begin(), ids.end());
  bool has_suffix = ids.size() >= s.suffix.size() &&
                    std::equal(s.suffix.rbegin(), s.suffix.rend(), ids.rbegin());
  if (!has_suffix) out.insert(out.end(), s.suffix.begin(), s.suffix.end());
  return out;
}

namespace {

void check_id(const Tokenizer::State& s, TokenId id) {
  if (id < 0 || size_t(id) >= s.decoded.size())
    throw Error("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary (size " +
                std::to_string(s.decoded.size()) + ")");
}

// The bytes of one id; the first token of a text goes through the decoder's first-token
// rules, later ones come from the table.
std::string piece(const Tokenizer::State& s, TokenId id, bool first) {
  return first ? decode_token(s, id, true) : s.decoded[size_t(id)];
}

}  // namespace

std::string Tokenizer::decode(std::span<const TokenId> ids, const DecodeOptions& options) const {
  const State& s = *state_;
  std::string bytes;
  bool first = !options.continuation;
  for (TokenId id : ids) {
    check_id(s, id);
    if (options.skip_special_tokens && s.special[size_t(id)]) continue;
    bytes += piece(s, id, first);
    first = false;
  }
  return utf8_replace_invalid(bytes);
}

size_t Tokenizer::vocab_size() const { return state_->vocab.tokens.size(); }

std::string Tokenizer::token_text(TokenId id) const {
  check_id(*state_, id);
  return state_->vocab.tokens[size_t(id)];
}

std::optional<TokenId> Tokenizer::token_id(std::string_view text) const {
  return state_->vocab.find(text);
}

bool Tokenizer::is_special(TokenId id) const {
  check_id(*state_, id);
  return state_->special[size_t(id)];
}

std::optional<TokenId> Tokenizer::bos_id() const { return state_->bos; }
std::optional<TokenId> Tokenizer::eos_id() const { return state_->eos; }
std::optional<TokenId> Tokenizer::pad_id() const { return state_->pad; }
const std::vector<TokenId>& Tokenizer::prefix_ids() const { return state_->prefix; }
const std::vector<TokenId>& Tokenizer::suffix_ids() const { return state_->suffix; }
std::vector<TokenId> Tokenizer::stop_ids() const { return state_->stop; }
std::string Tokenizer::description() const { return state_->description; }

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, const DecodeOptions& options)
    : state_(tokenizer.state_), options_(options), first_(!options.continuation) {}

std::string StreamDecoder::push(TokenId id) {
  check_id(*state_, id);
  if (options_.skip_special_tokens && state_->special[size_t(id)]) return {};
  pending_ += piece(*state_, id, first_);
  first_ = false;
  size_t complete = utf8_complete_prefix(pending_);
  std::string out = utf8_replace_invalid(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamDecoder::finish() {
  std::string out = utf8_replace_invalid(pending_);
  pending_.clear();
  return out;
}

}  // namespace codealign::tokenizer
