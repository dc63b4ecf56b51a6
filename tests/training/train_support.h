// A tiny random model with the GPT-2 tokenizer, and synthetic data, for training tests.
#pragma once
#include <string>

namespace codealign::testing {

// Writes a random 2-layer qwen2 model (vocab 50257, hidden 32) with GPT-2's tokenizer files.
void write_tiny_model(const std::string& directory, uint64_t seed = 1);
// Preference pairs that prefer "a + b" to "a - b" after different prompts (TRL format).
void write_pairs(const std::string& path, int count);
// SFT examples: prompts and their completions.
void write_sft(const std::string& path, int count);

}  // namespace codealign::testing
