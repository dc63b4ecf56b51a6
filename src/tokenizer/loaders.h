// One loader per file format (private to the tokenizer part). Each returns a State with
// vocabulary, backend, decoder and post-processor filled; Tokenizer::load finishes it.
#pragma once
#include <memory>
#include <string>
#include <vector>

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
// Splits a merges line "left right" (the GPT-2 and GGUF form).
std::pair<std::string, std::string> split_merge_line(const std::string& line,
                                                     const std::string& where);

}  // namespace codealign::tokenizer
