// llama2.c's tokenizer file (tok*.bin, tokenizer.bin): int32 max_token_length, then per
// token a float32 score, an int32 length and the bytes, up to the end of the file. Pieces
// hold spaces where SentencePiece has "▁", and BOS/EOS are written "\n<s>\n", "\n</s>\n".
// It is SentencePiece BPE by scores with byte fallback, like a GGUF "llama" vocabulary.
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {

StatePtr load_llama2c(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("tokenizer: cannot open '" + path + "': " + std::strerror(errno));
  int32_t max_length = 0;
  if (!in.read(reinterpret_cast<char*>(&max_length), 4) || max_length <= 0 || max_length > 1024)
    throw Error("tokenizer: '" + path + "' is not a llama2.c tokenizer (bad max_token_length)");
  auto state = std::make_shared<Tokenizer::State>();
  std::vector<double> scores;
  std::vector<int64_t> types;
  const std::string marker = "\xE2\x96\x81";
  for (TokenId id = 0;; ++id) {
    float score;
    int32_t length;
    if (!in.read(reinterpret_cast<char*>(&score), 4)) break;
    if (!in.read(reinterpret_cast<char*>(&length), 4) || length < 0 || length > max_length)
      throw Error("tokenizer: '" + path + "' token " + std::to_string(id) + ": bad length");
    std::string piece(size_t(length), '\0');
    if (!in.read(piece.data(), length)) throw Error("tokenizer: '" + path + "' ends inside token " + std::to_string(id));
    int64_t type = 1;  // normal
    if (id == 0) type = 2, piece = "<unk>";
    else if (id == 1) type = 3, piece = "<s>";
    else if (id == 2) type = 3, piece = "</s>";
    else if (piece.size() == 6 && piece.rfind("<0x", 0) == 0 && piece[5] == '>') type = 6;  // byte
    else {
      std::string spm;
      for (char c : piece) c == ' ' ? spm += marker : spm += c;
      piece = spm;
    }
    if (type != 1 && type != 6) state->added.push_back({piece, id, true, false, false, false});
    state->vocab.add(piece, id);
    scores.push_back(score);
    types.push_back(type);
  }
  if (state->vocab.tokens.size() < 259) throw Error("tokenizer: '" + path + "' has too few tokens for llama2.c");
  state->bos = 1;
  state->eos = 2;
  state->prefix = {1};
  build_spm_from_scores(*state, scores, types, true, TokenId(0));
  state->description = "llama2.c spm";
  return state;
}

}  // namespace codealign::tokenizer
