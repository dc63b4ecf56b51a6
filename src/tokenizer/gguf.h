// Reads the key-value header of a GGUF file (llama.cpp's model format, v2 and v3); tensor
// data is never touched, so a multi-GB model file costs only its header.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace codealign::tokenizer {

struct GgufValue {
  enum class Kind { integer, floating, boolean, string, array } kind = Kind::integer;
  int64_t integer = 0;  // all integer types (uint64 values above INT64_MAX are refused)
  double floating = 0;
  bool boolean = false;
  std::string string;
  // Arrays: one of these is filled, by element kind.
  std::vector<int64_t> integers;
  std::vector<double> floats;
  std::vector<std::string> strings;
};

class GgufHeader {
 public:
  // Throws Error naming the file, the byte offset and the key being read.
  static GgufHeader read(const std::string& path);

  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // Typed getters throw when the key is missing or of another kind.
  const std::string& string(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  bool boolean(const std::string& key) const;
  const std::vector<std::string>& strings(const std::string& key) const;
  const std::vector<int64_t>& integers(const std::string& key) const;
  const std::vector<double>& floats(const std::string& key) const;
  std::optional<int64_t> optional_integer(const std::string& key) const;
  std::optional<bool> optional_boolean(const std::string& key) const;

  const std::string& path() const { return path_; }

 private:
  const GgufValue& get(const std::string& key, GgufValue::Kind kind, const char* kind_name) const;
  std::string path_;
  std::map<std::string, GgufValue> values_;
};

}  // namespace codealign::tokenizer
