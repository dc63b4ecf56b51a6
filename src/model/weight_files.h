// The headers of weight files, read without torch: what a file promises (tensor names, dtypes,
// shapes, byte ranges; a llama2.c model's architecture) is checked against the file's size
// before anything is allocated, so a hostile header cannot ask for terabytes or read past the
// end. Private to the model part; the fuzzers (tests/fuzz) call these directly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace codealign::model {

// One tensor of a safetensors file: `begin` and `end` are absolute file offsets.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // F32, BF16, F16, F64, I64, I32
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// The 8-byte little-endian header length, the JSON header, and every tensor's range checked
// against its shape, dtype and the file. Errors name the file and the tensor.
std::vector<SafetensorsEntry> read_safetensors_index(const std::string& path);
// Bytes per element of a supported safetensors dtype; 0 for any other name.
size_t safetensors_element_size(const std::string& dtype);

// A llama2.c ("version 0") checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared classifier), then
// float32 weights. The architecture as HF would convert it; the weights start at byte 28.
struct Llama2cHeader {
  ModelConfig config;
  bool shared_classifier = true;
};
Llama2cHeader read_llama2c_header(const std::string& path);

}  // namespace codealign::model
