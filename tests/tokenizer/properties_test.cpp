// Properties over random and awkward text: lossless round trips, streaming decode, and
// invalid UTF-8 refused with the offending byte named.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "common/error.h"
#include "common/jsonl.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using namespace codealign::tokenizer;

struct Named {
  const char* name;
  const char* path;  // under tokenizers/
  bool normalizes;   // NFC: only text already in NFC comes back unchanged
};
const Named lossless[] = {
    {"gpt2", "gpt2/encoder.json", false},
    {"qwen", "qwen/tokenizer.json", true},
    {"llama-spm", "llama2/tokenizer.model", false},
};

const Tokenizer& load(const Named& named) {
  static std::map<std::string, Tokenizer> cache;
  auto found = cache.find(named.name);
  if (found == cache.end())
    found = cache.emplace(named.name, Tokenizer::load(data_dir() + "/tokenizers/" + named.path)).first;
  return found->second;
}

std::string utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
  return out;
}

// Text mixing code, whitespace runs (tabs, CRLF), and characters from many scripts. With
// nfc_stable, characters that NFC would change (combining marks, jamo) are left out.
std::string random_text(std::mt19937& rng, bool nfc_stable) {
  static const char* const fragments[] = {
      "def ", "return ", "    ", "\t", "\r\n", "\n\n", "  \n", "if x == 1:", "'s", "'ll", "123",
      "4567", "(a, b)", "[]", "{}", "//", "#", "\"\"\"", " ", "   ", "\u00a0", "\u3000", "_", "::",
  };
  // The first seven ranges are unchanged by NFC; the rest hold characters NFC rewrites
  // (Greek question mark, en quad, musical symbols, combining marks, conjoining jamo).
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x20, 0x7E},     {0xA1, 0xFF},     {0x400, 0x4FF},     {0x4E00, 0x9FFF}, {0x3040, 0x30FF},
      {0x1F300, 0x1F64F}, {0xE000, 0xE0FF}, {0x370, 0x3FF},     {0x2000, 0x206F}, {0x10000, 0x1FFFF},
      {0x300, 0x36F},   {0x1100, 0x11FF},
  };
  size_t range_count = nfc_stable ? 7 : std::size(ranges);
  std::string text;
  int pieces = std::uniform_int_distribution<int>(0, 40)(rng);
  for (int i = 0; i < pieces; ++i) {
    if (rng() % 3 == 0) {
      text += fragments[rng() % std::size(fragments)];
      continue;
    }
    auto [low, high] = ranges[rng() % range_count];
    char32_t cp = std::uniform_int_distribution<char32_t>(low, high)(rng);
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    text += utf8(cp);
  }
  return text;
}

TEST(TokenizerProperties, decode_inverts_encode_on_random_text) {
  for (const Named& named : lossless) {
    const Tokenizer& tok = load(named);
    std::mt19937 rng(1234);
    for (int i = 0; i < 400; ++i) {
      std::string text = random_text(rng, named.normalizes);
      auto ids = tok.encode(text, plain_text());
      ASSERT_EQ(tok.decode(ids), text) << named.name << " case " << i;
    }
    if (!named.normalizes) continue;
    // Text NFC changes: one round trip normalises it, and a second changes nothing more.
    for (int i = 0; i < 200; ++i) {
      std::string once = tok.decode(tok.encode(random_text(rng, false), plain_text()));
      ASSERT_EQ(tok.decode(tok.encode(once, plain_text())), once) << named.name << " case " << i;
    }
  }
}

TEST(TokenizerProperties, nfc_normalizer_composes_and_rewrites_singletons) {
  const Tokenizer& qwen = load(lossless[1]);
  // e + combining acute -> é; Greek question mark -> ';'; Angstrom sign -> Å.
  EXPECT_EQ(qwen.decode(qwen.encode("e\u0301 \u037e \u212b")), "\u00e9 ; \u00c5");
}

TEST(TokenizerProperties, code_with_tabs_crlf_and_whitespace_runs_round_trips) {
  const char* texts[] = {
      "def f(x):\r\n\treturn x\r\n", "\t\t\tx = 1\n\n\n\n    y = 2  \n", "      ", "\n", "",
      "a\u00a0b\u2003c\u3000d", "class A:\n    pass\n\n\nif __name__ == '__main__':\n    A()\n",
      "x  =  1 #  comment   \r\n\r\n", "\v\f\r",
  };
  for (const Named& named : lossless) {
    const Tokenizer& tok = load(named);
    for (const char* text : texts) EXPECT_EQ(tok.decode(tok.encode(text, plain_text())), text) << named.name;
  }
}

TEST(TokenizerProperties, every_humaneval_and_mbpp_text_round_trips) {
  std::vector<std::string> texts;
  for (const char* name : {"humaneval", "mbpp"})
    for (const auto& task : tasks::load_benchmark(name, data_dir()).tasks) {
      texts.push_back(task.prompt);
      texts.push_back(task.canonical_solution);
    }
  ASSERT_EQ(texts.size(), 2 * (164u + 974u));
  for (const Named& named : lossless) {
    const Tokenizer& tok = load(named);
    size_t tokens = 0;
    for (const std::string& text : texts) {
      auto ids = tok.encode(text, plain_text());
      ASSERT_EQ(tok.decode(ids), text) << named.name;
      tokens += ids.size();
    }
    EXPECT_GT(tokens, 100000u) << named.name;
  }
}

// One Tokenizer shared by threads (word cache, regex match data) gives the same ids as one
// thread alone.
TEST(TokenizerProperties, threads_sharing_a_tokenizer_get_the_same_ids) {
  std::vector<std::string> texts;
  for (const auto& task : tasks::load_benchmark("mbpp", data_dir()).tasks) texts.push_back(task.prompt);
  for (const Named& named : lossless) {
    const Tokenizer fresh = Tokenizer::load(data_dir() + "/tokenizers/" + named.path);
    std::vector<std::vector<TokenId>> parallel[4];
    std::vector<std::thread> threads;
    for (auto& out : parallel)
      threads.emplace_back([&] {
        for (const std::string& text : texts) out.push_back(fresh.encode(text, plain_text()));
      });
    for (auto& thread : threads) thread.join();
    const Tokenizer& alone = load(named);
    for (size_t i = 0; i < texts.size(); ++i) {
      auto expected = alone.encode(texts[i], plain_text());
      for (const auto& out : parallel) ASSERT_EQ(out[i], expected) << named.name << " text " << i;
    }
  }
}

TEST(TokenizerProperties, streaming_decode_equals_decode_and_is_always_utf8) {
  for (const Named& named : lossless) {
    const Tokenizer& tok = load(named);
    std::mt19937 rng(99);
    for (int i = 0; i < 200; ++i) {
      auto ids = tok.encode(random_text(rng, named.normalizes), plain_text());
      StreamDecoder stream(tok);
      std::string streamed;
      for (TokenId id : ids) {
        std::string piece = stream.push(id);
        ASSERT_TRUE(is_valid_utf8(piece)) << named.name << " case " << i;
        streamed += piece;
      }
      streamed += stream.finish();
      ASSERT_EQ(streamed, tok.decode(ids)) << named.name << " case " << i;
    }
  }
}

TEST(TokenizerProperties, decoding_any_ids_gives_utf8_and_streams_alike) {
  for (const Named& named : lossless) {
    const Tokenizer& tok = load(named);
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
      std::vector<TokenId> ids(rng() % 20);
      for (auto& id : ids) id = TokenId(rng() % tok.vocab_size());
      std::string text = tok.decode(ids);
      ASSERT_TRUE(is_valid_utf8(text)) << named.name;
      StreamDecoder stream(tok);
      std::string streamed;
      for (TokenId id : ids) streamed += stream.push(id);
      streamed += stream.finish();
      ASSERT_EQ(streamed, text) << named.name << " case " << i;
    }
    EXPECT_THROW(tok.decode(std::vector<TokenId>{TokenId(tok.vocab_size())}), Error);
  }
}

TEST(TokenizerProperties, invalid_utf8_is_refused_with_its_offset) {
  const std::pair<std::string, size_t> cases[] = {
      {"ab\xff", 2}, {"\xc3", 0}, {"ok \xe2\x82", 3}, {"\xed\xa0\x80", 0} /* surrogate */,
      {"\xc0\xaf", 0} /* overlong */, {"x\xf4\x90\x80\x80", 1} /* above U+10FFFF */,
  };
  for (const Named& named : lossless) {
    for (const auto& [text, offset] : cases) {
      try {
        load(named).encode(text);
        ADD_FAILURE() << named.name << " accepted invalid UTF-8";
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "tokenizer: text is not valid UTF-8 at byte " + std::to_string(offset) +
                      " (hint: decode it with errors replaced before tokenizing)");
      }
    }
  }
}

}  // namespace
}  // namespace codealign::testing
