// One loader per file format (private to the tokenizer part). Each returns a State with
// vocabulary, backend, decoder and post-processor filled; Tokenizer::load finishes it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tokenizer/pipeline.h"
#include "tokenizer/state.h"

namespace codealign::tokenizer {

using StatePtr = std::shared_ptr<Tokenizer::State>;

StatePtr load_hf_json(const std::string& path);
StatePtr load_gpt2_files(const std::string& vocab_path, const std::string& merges_path);
StatePtr load_gguf(const std::string& path);
StatePtr load_sentencepiece(const std::string& path);
StatePtr load_llama2c(const std::string& path);

// SentencePiece BPE from pieces and their scores (GGUF "llama", llama2.c): merges ranked by
// the merged piece's score. Fills the backend and the decoder; state.vocab must be complete.
void build_spm_from_scores(Tokenizer::State& state, const std::vector<double>& scores,
                           const std::vector<int64_t>& types, bool space_prefix,
                           std::optional<TokenId> unk);

// Merges as text pairs ("Ġ t") to ranked id pairs, in order; `source` names the file in errors.
std::vector<Bpe::Merge> rank_merges(const Vocab& vocab,
                                    const std::vector<std::pair<std::string, std::string>>& pairs,
                                    const std::string& source);
// A token id read from JSON: an integer in [0, 2^31), else Error naming `where` (a float or a
// huge number would otherwise be converted with undefined behaviour).
inline TokenId json_token_id(const nlohmann::json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX)
    throw Error("tokenizer: " + where + ": " + value.dump() + " is not a token id");
  return TokenId(value.get<int64_t>());
}

// Splits a merges line "left right" (the GPT-2 and GGUF form).
std::pair<std::string, std::string> split_merge_line(const std::string& line,
                                                     const std::string& where);

}  // namespace codealign::tokenizer
