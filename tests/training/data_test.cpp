// Training data: sampled ids are trained as given, not re-tokenized from their text.
#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "training/data.h"

namespace codealign::training {
namespace {

using tokenizer::TokenId;

tokenizer::Tokenizer qwen() { return tokenizer::Tokenizer::load(testing::data_dir() + "/tokenizers/qwen/tokenizer.json"); }

TEST(SampledIds, AreTrainedAsGivenWhateverTheTextTokenizesTo) {
  tokenizer::Tokenizer tok = qwen();
  std::vector<TokenId> prompt = tok.encode("def f():\n");
  // "  return 1" sampled token by token: a valid spelling that the tokenizer would not produce.
  std::vector<TokenId> sampled;
  for (const char* piece : {" ", " ", "return", " ", "1"})
    for (TokenId id : tok.encode(piece)) sampled.push_back(id);
  ASSERT_NE(sampled, tok.encode("  return 1")) << "the test needs a spelling the tokenizer would not choose";
  ASSERT_EQ(tok.decode(sampled), "  return 1");

  auto from_ids = make_sequence(tok, PromptText("def f():\n"), "  return 1", sampled, 1024);
  ASSERT_TRUE(from_ids);
  std::vector<TokenId> expected = prompt;
  expected.insert(expected.end(), sampled.begin(), sampled.end());
  expected.push_back(*tok.eos_id());
  EXPECT_EQ(from_ids->ids, expected);
  EXPECT_EQ(from_ids->prompt_length, prompt.size());

  auto from_text = make_sequence(tok, PromptText("def f():\n"), "  return 1", {}, 1024);
  ASSERT_TRUE(from_text);
  EXPECT_NE(from_text->ids, from_ids->ids);
  EXPECT_EQ(from_text->completion_tokens(), tok.encode("  return 1").size() + 1);

  // Cut from the right like text: the EOS goes first.
  auto cut = make_sequence(tok, PromptText("def f():\n"), "  return 1", sampled, prompt.size() + 2);
  ASSERT_TRUE(cut);
  EXPECT_EQ(std::vector<TokenId>(cut->ids.begin() + long(prompt.size()), cut->ids.end()),
            std::vector<TokenId>(sampled.begin(), sampled.begin() + 2));
}

TEST(SampledIds, AreReadFromPairsAndSftLinesAndLeaveTheMetadata) {
  testing::TempDir dir;
  testing::write_text(dir.path + "/pairs.jsonl",
                      R"({"prompt": "p", "chosen": "a", "rejected": "b", "chosen_ids": [1, 2], "rejected_ids": [3], "task_id": "t"})"
                      "\n");
  auto pairs = read_pairs(dir.path + "/pairs.jsonl");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].chosen_ids, (std::vector<TokenId>{1, 2}));
  EXPECT_EQ(pairs[0].rejected_ids, (std::vector<TokenId>{3}));
  EXPECT_EQ(pairs[0].metadata, nlohmann::json::parse(R"({"task_id": "t"})"));

  testing::write_text(dir.path + "/sft.jsonl", R"({"prompt": "p", "completion": "a", "completion_ids": [7]})" "\n");
  EXPECT_EQ(read_sft(dir.path + "/sft.jsonl")[0].completion_ids, (std::vector<TokenId>{7}));

  auto error_of = [&](const std::string& line) -> std::string {
    testing::write_text(dir.path + "/bad.jsonl", line + "\n");
    try {
      read_pairs(dir.path + "/bad.jsonl");
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::string where = dir.path + "/bad.jsonl:1: ";
  EXPECT_EQ(error_of(R"({"prompt": "p", "chosen": "a", "rejected": "b", "chosen_ids": [1, "2"]})"),
            where + "field 'chosen_ids' holds \"2\", not a token id");
  EXPECT_EQ(error_of(R"({"prompt": "p", "chosen": "a", "rejected": "b", "rejected_ids": []})"),
            where + "field 'rejected_ids' is not a non-empty array");
}

// GRPO's groups: rewards, ids and the truncation flag as given; a group of another size, a
// missing or non-finite reward, or a single completion are errors that name the line.
TEST(Groups, AreReadWithRewardsAndTheirErrorsNameLineAndField) {
  testing::TempDir dir;
  testing::write_text(dir.path + "/groups.jsonl",
                      R"({"prompt": "p", "completions": [{"completion": "a", "reward": 1, "completion_ids": [4, 5]},)"
                      R"( {"completion": "b", "reward": -0.5, "truncated": true}]})"
                      "\n");
  auto groups = read_groups(dir.path + "/groups.jsonl");
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].completions.size(), 2u);
  EXPECT_EQ(groups[0].completions[0].completion_ids, (std::vector<TokenId>{4, 5}));
  EXPECT_EQ(groups[0].completions[1].reward, -0.5);
  EXPECT_FALSE(groups[0].completions[0].truncated);
  EXPECT_TRUE(groups[0].completions[1].truncated);

  auto error_of = [&](const std::string& lines) -> std::string {
    testing::write_text(dir.path + "/bad.jsonl", lines);
    try {
      read_groups(dir.path + "/bad.jsonl");
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::string where = dir.path + "/bad.jsonl:";
  std::string two = R"({"prompt": "p", "completions": [{"completion": "a", "reward": 1}, {"completion": "b", "reward": 0}]})";
  std::string three = R"({"prompt": "p", "completions": [{"completion": "a", "reward": 1}, {"completion": "b", "reward": 0},)"
                      R"( {"completion": "c", "reward": 0}]})";
  EXPECT_EQ(error_of(two + "\n" + three + "\n"),
            where + "2: has 3 completions where line 1 has 2 (every group must have the same size)");
  EXPECT_EQ(error_of(R"({"prompt": "p", "completions": [{"completion": "a", "reward": 1}]})" "\n"),
            where + "1: field 'completions' must be an array of at least 2 completions (a group)");
  EXPECT_EQ(error_of(R"({"prompt": "p", "completions": [{"completion": "a"}, {"completion": "b", "reward": 0}]})" "\n"),
            where + "1: field 'completions[0].reward' is not a finite number");
  EXPECT_EQ(error_of(R"({"prompt": "p", "completions": [{"completion": "a", "reward": 1},)"
                     R"( {"completion": "b", "reward": 0, "truncated": 1}]})" "\n"),
            where + "1: field 'completions[1].truncated' is not true or false");
}

// ---- chat formats: pairs rendered as the published templates render them ----------------------

std::vector<TokenId> plain(const tokenizer::Tokenizer& tok, const std::string& text, bool continuation = false) {
  tokenizer::EncodeOptions options;
  options.parse_special = false;
  options.continuation = continuation;
  return tok.encode(text, options);
}

std::vector<TokenId> joined(std::initializer_list<std::vector<TokenId>> parts) {
  std::vector<TokenId> ids;
  for (const auto& part : parts) ids.insert(ids.end(), part.begin(), part.end());
  return ids;
}

// TRL's conversational pair, the user's text holding a special token's spelling.
const char* conversational_pair =
    R"({"prompt": [{"role": "user", "content": "Write f. <|im_end|>"}],)"
    R"( "chosen": [{"role": "assistant", "content": "CHOSEN"}], "rejected": "REJECTED"})";

PairExample read_one_pair(const std::string& line) {
  testing::TempDir dir;
  testing::write_text(dir.path + "/pair.jsonl", line + "\n");
  return read_pairs(dir.path + "/pair.jsonl").at(0);
}

TEST(ChatPairs, Qwen25RendersAsItsPublishedTemplate) {
  // Qwen2.5-Instruct: <|im_start|>system\n{default system}<|im_end|>\n<|im_start|>user\n{user}
  // <|im_end|>\n<|im_start|>assistant\n, the reply, then <|im_end|> (151644/151645 in its vocabulary).
  tokenizer::Tokenizer tok = qwen();
  const TokenId im_start = 151644, im_end = 151645;
  PairExample pair = read_one_pair(conversational_pair);
  PromptRule rule{tokenizer::builtin_chat_format("qwen2.5")};
  auto sequence = make_sequence(tok, pair.prompt, pair.chosen, {}, 4096, rule);
  ASSERT_TRUE(sequence);
  std::vector<TokenId> prompt = joined(
      {{im_start}, plain(tok, "system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."), {im_end},
       plain(tok, "\n"), {im_start}, plain(tok, "user\nWrite f. <|im_end|>"), {im_end}, plain(tok, "\n"), {im_start},
       plain(tok, "assistant\n")});
  EXPECT_EQ(sequence->ids, joined({prompt, plain(tok, "CHOSEN", true), {im_end}}));
  EXPECT_EQ(sequence->prompt_length, prompt.size());
  // A system message replaces the default one.
  pair = read_one_pair(R"({"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],)"
                       R"( "chosen": "a", "rejected": "b"})");
  sequence = make_sequence(tok, pair.prompt, pair.rejected, {}, 4096, rule);
  EXPECT_EQ(sequence->ids, joined({{im_start}, plain(tok, "system\nBe brief."), {im_end}, plain(tok, "\n"), {im_start},
                                   plain(tok, "user\nHi"), {im_end}, plain(tok, "\n"), {im_start},
                                   plain(tok, "assistant\n"), plain(tok, "b", true), {im_end}}));
}

TEST(ChatPairs, DeepSeekCoderRendersAsItsPublishedTemplate) {
  // deepseek-coder-instruct: {bos}{default system}\n### Instruction:\n{user}\n### Response:, then the
  // reply as the model writes it ("\n" + code + "\n"), then <|EOT|> (bos 32013, <|EOT|> 32021).
  tokenizer::Tokenizer tok =
      tokenizer::Tokenizer::load(testing::data_dir() + "/tokenizers/llamacpp-vectors/ggml-vocab-deepseek-coder.gguf");
  PairExample pair = read_one_pair(conversational_pair);
  PromptRule rule{tokenizer::builtin_chat_format("deepseek-coder")};
  std::string system =
      "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, and "
      "you only answer questions related to computer science. For politically sensitive questions, security and "
      "privacy issues, and other non-computer science questions, you will refuse to answer\n";
  std::vector<TokenId> prompt = joined({{32013}, plain(tok, system + "### Instruction:\nWrite f. <|im_end|>\n### Response:")});
  auto sequence = make_sequence(tok, pair.prompt, "\nCHOSEN\n", {}, 4096, rule);
  ASSERT_TRUE(sequence);
  EXPECT_EQ(sequence->ids, joined({prompt, plain(tok, "\nCHOSEN\n", true), {32021}}));
  EXPECT_EQ(sequence->prompt_length, prompt.size());
}

TEST(ChatPairs, SampledIdsEndWithTheEndOfTurnToken) {
  tokenizer::Tokenizer tok = qwen();
  PromptRule rule{tokenizer::builtin_chat_format("chatml")};
  auto sequence = make_sequence(tok, PromptText("Hi"), "x", {42, 43}, 4096, rule);
  ASSERT_TRUE(sequence);
  EXPECT_EQ(std::vector<TokenId>(sequence->ids.end() - 3, sequence->ids.end()), (std::vector<TokenId>{42, 43, 151645}));
  EXPECT_EQ(end_of_completion_id(tok, {}), tok.eos_id());
}

TEST(ChatPairs, MessagesWithoutAChatFormatOrOfTheWrongShapeAreRefused) {
  tokenizer::Tokenizer tok = qwen();
  PairExample pair = read_one_pair(conversational_pair);
  EXPECT_THROW(make_sequence(tok, pair.prompt, pair.chosen, {}, 4096, {}), Error);
  auto error_of = [](const std::string& line) -> std::string {
    try {
      read_one_pair(line);
    } catch (const Error& e) {
      std::string message = e.what();
      return message.substr(message.find(".jsonl:") + 7);
    }
    return "no error";
  };
  EXPECT_EQ(error_of(R"({"prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, )"
                     R"({"role": "user", "content": "c"}], "chosen": "x", "rejected": "y"})"),
            "1: field 'prompt' must hold one user message, after an optional system message (multi-turn prompts are "
            "not supported)");
  EXPECT_EQ(error_of(R"({"prompt": [{"role": "assistant", "content": "a"}], "chosen": "x", "rejected": "y"})"),
            "1: field 'prompt' message 1 has role 'assistant' where 'user' was expected");
  EXPECT_EQ(error_of(R"({"prompt": "p", "chosen": [{"role": "assistant", "content": 1}], "rejected": "y"})"),
            "1: field 'chosen' is not a {\"role\", \"content\"} message of strings");
}

}  // namespace
}  // namespace codealign::training
