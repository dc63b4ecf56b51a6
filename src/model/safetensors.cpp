#include "model/safetensors.h"

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "model/weight_files.h"

namespace codealign::model {
namespace {

const std::map<std::string, torch::Dtype> dtypes = {
    {"F32", torch::kFloat32}, {"BF16", torch::kBFloat16}, {"F16", torch::kFloat16},
    {"F64", torch::kFloat64}, {"I64", torch::kInt64},     {"I32", torch::kInt32},
};

std::string dtype_name(torch::Dtype dtype) {
  for (const auto& [name, value] : dtypes)
    if (value == dtype) return name;
  throw Error("model: dtype " + std::string(c10::toString(dtype)) + " cannot be written to safetensors");
}

}  // namespace

std::map<std::string, torch::Tensor> read_safetensors(const std::string& path) {
  std::vector<SafetensorsEntry> index = read_safetensors_index(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model: cannot open '" + path + "': " + std::strerror(errno));
  std::map<std::string, torch::Tensor> tensors;
  for (const SafetensorsEntry& entry : index) {
    torch::Tensor tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(dtypes.at(entry.dtype)));
    in.seekg(std::streamoff(entry.begin));
    if (!in.read(static_cast<char*>(tensor.data_ptr()), std::streamsize(entry.end - entry.begin)))
      throw Error("model: '" + path + "' tensor '" + entry.name + "': short read");
    tensors[entry.name] = tensor;
  }
  return tensors;
}

void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                       torch::Dtype dtype) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    torch::Tensor out = tensor.detach().to(torch::kCPU).to(dtype).contiguous();
    uint64_t bytes = uint64_t(out.numel()) * out.element_size();
    header[name] = {{"dtype", dtype_name(dtype)}, {"shape", out.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(out);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  uint64_t header_size = header_text.size();
  AtomicFile file(path);
  file.write(std::string_view(reinterpret_cast<const char*>(&header_size), 8));
  file.write(header_text);
  for (const torch::Tensor& t : data)
    file.write(std::string_view(static_cast<const char*>(t.data_ptr()), size_t(t.numel()) * t.element_size()));
  file.commit();
}

}  // namespace codealign::model
