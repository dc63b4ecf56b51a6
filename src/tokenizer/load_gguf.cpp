// llama.cpp GGUF vocabularies (tokenizer.ggml.*): "gpt2" byte-level BPE with merges, and
// "llama" SentencePiece BPE whose merge order comes from the token scores.
#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"
#include "tokenizer/gguf.h"
#include "tokenizer/gguf_pipelines.h"
#include "tokenizer/loaders.h"
#include "tokenizer/utf8.h"

namespace codealign::tokenizer {
namespace {

// llama.cpp's token types (llama_token_type).
enum TokenType { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

const std::string space_marker = "\xE2\x96\x81";  // "▁"

// SentencePiece BPE merges the adjacent pair whose concatenation is the highest-scoring
// piece. As ranked merges: every split of a normal piece into two pieces, ranked by the
// piece's score (equal scores share a rank, so the leftmost pair wins, as in llama.cpp).
std::vector<Bpe::Merge> merges_from_scores(const Vocab& vocab, const std::vector<double>& scores,
                                           const std::vector<int64_t>& types) {
  std::vector<double> distinct(scores);
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  auto rank_of = [&](double score) {
    return uint32_t(std::lower_bound(distinct.begin(), distinct.end(), score, std::greater<>()) -
                    distinct.begin());
  };
  std::vector<Bpe::Merge> merges;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    int64_t type = id < types.size() ? types[id] : int64_t(normal);
    if (type != normal && type != user_defined) continue;
    const std::string& piece = vocab.tokens[id];
    for (size_t cut = utf8_length(static_cast<unsigned char>(piece[0])); cut < piece.size();
         cut += utf8_length(static_cast<unsigned char>(piece[cut]))) {
      auto left = vocab.find(std::string_view(piece).substr(0, cut));
      auto right = vocab.find(std::string_view(piece).substr(cut));
      if (left && right) merges.push_back({*left, *right, TokenId(id), rank_of(scores[id])});
    }
  }
  return merges;
}

}  // namespace

void build_spm_from_scores(Tokenizer::State& state, const std::vector<double>& scores,
                           const std::vector<int64_t>& types, bool space_prefix,
                           std::optional<TokenId> unk) {
  std::vector<std::unique_ptr<Normalizer>> normalizers;
  if (space_prefix) normalizers.push_back(make_prepend(space_marker));
  normalizers.push_back(make_replace(" ", space_marker));
  BpeOptions options;
  options.unk = unk;
  options.byte_fallback = true;
  options.fuse_unk = true;
  std::vector<Bpe::Merge> merges = merges_from_scores(state.vocab, scores, types);
  state.backend = std::make_unique<PipelineBackend>(
      std::move(normalizers), std::vector<std::unique_ptr<PreTokenizer>>{},
      std::make_unique<Bpe>(state.vocab, merges, options));
  std::vector<DecoderStep> decoder = {{DecoderStep::replace, space_marker, " ", 0, false},
                                      {DecoderStep::byte_fallback, "", "", 0, false},
                                      {DecoderStep::fuse, "", "", 0, false}};
  if (space_prefix) decoder.push_back({DecoderStep::strip, " ", "", 1, false});
  apply_decoder(decoder, state);
}

StatePtr load_gguf(const std::string& path) {
  GgufHeader gguf = GgufHeader::read(path);
  auto state = std::make_shared<Tokenizer::State>();
  const std::string& model = gguf.string("tokenizer.ggml.model");
  const auto& tokens = gguf.strings("tokenizer.ggml.tokens");
  std::vector<int64_t> types;
  if (gguf.has("tokenizer.ggml.token_type")) types = gguf.integers("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() != tokens.size())
    throw Error("tokenizer: GGUF '" + path + "': " + std::to_string(types.size()) +
                " token types for " + std::to_string(tokens.size()) + " tokens");
  for (size_t id = 0; id < tokens.size(); ++id) state->vocab.add(tokens[id], TokenId(id));

  auto id_key = [&](const char* key) -> std::optional<TokenId> {
    auto value = gguf.optional_integer(key);
    if (!value) return std::nullopt;
    if (*value < 0 || size_t(*value) >= tokens.size())
      throw Error("tokenizer: GGUF '" + path + "' key '" + key + "': id " + std::to_string(*value) +
                  " is outside the vocabulary");
    return TokenId(*value);
  };
  state->bos = id_key("tokenizer.ggml.bos_token_id");
  state->eos = id_key("tokenizer.ggml.eos_token_id");
  state->pad = id_key("tokenizer.ggml.padding_token_id");
  std::optional<TokenId> unk = id_key("tokenizer.ggml.unknown_token_id");

  // Control and user-defined tokens are matched in text before the model (parse_special).
  for (size_t id = 0; id < types.size(); ++id) {
    if (types[id] == control || types[id] == user_defined || types[id] == unknown)
      state->added.push_back({tokens[id], TokenId(id), types[id] != user_defined, false, false, false});
    if (types[id] == unknown && !unk) unk = TokenId(id);
  }

  std::vector<std::unique_ptr<Normalizer>> normalizers;
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers;
  std::vector<Bpe::Merge> merges;
  std::vector<DecoderStep> decoder;
  BpeOptions options;
  options.unk = unk;
  bool add_bos = false;
  if (model == "gpt2") {
    std::string pre = gguf.has("tokenizer.ggml.pre") ? gguf.string("tokenizer.ggml.pre") : "default";
    GgufPipeline pipeline = gguf_pipeline(pre, path);
    normalizers = std::move(pipeline.normalizers);
    pre_tokenizers = std::move(pipeline.pre_tokenizers);
    options.byte_level = true;
    options.ignore_merges = pipeline.ignore_merges;
    add_bos = pipeline.ignore_merges;  // llama3-style vocabularies start with BOS
    std::vector<std::pair<std::string, std::string>> pairs;
    const auto& lines = gguf.strings("tokenizer.ggml.merges");
    for (size_t i = 0; i < lines.size(); ++i)
      pairs.push_back(split_merge_line(lines[i], "GGUF '" + path + "' merge " + std::to_string(i)));
    merges = rank_merges(state->vocab, pairs, "GGUF '" + path + "'");
    decoder = {{DecoderStep::byte_level, "", "", 0, false}};
    state->description = "gguf gpt2 bpe (" + pre + ")";
  } else if (model == "llama") {
    const auto& scores = gguf.floats("tokenizer.ggml.scores");
    for (size_t id = 0; id < scores.size(); ++id)
      if (!std::isfinite(scores[id]))
        throw Error("tokenizer: GGUF '" + path + "': score of token " + std::to_string(id) +
                    " is not a finite number");
    if (scores.size() != tokens.size())
      throw Error("tokenizer: GGUF '" + path + "': " + std::to_string(scores.size()) +
                  " scores for " + std::to_string(tokens.size()) + " tokens");
    bool space_prefix = gguf.optional_boolean("tokenizer.ggml.add_space_prefix").value_or(true);
    build_spm_from_scores(*state, scores, types, space_prefix, unk);
    add_bos = true;
    state->description = "gguf llama spm";
  } else {
    throw Error("tokenizer: GGUF '" + path + "': tokenizer model '" + model +
                "' is not supported (supported: gpt2, llama)");
  }
  if (model == "gpt2") {
    state->backend = std::make_unique<PipelineBackend>(
        std::move(normalizers), std::move(pre_tokenizers),
        std::make_unique<Bpe>(state->vocab, merges, options));  // a copy: the model's vocabulary
    apply_decoder(decoder, *state);
  }
  add_bos = gguf.optional_boolean("tokenizer.ggml.add_bos_token").value_or(add_bos);
  if (add_bos && state->bos) state->prefix = {*state->bos};
  if (gguf.optional_boolean("tokenizer.ggml.add_eos_token").value_or(false) && state->eos)
    state->suffix = {*state->eos};
  return state;
}

}  // namespace codealign::tokenizer
