// A tiny random model with the GPT-2 tokenizer, and synthetic data, for training tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace codealign::testing {

// Writes a random 2-layer qwen2 model (vocab 50257, hidden 32) with GPT-2's tokenizer files.
void write_tiny_model(const std::string& directory, uint64_t seed = 1);
// A qwen2 model (hidden 32, vocab `vocab_size`, no tokenizer files) that writes `chain` over
// and over under greedy decoding, whatever the prompt: its layers are zero, so the residual
// stream is the current token's embedding; chain[i] embeds as unit vector i, the LM head maps
// vector i to chain[i + 1], and every other token embeds as the last one's vector, so the
// reply starts at chain[0]. A token in `chain` right after the prompt starts it there instead.
// `lure`, when given, is a token that would follow chain[0] if it could be sampled (a padding
// row beyond the tokenizer's vocabulary, say).
void write_chain_model(const std::string& directory, int64_t vocab_size, const std::vector<int64_t>& chain,
                       int64_t lure = -1);
// Preference pairs that prefer "a + b" to "a - b" after different prompts (TRL format).
void write_pairs(const std::string& path, int count);
// SFT examples: prompts and their completions.
void write_sft(const std::string& path, int count);

}  // namespace codealign::testing
