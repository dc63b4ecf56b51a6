#include "tokenizer/gguf.h"

#include <cstring>
#include <fstream>

#include "common/error.h"

namespace codealign::tokenizer {
namespace {

enum GgufType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean_type = 7,
  string_type = 8, array_type = 9, u64 = 10, i64 = 11, f64 = 12,
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw Error("tokenizer: cannot open GGUF '" + path + "': " + std::strerror(errno));
    in_.seekg(0, std::ios::end);
    size_ = uint64_t(in_.tellg());
    in_.seekg(0);
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw Error("tokenizer: bad GGUF '" + path_ + "' at byte " + std::to_string(offset_) +
                (context_.empty() ? "" : " (key '" + context_ + "')") + ": " + why + damage_hint());
  }

  void bytes(void* out, uint64_t n) {
    if (n > size_ - offset_) fail("needs " + std::to_string(n) + " bytes, the file ends first");
    in_.read(static_cast<char*>(out), std::streamsize(n));
    offset_ += n;
  }
  template <class T>
  T scalar() {
    T value;
    bytes(&value, sizeof value);
    return value;
  }
  std::string string() {
    uint64_t length = scalar<uint64_t>();
    if (length > size_ - offset_)
      fail("string length " + std::to_string(length) + " runs past the end of the file");
    std::string text(length, '\0');
    bytes(text.data(), length);
    return text;
  }
  void set_context(std::string key) { context_ = std::move(key); }

 private:
  // Files that went through a text-mode transfer have each non-UTF-8 byte replaced by
  // U+FFFD (EF BF BD); such a file can no longer be parsed, so say so.
  std::string damage_hint() const {
    std::ifstream in(path_, std::ios::binary);
    std::string head(size_t(std::min<uint64_t>(size_, 1 << 20)), '\0');
    in.read(head.data(), std::streamsize(head.size()));
    if (head.find("\xEF\xBF\xBD") == std::string::npos) return "";
    return " (hint: the file contains U+FFFD replacement bytes (EF BF BD), so it was probably "
           "decoded as text in transit; fetch it again in binary mode)";
  }

  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0, offset_ = 0;
  std::string context_;
};

int64_t read_integer(Reader& r, uint32_t type) {
  switch (type) {
    case u8: return r.scalar<uint8_t>();
    case i8: return r.scalar<int8_t>();
    case u16: return r.scalar<uint16_t>();
    case i16: return r.scalar<int16_t>();
    case u32: return r.scalar<uint32_t>();
    case i32: return r.scalar<int32_t>();
    case i64: return r.scalar<int64_t>();
    case u64: {
      uint64_t value = r.scalar<uint64_t>();
      if (value > uint64_t(INT64_MAX)) r.fail("integer " + std::to_string(value) + " is too large");
      return int64_t(value);
    }
  }
  r.fail("unknown value type " + std::to_string(type));
}

bool is_integer(uint32_t type) { return type <= i32 || type == u64 || type == i64; }

GgufValue read_value(Reader& r, uint32_t type) {
  GgufValue value;
  if (is_integer(type)) {
    value.kind = GgufValue::Kind::integer;
    value.integer = read_integer(r, type);
  } else if (type == f32 || type == f64) {
    value.kind = GgufValue::Kind::floating;
    value.floating = type == f32 ? double(r.scalar<float>()) : r.scalar<double>();
  } else if (type == boolean_type) {
    value.kind = GgufValue::Kind::boolean;
    value.boolean = r.scalar<uint8_t>() != 0;
  } else if (type == string_type) {
    value.kind = GgufValue::Kind::string;
    value.string = r.string();
  } else if (type == array_type) {
    value.kind = GgufValue::Kind::array;
    uint32_t element = r.scalar<uint32_t>();
    uint64_t count = r.scalar<uint64_t>();
    if (element == array_type) r.fail("nested arrays are not supported");
    if (count > (uint64_t(1) << 32)) r.fail("array of " + std::to_string(count) + " elements");
    for (uint64_t i = 0; i < count; ++i) {
      GgufValue item = read_value(r, element);
      switch (item.kind) {
        case GgufValue::Kind::integer: value.integers.push_back(item.integer); break;
        case GgufValue::Kind::boolean: value.integers.push_back(item.boolean); break;
        case GgufValue::Kind::floating: value.floats.push_back(item.floating); break;
        case GgufValue::Kind::string: value.strings.push_back(std::move(item.string)); break;
        case GgufValue::Kind::array: break;
      }
    }
  } else {
    r.fail("unknown value type " + std::to_string(type));
  }
  return value;
}

}  // namespace

GgufHeader GgufHeader::read(const std::string& path) {
  Reader r(path);
  char magic[4];
  r.bytes(magic, 4);
  if (std::memcmp(magic, "GGUF", 4) != 0) r.fail("not a GGUF file (no 'GGUF' magic)");
  uint32_t version = r.scalar<uint32_t>();
  if (version != 2 && version != 3)
    r.fail("version " + std::to_string(version) + " is not supported (only 2 and 3)");
  r.scalar<uint64_t>();  // tensor count: tensors are not read
  uint64_t kv_count = r.scalar<uint64_t>();
  GgufHeader header;
  header.path_ = path;
  for (uint64_t i = 0; i < kv_count; ++i) {
    r.set_context("");
    std::string key = r.string();
    r.set_context(key);
    uint32_t type = r.scalar<uint32_t>();
    header.values_[key] = read_value(r, type);
  }
  return header;
}

const GgufValue& GgufHeader::get(const std::string& key, GgufValue::Kind kind,
                                 const char* kind_name) const {
  auto found = values_.find(key);
  if (found == values_.end()) throw Error("tokenizer: GGUF '" + path_ + "' has no key '" + key + "'");
  if (found->second.kind != kind)
    throw Error("tokenizer: GGUF '" + path_ + "' key '" + key + "' is not " + kind_name);
  return found->second;
}

const std::string& GgufHeader::string(const std::string& key) const {
  return get(key, GgufValue::Kind::string, "a string").string;
}
int64_t GgufHeader::integer(const std::string& key) const {
  return get(key, GgufValue::Kind::integer, "an integer").integer;
}
bool GgufHeader::boolean(const std::string& key) const {
  return get(key, GgufValue::Kind::boolean, "a boolean").boolean;
}
const std::vector<std::string>& GgufHeader::strings(const std::string& key) const {
  return get(key, GgufValue::Kind::array, "an array").strings;
}
const std::vector<int64_t>& GgufHeader::integers(const std::string& key) const {
  return get(key, GgufValue::Kind::array, "an array").integers;
}
const std::vector<double>& GgufHeader::floats(const std::string& key) const {
  return get(key, GgufValue::Kind::array, "an array").floats;
}
std::optional<int64_t> GgufHeader::optional_integer(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return integer(key);
}
std::optional<bool> GgufHeader::optional_boolean(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return boolean(key);
}

}  // namespace codealign::tokenizer
