#include "model/weight_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace codealign::model {
namespace {

using Json = nlohmann::json;
using Wide = unsigned __int128;

const std::map<std::string, size_t> element_sizes = {{"F32", 4}, {"BF16", 2}, {"F16", 2},
                                                     {"F64", 8}, {"I64", 8},  {"I32", 4}};

std::ifstream open_binary(const std::string& path, uint64_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model: cannot open '" + path + "': " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  size = uint64_t(in.tellg());
  in.seekg(0);
  return in;
}

// A list of non-negative integers, or an error naming `what`.
std::vector<uint64_t> unsigned_list(const Json& value, const std::function<Error(const std::string&)>& fail,
                                    const std::string& what) {
  if (!value.is_array()) throw fail(what + " must be a list of non-negative integers");
  std::vector<uint64_t> items;
  for (const Json& item : value) {
    if (!item.is_number_unsigned() && !(item.is_number_integer() && item.get<int64_t>() >= 0))
      throw fail(what + " must be a list of non-negative integers");
    items.push_back(item.get<uint64_t>());
  }
  return items;
}

SafetensorsEntry index_entry(const std::string& name, const Json& info, uint64_t data_start, uint64_t data_size,
                             const std::string& path) {
  auto fail = [&](const std::string& why) { return Error("model: '" + path + "' tensor '" + name + "': " + why); };
  if (!info.is_object()) throw fail("its entry must be an object with dtype, shape and data_offsets");
  SafetensorsEntry entry{name, "", {}, 0, 0};
  auto dtype = info.find("dtype");
  if (dtype == info.end() || !dtype->is_string()) throw fail("dtype must be a string");
  entry.dtype = dtype->get<std::string>();
  size_t element_size = safetensors_element_size(entry.dtype);
  if (element_size == 0) throw fail("dtype '" + entry.dtype + "' is not supported");
  auto shape = info.find("shape"), offsets_field = info.find("data_offsets");
  if (shape == info.end() || offsets_field == info.end()) throw fail("shape and data_offsets are required");
  // Each dimension is checked against the data size first, so the product cannot overflow.
  Wide bytes = element_size;
  for (uint64_t dim : unsigned_list(*shape, fail, "shape")) {
    if (dim > data_size) throw fail("shape runs past the file");
    bytes *= dim;
    if (bytes > data_size) throw fail("shape runs past the file");
    entry.shape.push_back(int64_t(dim));
  }
  std::vector<uint64_t> offsets = unsigned_list(*offsets_field, fail, "data_offsets");
  if (offsets.size() != 2 || offsets[1] < offsets[0] || offsets[1] > data_size || offsets[1] - offsets[0] != bytes)
    throw fail("data_offsets do not match its shape and dtype, or run past the file");
  entry.begin = data_start + offsets[0];
  entry.end = data_start + offsets[1];
  return entry;
}

}  // namespace

size_t safetensors_element_size(const std::string& dtype) {
  auto found = element_sizes.find(dtype);
  return found == element_sizes.end() ? 0 : found->second;
}

std::vector<SafetensorsEntry> read_safetensors_index(const std::string& path) {
  uint64_t file_size = 0, header_size = 0;
  std::ifstream in = open_binary(path, file_size);
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(&header_size), 8) || header_size > file_size - 8)
    throw Error("model: '" + path + "' is not a safetensors file (bad header length)");
  std::string header_text(header_size, '\0');
  if (!in.read(header_text.data(), std::streamsize(header_size)))
    throw Error("model: '" + path + "': short read of the safetensors header");
  Json header = Json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    throw Error("model: '" + path + "' has a bad safetensors header: not a JSON object");
  uint64_t data_start = 8 + header_size, data_size = file_size - data_start;
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, info] : header.items())
    if (name != "__metadata__") entries.push_back(index_entry(name, info, data_start, data_size, path));
  return entries;
}

Llama2cHeader read_llama2c_header(const std::string& path) {
  uint64_t file_size = 0;
  std::ifstream in = open_binary(path, file_size);
  int32_t header[7];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header))
    throw Error("model: '" + path + "' is too short for a llama2.c header");
  int64_t dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kv_heads = header[4],
          vocab = header[5] < 0 ? -int64_t(header[5]) : header[5], seq_len = header[6];
  auto fail = [&](const std::string& why) { return Error("model: '" + path + "' llama2.c header: " + why); };
  if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kv_heads <= 0 || vocab == 0 || seq_len <= 0)
    throw fail("every size must be positive");
  if (dim % heads != 0 || (dim / heads) % 2 != 0) throw fail("dim must be n_heads times an even head size");
  if (heads % kv_heads != 0) throw fail("n_kv_heads must divide n_heads");
  Llama2cHeader result;
  result.shared_classifier = header[5] > 0;
  ModelConfig& c = result.config;
  c.model_type = "llama";
  c.vocab_size = vocab;
  c.hidden_size = dim;
  c.intermediate_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.head_dim = dim / heads;
  c.max_position_embeddings = seq_len;
  c.rms_norm_eps = 1e-5;  // llama2.c's constant
  c.tie_word_embeddings = result.shared_classifier;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  // Each term is below 2^93: no overflow in 128 bits.
  int64_t kv_dim = kv_heads * c.head_dim;
  Wide per_layer_floats = Wide(2 * dim) + Wide(2 * dim) * dim + Wide(2 * kv_dim) * dim + Wide(3 * hidden) * dim;
  Wide floats = Wide(vocab) * dim * (result.shared_classifier ? 1 : 2) + Wide(layers) * per_layer_floats + dim +
                Wide(seq_len) * c.head_dim;
  if (Wide(file_size) < sizeof header + floats * 4)
    throw fail("the file is shorter than the header promises (" + std::to_string(file_size) + " bytes)");
  return result;
}

}  // namespace codealign::model
