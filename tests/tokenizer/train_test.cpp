// codealign's BPE trainer (tokenizer/train.h) and `codealign tokenizer train`: the vocabulary
// it writes loads through the ordinary loader, has exactly the size asked for, round-trips
// any text, compresses the text it learned from, and is the same file every time.
// (tests/reference/test_tokenizers.py checks it against HF tokenizers and transformers.)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "support/test_support.h"
#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/train.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using namespace codealign::tokenizer;

std::vector<std::string> benchmark_texts(const char* name) {
  std::vector<std::string> texts;
  for (const auto& task : tasks::load_benchmark(name, data_dir()).tasks) {
    texts.push_back(task.prompt);
    texts.push_back(task.canonical_solution);
  }
  return texts;
}

const std::vector<std::string>& humaneval() {
  static const std::vector<std::string> texts = benchmark_texts("humaneval");
  return texts;
}

TrainedBpe train(const std::vector<std::string>& texts, BpeTrainOptions options) {
  BpeTrainer trainer(std::move(options));
  for (const std::string& text : texts) trainer.add_text(text);
  return trainer.train();
}

BpeTrainOptions vocab(size_t size, uint64_t min_frequency = 2) {
  BpeTrainOptions options;
  options.vocab_size = size;
  options.min_frequency = min_frequency;
  return options;
}

// Trained on HumanEval once, saved, and loaded through Tokenizer::load.
struct Saved {
  TempDir dir;
  TrainedBpe trained;
  Tokenizer tok;
};
Saved& humaneval_1000() {
  static Saved* saved = [] {
    TrainedBpe trained = train(humaneval(), vocab(1000));
    TempDir dir;
    std::string path = save_trained_bpe(trained, dir.path + "/tok");
    return new Saved{std::move(dir), trained, Tokenizer::load(std::filesystem::path(path).parent_path())};
  }();
  return *saved;
}

std::vector<std::string> merges_of(const TrainedBpe& trained) {
  std::vector<std::string> merges;
  nlohmann::json file = nlohmann::json::parse(trained.tokenizer_json);
  for (const auto& merge : file["model"]["merges"])
    merges.push_back(merge[0].get<std::string>() + " " + merge[1].get<std::string>());
  return merges;
}

TEST(TokenizerTrain, same_texts_in_any_order_give_a_byte_identical_file) {
  std::vector<std::string> reversed(humaneval().rbegin(), humaneval().rend());
  TrainedBpe again = train(reversed, vocab(1000));
  EXPECT_TRUE(again.tokenizer_json == humaneval_1000().trained.tokenizer_json);
  EXPECT_EQ(again.tokenizer_config_json, humaneval_1000().trained.tokenizer_config_json);
}

TEST(TokenizerTrain, vocabulary_has_exactly_the_size_asked_for_with_eos_last) {
  const Tokenizer& tok = humaneval_1000().tok;
  EXPECT_EQ(tok.vocab_size(), 1000u);
  EXPECT_EQ(tok.eos_id(), 999);
  EXPECT_EQ(tok.pad_id(), 999);
  EXPECT_EQ(tok.bos_id(), std::nullopt);
  EXPECT_EQ(tok.token_text(999), "<|endoftext|>");
  EXPECT_TRUE(tok.is_special(999));
  EXPECT_EQ(tok.token_text(32), "\xC4\xA0");  // id == byte: a space is GPT-2's "Ġ"
  EXPECT_EQ(tok.description(), "hf-json bpe byte-level");
  // Two special tokens and a small size: still exact.
  BpeTrainOptions options = vocab(300);
  options.special_tokens = {"<|endoftext|>", "<|im_start|>"};
  TempDir dir;
  Tokenizer small = Tokenizer::load(save_trained_bpe(train(humaneval(), options), dir.path + "/small.json"));
  EXPECT_EQ(small.vocab_size(), 300u);
  EXPECT_EQ(small.eos_id(), 298);
  EXPECT_EQ(small.token_text(299), "<|im_start|>");
}

TEST(TokenizerTrain, decode_inverts_encode_on_code_and_unicode_it_never_saw) {
  const Tokenizer& tok = humaneval_1000().tok;
  std::vector<std::string> texts = benchmark_texts("mbpp");
  texts.insert(texts.end(), humaneval().begin(), humaneval().end());
  for (const char* text :
       {"", "\n", "      ", "def f(x):\r\n\treturn x\r\n", "\t\t\tx = 1\n\n\n\n    y = 2  \n",
        "caf\u00e9 na\u00efve \u00fc\u00df", "\u4f60\u597d\uff0c\u4e16\u754c", "\U0001F600\U0001F469\u200D\U0001F4BB",
        "e\u0301 \u037e \u212b", "\u00a0\u2003\u3000", "\v\f\r", "x = '\\u00e9'  # \u00e9\n"})
    texts.push_back(text);
  for (const std::string& text : texts) ASSERT_EQ(tok.decode(tok.encode(text, plain_text())), text);
}

TEST(TokenizerTrain, learned_merges_compress_the_text_they_came_from) {
  const Tokenizer& tok = humaneval_1000().tok;
  size_t bytes = 0, tokens = 0;
  for (const std::string& text : humaneval()) {
    bytes += text.size();
    tokens += tok.encode(text, plain_text()).size();
  }
  EXPECT_LT(double(tokens), 0.4 * double(bytes)) << tokens << " tokens for " << bytes << " bytes";
  // Frequent code words become single tokens.
  for (const char* word : {"Ġreturn", "Ġfor", "ĠĠĠ"}) EXPECT_TRUE(tok.token_id(word)) << word;
}

TEST(TokenizerTrain, special_tokens_are_one_id_and_never_learned_from) {
  const Tokenizer& tok = humaneval_1000().tok;
  EXPECT_EQ(tok.encode("a<|endoftext|>b"), (std::vector<TokenId>{'a', 999, 'b'}));
  // Cut at the special token, the text is the words "ab" and "cd": two merges, then no pair
  // is left (none reaches into the special token).
  std::vector<std::string> texts(50, "ab<|endoftext|>cd");
  EXPECT_EQ(merges_of(train(texts, vocab(259))), (std::vector<std::string>{"a b", "c d"}));
  EXPECT_NE(error_of([&] { train(texts, vocab(260)); }).find("(850 bytes, 2 distinct words)"), std::string::npos);
}

// Hand-checkable counts: the most frequent pair first, ties to the smaller (left, right) ids.
TEST(TokenizerTrain, merges_take_the_most_frequent_pair_and_ties_the_smaller_ids) {
  // "abab": (a,b) twice, (b,a) once -> "a b", then the word is [ab, ab] -> "ab ab".
  EXPECT_EQ(merges_of(train({"abab"}, vocab(259, 1))), (std::vector<std::string>{"a b", "ab ab"}));
  // Words "ab" and " cd" (one each): (' ', c) = (32, 99) < (97, 98) = (a, b) < (c, d).
  EXPECT_EQ(merges_of(train({"ab cd"}, vocab(260, 1))), (std::vector<std::string>{"Ġ c", "a b", "Ġc d"}));
  // Digits are never merged (Qwen2's split keeps each digit a word).
  EXPECT_EQ(error_of([] { train({"1234 1234 1234"}, vocab(258)); }),
            "tokenizer: the training text (14 bytes, 5 distinct words) runs out of pairs seen at least 2 times "
            "after 0 merges: the vocabulary has 257 of the 258 ids asked for (hint: more text, or a smaller "
            "vocabulary size)");
}

TEST(TokenizerTrain, bad_options_and_bad_text_are_refused_with_what_is_wrong) {
  EXPECT_EQ(error_of([] { BpeTrainer trainer(vocab(256)); }),
            "tokenizer: vocabulary size 256 is too small: the 256 bytes and 1 special token need 257");
  BpeTrainOptions twice = vocab(300);
  twice.special_tokens = {"<|endoftext|>", "<|endoftext|>"};
  EXPECT_EQ(error_of([&] { BpeTrainer trainer(twice); }), "tokenizer: special token '<|endoftext|>' is given twice");
  BpeTrainer trainer(vocab(300));
  EXPECT_EQ(error_of([&] { trainer.add_text("ok\nstill ok\nbad \xff here\n", "corpus.txt"); }),
            "tokenizer: corpus.txt:3: text is not valid UTF-8 at byte 5 of the line");
}

TEST(TokenizerTrainCli, trains_on_jsonl_fields_and_names_the_line_of_a_missing_field) {
  TempDir dir;
  std::string humaneval_file = data_dir() + "/benchmarks/humaneval/HumanEval.jsonl.gz";
  CommandResult ok = run_codealign("tokenizer train --vocab-size 600 --out " + dir.path +
                                   "/out --field prompt --field canonical_solution " + humaneval_file);
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("tokenizer: 600 ids (256 bytes, "), std::string::npos) << ok.output;
  Tokenizer tok = Tokenizer::load(dir.path + "/out");
  EXPECT_EQ(tok.vocab_size(), 600u);
  EXPECT_EQ(tok.eos_id(), 599);
  // The same fields through the library give the same file.
  std::vector<std::string> fields;
  for_each_jsonl_line(humaneval_file, read_file(humaneval_file), [&](const JsonlLine& line) {
    Json task = parse_json_object(line);
    fields.push_back(task["prompt"]);
    fields.push_back(task["canonical_solution"]);
  });
  EXPECT_TRUE(read_file(dir.path + "/out/tokenizer.json") == train(fields, vocab(600)).tokenizer_json);

  write_text(dir.path + "/samples.jsonl", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"c\"}\n");
  CommandResult missing = run_codealign("tokenizer train --vocab-size 300 --out " + dir.path +
                                        "/bad --field prompt --field completion " + dir.path + "/samples.jsonl");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.output, "codealign: error: " + dir.path + "/samples.jsonl:2: field 'completion' is missing\n");
  CommandResult no_field = run_codealign("tokenizer train --vocab-size 300 --out " + dir.path + "/bad " + dir.path +
                                         "/samples.jsonl");
  EXPECT_EQ(no_field.output, "codealign: error: tokenizer: '" + dir.path +
                                 "/samples.jsonl' is JSONL: name the string fields to train on "
                                 "(hint: --field prompt --field completion)\n");
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/bad"));
}

}  // namespace
}  // namespace codealign::testing
