#include "model/safetensors.h"

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model: cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  uint64_t header_size = 0;
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(&header_size), 8) || header_size > file_size - 8)
    throw Error("model: '" + path + "' is not a safetensors file (bad header length)");
  std::string header_text(header_size, '\0');
  in.read(header_text.data(), std::streamsize(header_size));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("model: '" + path + "' has a bad safetensors header: " + e.what());
  }
  uint64_t data_start = 8 + header_size, data_size = file_size - data_start;
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    auto fail = [&](const std::string& why) { return Error("model: '" + path + "' tensor '" + name + "': " + why); };
    std::string dtype = info.value("dtype", "");
    auto found = dtypes.find(dtype);
    if (found == dtypes.end()) throw fail("dtype '" + dtype + "' is not supported");
    std::vector<int64_t> shape = info.at("shape").get<std::vector<int64_t>>();
    auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
    // The size the header claims is checked against the file before anything is allocated.
    unsigned __int128 bytes = c10::elementSize(found->second);
    for (int64_t dim : shape) {
      if (dim < 0) throw fail("shape has a negative dimension");
      bytes = bytes * uint64_t(dim);
      if (bytes > data_size) break;  // already too large; also keeps the product from overflowing
    }
    if (offsets.size() != 2 || offsets[1] < offsets[0] || offsets[1] > data_size || offsets[1] - offsets[0] != bytes)
      throw fail("data_offsets do not match its shape and dtype, or run past the file");
    torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(found->second));
    in.seekg(std::streamoff(data_start + offsets[0]));
    if (!in.read(static_cast<char*>(tensor.data_ptr()), std::streamsize(uint64_t(bytes)))) throw fail("short read");
    tensors[name] = tensor;
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
