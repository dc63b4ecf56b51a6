// Training data: TRL's preference pairs ({"prompt", "chosen", "rejected"}, other fields kept
// as metadata) and SFT examples ({"prompt", "completion"}), tokenized by the tokenizer's
// prompt rule, and batches of similar length. Torch-free.
//
// Truncation rule: a sequence is prompt ids (BOS once) + completion ids (+ EOS). When it is
// longer than max_length the completion is cut from the right (the EOS goes first); an
// example whose prompt alone leaves no room for a completion token is skipped and counted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace codealign::training {

struct PairExample {
  int line = 0;
  std::string prompt, chosen, rejected;
  nlohmann::json metadata;  // every other field of the line
};
struct SftExample {
  int line = 0;
  std::string prompt, completion;
};

// Throw Error "<path>:<line>: ..." for bad JSON, missing or non-string fields and empty
// completions (an empty chosen/rejected/completion teaches nothing and hides data bugs).
std::vector<PairExample> read_pairs(const std::string& path);
std::vector<SftExample> read_sft(const std::string& path);

// Token ids with the loss on ids[prompt_length:].
struct Sequence {
  std::vector<tokenizer::TokenId> ids;
  size_t prompt_length = 0;
  size_t completion_tokens() const { return ids.size() - prompt_length; }
};

// Prompt (whole text untrusted: no special tokens parsed) + completion with EOS; nullopt when
// the prompt leaves no room under max_length.
std::optional<Sequence> make_sequence(const tokenizer::Tokenizer& tokenizer, const std::string& prompt,
                                      const std::string& completion, size_t max_length);

// Indices grouped into batches of `batch_size` similar lengths (sorted, cut, then the batches
// shuffled with `seed`), so that little compute goes to padding.
std::vector<std::vector<size_t>> length_batches(const std::vector<size_t>& lengths, size_t batch_size, uint64_t seed);

}  // namespace codealign::training
