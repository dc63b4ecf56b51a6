// GGUF vocabularies. The GGUFs in the shared data were damaged in transit (every byte
// sequence that was not UTF-8 became U+FFFD), so codealign must refuse them with a clear
// message; tools/repair_gguf.py rebuilds their tokenizer keys (the ctest fixture
// repair_gguf_vocabularies runs it) and the vectors are checked through those files.
#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using tokenizer::Tokenizer;

std::string repaired(const std::string& name) {
  return std::string(CODEALIGN_REPAIRED_GGUF_DIR) + "/" + name + ".gguf";
}

TEST(GgufVectors, gpt2) { expect_vectors(Tokenizer::load(repaired("gpt-2")), "gpt-2"); }
TEST(GgufVectors, deepseek_coder) {
  expect_vectors(Tokenizer::load(repaired("deepseek-coder")), "deepseek-coder");
}
TEST(GgufVectors, deepseek_llm) { expect_vectors(Tokenizer::load(repaired("deepseek-llm")), "deepseek-llm"); }
TEST(GgufVectors, starcoder) { expect_vectors(Tokenizer::load(repaired("starcoder")), "starcoder"); }
TEST(GgufVectors, llama_spm) { expect_vectors(Tokenizer::load(repaired("llama-spm")), "llama-spm"); }

TEST(Gguf, same_ids_as_the_other_formats_of_the_same_vocabulary) {
  Tokenizer gguf_gpt2 = Tokenizer::load(repaired("gpt-2"));
  Tokenizer files_gpt2 = Tokenizer::load(data_dir() + "/tokenizers/gpt2/encoder.json");
  Tokenizer gguf_llama = Tokenizer::load(repaired("llama-spm"));
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
  try {
    Tokenizer::load(vectors_dir() + "/ggml-vocab-starcoder.gguf");
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
