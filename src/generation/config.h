// How to sample: the settings of generation::generate, torch-free, so that the parts and
// commands that only carry them (options, the pipeline's configuration) need no torch header.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace codealign::generation {

// How decode steps run.
enum class DecodeMode {
  automatic,     // on a GPU, CUDA graphs over a static KV cache; elsewhere eager over a growing cache
  eager,         // eager steps over a growing cache everywhere (sample --no-cuda-graphs)
  static_cache,  // eager steps over the static cache: the graphs' arithmetic, testable on a CPU
};

struct SamplingConfig {
  int64_t max_new_tokens = 256;
  double temperature = 1.0;  // 0: greedy
  int64_t top_k = 0;         // 0: off
  double top_p = 1.0;        // 1: off
  uint64_t seed = 0;
  int64_t samples_per_prompt = 1;
  std::vector<std::string> stop_strings;        // e.g. "\ndef " for completion-style code
  std::vector<tokenizer::TokenId> stop_ids;     // e.g. the tokenizer's stop_ids()
  DecodeMode decode = DecodeMode::automatic;
};

}  // namespace codealign::generation
