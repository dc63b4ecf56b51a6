// SentencePiece tokenizer.model through libsentencepiece: its own normalizer and model run
// the text; only added-token matching and decoding tables are ours.
#include <sentencepiece_processor.h>

#include <algorithm>

#include "common/error.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {
namespace {

// A continuation must not get SentencePiece's dummy prefix, which the library adds to every
// text. So a continuation is encoded after a sentinel character that is not in the
// vocabulary: it becomes byte or unknown pieces, which merge with nothing, and its ids (with
// the dummy prefix) are dropped again.
class SentencePieceBackend : public Backend {
 public:
  explicit SentencePieceBackend(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
      : processor_(std::move(processor)) {
    if (processor_->PieceToId(sentinel) != processor_->unk_id())
      throw Error("tokenizer: SentencePiece model has the piece U+E000, which codealign needs "
                  "as a sentinel for continuations");
    encode_raw(sentinel, sentinel_ids_);
  }
  void encode(std::string_view text, Position position, std::vector<TokenId>& out) const override {
    if (!position.continues) return encode_raw(text, out);
    std::vector<TokenId> ids;
    encode_raw(std::string(sentinel) + std::string(text), ids);
    if (ids.size() < sentinel_ids_.size() ||
        !std::equal(sentinel_ids_.begin(), sentinel_ids_.end(), ids.begin()))
      throw Error("tokenizer: SentencePiece merged the continuation sentinel into the text");
    out.insert(out.end(), ids.begin() + long(sentinel_ids_.size()), ids.end());
  }

 private:
  static constexpr const char* sentinel = "\xEE\x80\x80";  // U+E000, private use
  void encode_raw(std::string_view text, std::vector<TokenId>& out) const {
    std::vector<int> ids;
    auto status = processor_->Encode(text, &ids);
    if (!status.ok()) throw Error("tokenizer: sentencepiece failed: " + status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
  }

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::vector<TokenId> sentinel_ids_;
};

}  // namespace

StatePtr load_sentencepiece(const std::string& path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = processor->Load(path);
  if (!status.ok())
    throw Error("tokenizer: cannot load SentencePiece model '" + path + "': " + status.ToString());
  auto state = std::make_shared<Tokenizer::State>();
  const std::string marker = "\xE2\x96\x81";
  for (int id = 0; id < processor->GetPieceSize(); ++id) {
    std::string piece = processor->IdToPiece(id);
    state->vocab.add(piece, id);
    // Control and unknown pieces are what HF lists as special added tokens (<s>, </s>, <unk>).
    if (processor->IsControl(id) || processor->IsUnknown(id))
      state->added.push_back({piece, id, true, false, false, false});
  }
  auto optional_id = [](int id) { return id >= 0 ? std::optional<TokenId>(id) : std::nullopt; };
  state->bos = optional_id(processor->bos_id());
  state->eos = optional_id(processor->eos_id());
  state->pad = optional_id(processor->pad_id());
  if (state->bos) state->prefix = {*state->bos};  // LlamaTokenizer's add_bos_token default

  // Decoding: "▁" is a space, byte pieces are their byte, and the dummy prefix that encoding
  // adds (tell-tale: "a" encodes to "▁a") is dropped from the first token.
  std::vector<std::string> pieces;
  processor->Encode("a", &pieces);
  bool dummy_prefix = !pieces.empty() && pieces[0].rfind(marker, 0) == 0;
  std::vector<DecoderStep> decoder = {{DecoderStep::replace, marker, " ", 0, false},
                                      {DecoderStep::byte_fallback, "", "", 0, false},
                                      {DecoderStep::fuse, "", "", 0, false}};
  if (dummy_prefix) decoder.push_back({DecoderStep::strip, " ", "", 1, false});
  apply_decoder(decoder, *state);
  state->backend = std::make_unique<SentencePieceBackend>(std::move(processor));
  state->description = "sentencepiece";
  return state;
}

}  // namespace codealign::tokenizer
