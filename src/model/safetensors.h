// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw data. Private to the model part.
#pragma once
#include <map>
#include <string>

#include <torch/torch.h>

namespace codealign::model {

// Reads every tensor of a file (F32, BF16, F16, F64, I64, I32); errors name the file and tensor.
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path);
// Writes tensors in the given dtype through a temporary file and a rename.
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       torch::Dtype dtype);

}  // namespace codealign::model
