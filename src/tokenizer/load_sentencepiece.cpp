// SentencePiece tokenizer.model through libsentencepiece: its own normalizer and model run
// the text; only added-token matching and decoding tables are ours.
#include <sentencepiece_processor.h>

#include "common/error.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {
namespace {

class SentencePieceBackend : public Backend {
 public:
  explicit SentencePieceBackend(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
      : processor_(std::move(processor)) {}
  void encode(std::string_view text, bool, std::vector<TokenId>& out) const override {
    std::vector<int> ids;
    auto status = processor_->Encode(text, &ids);
    if (!status.ok()) throw Error("tokenizer: sentencepiece failed: " + status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
  }
  const sentencepiece::SentencePieceProcessor& processor() const { return *processor_; }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
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
