// SentencePiece tokenizer.model through libsentencepiece: its own normalizer and model run
// the text; only added-token matching and decoding tables are ours. libsentencepiece lives
// in a module loaded on first use (sentencepiece_module.h says why).
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "common/error.h"
#include "common/install_paths.h"
#include "tokenizer/loaders.h"
#include "tokenizer/sentencepiece_module.h"

namespace codealign::tokenizer {
namespace {

// The module's functions, resolved once.
struct Module {
  decltype(&codealign_spm_load) load;
  decltype(&codealign_spm_free) free;
  decltype(&codealign_spm_piece_size) piece_size;
  decltype(&codealign_spm_id_to_piece) id_to_piece;
  decltype(&codealign_spm_piece_to_id) piece_to_id;
  decltype(&codealign_spm_kind) kind;
  decltype(&codealign_spm_special_id) special_id;
  decltype(&codealign_spm_encode) encode;
};

const Module& module() {
  static Module m;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("CODEALIGN_SENTENCEPIECE_MODULE");
    std::string path = env ? env
                           : installed_or_build_path(CODEALIGN_INSTALLED_SENTENCEPIECE_MODULE,
                                                     CODEALIGN_SENTENCEPIECE_MODULE);
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle)
      throw Error("tokenizer: cannot load the SentencePiece module '" + path + "': " + dlerror() +
                  " (hint: build the codealign_sentencepiece target, or reinstall, or set "
                  "CODEALIGN_SENTENCEPIECE_MODULE)");
    auto symbol = [&](const char* name) {
      void* address = dlsym(handle, name);
      if (!address) throw Error("tokenizer: SentencePiece module '" + path + "' lacks " + name);
      return address;
    };
    m.load = reinterpret_cast<decltype(m.load)>(symbol("codealign_spm_load"));
    m.free = reinterpret_cast<decltype(m.free)>(symbol("codealign_spm_free"));
    m.piece_size = reinterpret_cast<decltype(m.piece_size)>(symbol("codealign_spm_piece_size"));
    m.id_to_piece = reinterpret_cast<decltype(m.id_to_piece)>(symbol("codealign_spm_id_to_piece"));
    m.piece_to_id = reinterpret_cast<decltype(m.piece_to_id)>(symbol("codealign_spm_piece_to_id"));
    m.kind = reinterpret_cast<decltype(m.kind)>(symbol("codealign_spm_kind"));
    m.special_id = reinterpret_cast<decltype(m.special_id)>(symbol("codealign_spm_special_id"));
    m.encode = reinterpret_cast<decltype(m.encode)>(symbol("codealign_spm_encode"));
  });
  return m;
}

// A continuation must not get SentencePiece's dummy prefix, which the library adds to every
// text. So a continuation is encoded after a sentinel character that is not in the
// vocabulary: it becomes byte or unknown pieces, which merge with nothing, and its ids (with
// the dummy prefix) are dropped again.
class SentencePieceBackend : public Backend {
 public:
  explicit SentencePieceBackend(void* processor) : processor_(processor) {
    const Module& m = module();
    if (m.piece_to_id(processor_, sentinel, 3) != m.special_id(processor_, 3))
      throw Error("tokenizer: SentencePiece model has the piece U+E000, which codealign needs "
                  "as a sentinel for continuations");
    encode_raw(sentinel, sentinel_ids_);
  }
  ~SentencePieceBackend() override { module().free(processor_); }
  SentencePieceBackend(const SentencePieceBackend&) = delete;
  SentencePieceBackend& operator=(const SentencePieceBackend&) = delete;

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
    // A piece covers at least one byte, plus the dummy prefix: this many ids always fit.
    std::vector<int> ids(text.size() + 2);
    char error[256] = "";
    long count = module().encode(processor_, text.data(), text.size(), ids.data(), ids.size(), error, sizeof error);
    if (count < 0) throw Error(std::string("tokenizer: sentencepiece failed: ") + error);
    if (size_t(count) > ids.size()) throw Error("tokenizer: sentencepiece gave more ids than bytes");
    out.insert(out.end(), ids.begin(), ids.begin() + count);
  }

  void* processor_;
  std::vector<TokenId> sentinel_ids_;
};

}  // namespace

StatePtr load_sentencepiece(const std::string& path) {
  const Module& m = module();
  char error[512] = "";
  void* processor = m.load(path.c_str(), error, sizeof error);
  if (!processor) throw Error("tokenizer: cannot load SentencePiece model '" + path + "': " + error);
  auto backend = std::make_unique<SentencePieceBackend>(processor);
  auto state = std::make_shared<Tokenizer::State>();
  const std::string marker = "\xE2\x96\x81";
  for (int id = 0; id < m.piece_size(processor); ++id) {
    std::string piece(m.id_to_piece(processor, id, nullptr, 0), '\0');
    m.id_to_piece(processor, id, piece.data(), piece.size());
    state->vocab.add(piece, id);
    // Control and unknown pieces are what HF lists as special added tokens (<s>, </s>, <unk>).
    if (m.kind(processor, id) != 0) state->added.push_back({piece, id, true, false, false, false});
  }
  auto optional_id = [&](int which) {
    int id = m.special_id(processor, which);
    return id >= 0 ? std::optional<TokenId>(id) : std::nullopt;
  };
  state->bos = optional_id(0);
  state->eos = optional_id(1);
  state->pad = optional_id(2);
  if (state->bos) state->prefix = {*state->bos};  // LlamaTokenizer's add_bos_token default

  // Decoding: "▁" is a space, byte pieces are their byte, and the dummy prefix that encoding
  // adds (tell-tale: "a" encodes to "▁a") is dropped from the first token.
  std::vector<TokenId> a;
  backend->encode("a", Position{}, a);
  bool dummy_prefix = !a.empty() && state->vocab.tokens[size_t(a[0])].rfind(marker, 0) == 0;
  std::vector<DecoderStep> decoder = {{DecoderStep::replace, marker, " ", 0, false},
                                      {DecoderStep::byte_fallback, "", "", 0, false},
                                      {DecoderStep::fuse, "", "", 0, false}};
  if (dummy_prefix) decoder.push_back({DecoderStep::strip, " ", "", 1, false});
  apply_decoder(decoder, *state);
  state->backend = std::move(backend);
  state->description = "sentencepiece";
  return state;
}

}  // namespace codealign::tokenizer
