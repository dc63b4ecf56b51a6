// GGUF vocabularies: llama.cpp's vector files through the shared ggml-vocab-*.gguf files, the
// same ids as the other formats of one vocabulary, and a clear refusal of a file damaged by a
// text-mode transfer (every byte sequence that was not UTF-8 replaced by U+FFFD).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "common/files.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using tokenizer::Tokenizer;

std::string gguf(const std::string& name) { return vectors_dir() + "/ggml-vocab-" + name + ".gguf"; }

// What a text-mode transfer does to a binary file: each byte that does not start a valid
// UTF-8 sequence becomes U+FFFD (EF BF BD).
std::string decoded_as_text(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    auto byte = [&](size_t k) { return k < bytes.size() ? static_cast<unsigned char>(bytes[k]) : 0u; };
    unsigned lead = byte(i);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 0;
    bool valid = length > 0 && i + length <= bytes.size();
    for (size_t k = 1; valid && k < length; ++k) valid = (byte(i + k) >> 6) == 2;
    if (valid) {
      out.append(bytes, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

TEST(GgufVectors, gpt2) { expect_vectors(Tokenizer::load(gguf("gpt-2")), "gpt-2"); }
TEST(GgufVectors, deepseek_coder) {
  expect_vectors(Tokenizer::load(gguf("deepseek-coder")), "deepseek-coder");
}
TEST(GgufVectors, deepseek_llm) { expect_vectors(Tokenizer::load(gguf("deepseek-llm")), "deepseek-llm"); }
TEST(GgufVectors, starcoder) { expect_vectors(Tokenizer::load(gguf("starcoder")), "starcoder"); }
TEST(GgufVectors, llama_spm) { expect_vectors(Tokenizer::load(gguf("llama-spm")), "llama-spm"); }

TEST(Gguf, same_ids_as_the_other_formats_of_the_same_vocabulary) {
  Tokenizer gguf_gpt2 = Tokenizer::load(gguf("gpt-2"));
  Tokenizer files_gpt2 = Tokenizer::load(data_dir() + "/tokenizers/gpt2/encoder.json");
  Tokenizer gguf_llama = Tokenizer::load(gguf("llama-spm"));
  Tokenizer sp_llama = Tokenizer::load(data_dir() + "/tokenizers/llama2/tokenizer.model");
  for (const char* text : {"def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n",
                           "  \t\r\n x=1;;  # ünïcödé \xF0\x9F\xA6\x99\n", "<s> [INST] hi [/INST]"}) {
    auto plain = plain_text();
    EXPECT_EQ(gguf_gpt2.encode(text, plain), files_gpt2.encode(text, plain)) << text;
    EXPECT_EQ(gguf_llama.encode(text, plain), sp_llama.encode(text, plain)) << text;
    EXPECT_EQ(gguf_llama.decode(gguf_llama.encode(text, plain)), text);
    plain.continuation = true;  // no prefix space: the Prepend normalizer vs SentencePiece's sentinel
    EXPECT_EQ(gguf_llama.encode(text, plain), sp_llama.encode(text, plain)) << text;
    EXPECT_EQ(gguf_llama.decode(gguf_llama.encode(text, plain), {false, true}), text);
  }
  EXPECT_EQ(gguf_llama.encode("Hello", {true, true, {}}), (std::vector<tokenizer::TokenId>{1, 15043}));
}

TEST(Gguf, damaged_files_are_refused_with_the_reason) {
  TempDir dir;
  std::string damaged = dir.path + "/ggml-vocab-starcoder.gguf";
  write_text(damaged, decoded_as_text(read_file(gguf("starcoder"))));
  ASSERT_NE(std::filesystem::file_size(damaged), std::filesystem::file_size(gguf("starcoder")));
  try {
    Tokenizer::load(damaged);
    FAIL() << "a damaged GGUF loaded";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("ggml-vocab-starcoder.gguf' at byte "), std::string::npos) << message;
    EXPECT_NE(message.find("decoded as text in transit; fetch it again in binary mode"), std::string::npos)
        << message;
  }
}

// A minimal GGUF v3 with string keys and one string array (tokenizer.ggml.tokens).
std::string small_gguf(const std::vector<std::pair<std::string, std::string>>& strings) {
  std::string out = "GGUF";
  auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); };
  auto str = [&](const std::string& s) { u64(s.size()); out += s; };
  u32(3);
  u64(0);
  u64(strings.size() + 1);
  for (const auto& [key, value] : strings) {
    str(key);
    u32(8);
    str(value);
  }
  str("tokenizer.ggml.tokens");
  u32(9);
  u32(8);
  u64(2);
  str("a");
  str("b");
  return out;
}

std::string load_error(const std::string& path) {
  try {
    Tokenizer::load(path);
    return "no error";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(Gguf, unsupported_pre_tokenizers_and_models_are_named) {
  TempDir dir;
  write_text(dir.path + "/tekken.gguf", small_gguf({{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "tekken"}}));
  EXPECT_TRUE(load_error(dir.path + "/tekken.gguf")
                  .starts_with("tokenizer: GGUF '" + dir.path +
                               "/tekken.gguf': pre-tokenizer 'tekken' is not supported (supported: gpt-2, mpt"))
      << load_error(dir.path + "/tekken.gguf");
  write_text(dir.path + "/bert.gguf", small_gguf({{"tokenizer.ggml.model", "bert"}}));
  EXPECT_EQ(load_error(dir.path + "/bert.gguf"),
            "tokenizer: GGUF '" + dir.path + "/bert.gguf': tokenizer model 'bert' is not supported (supported: gpt2, llama)");
  write_text(dir.path + "/nomerges.gguf", small_gguf({{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "gpt-2"}}));
  EXPECT_EQ(load_error(dir.path + "/nomerges.gguf"),
            "tokenizer: GGUF '" + dir.path + "/nomerges.gguf' has no key 'tokenizer.ggml.merges'");
  write_text(dir.path + "/x.gguf", "GGML not a gguf");
  EXPECT_EQ(load_error(dir.path + "/x.gguf"),
            "tokenizer: bad GGUF '" + dir.path + "/x.gguf' at byte 4: not a GGUF file (no 'GGUF' magic)");
  std::string truncated = small_gguf({{"tokenizer.ggml.model", "gpt2"}});
  write_text(dir.path + "/cut.gguf", truncated.substr(0, truncated.size() - 3));
  EXPECT_NE(load_error(dir.path + "/cut.gguf").find("(key 'tokenizer.ggml.tokens'): needs 8 bytes, the file ends first"),
            std::string::npos)
      << load_error(dir.path + "/cut.gguf");
}

}  // namespace
}  // namespace codealign::testing
