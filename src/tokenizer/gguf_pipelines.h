// The HF pipeline behind each llama.cpp pre-tokenizer name (tokenizer.ggml.pre).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pipeline.h"

namespace codealign::tokenizer {

struct GgufPipeline {
  std::vector<std::unique_ptr<Normalizer>> normalizers;
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers;
  bool ignore_merges = false;
};

// Throws Error listing the supported names when `pre` is not one of them.
GgufPipeline gguf_pipeline(const std::string& pre, const std::string& path);

}  // namespace codealign::tokenizer
