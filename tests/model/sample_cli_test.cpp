// End to end: `codealign sample` on HumanEval with a small random model, then `codealign
// evaluate` on its output (a random model scores 0, every sample judged); and `generate` and
// `sample` on "chain" models (train_support.h) whose greedy output is known token by token, so
// that stop strings, stop ids, chat formats and the padded vocabulary are checked exactly.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/files.h"
#include "training/train_support.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// The ids of `text` (special tokens parsed: "<|im_end|>" is one id).
std::vector<int64_t> ids_of(const std::string& tokenizer, const std::string& text) {
  TempDir dir;
  write_text(dir.path + "/text", text);
  auto run = run_codealign("tokenize --tokenizer " + tokenizer + " --json < " + dir.path + "/text");
  if (run.status != 0) throw std::runtime_error(run.output);
  return nlohmann::json::parse(run.output)["ids"].get<std::vector<int64_t>>();
}

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A chain model with GPT-2's tokenizer files.
void write_gpt2_chain(const std::string& directory, const std::vector<int64_t>& chain) {
  write_chain_model(directory, 50257, chain);
  fs::copy_file(data_dir() + "/tokenizers/gpt2/encoder.json", directory + "/vocab.json");
  fs::copy_file(data_dir() + "/tokenizers/gpt2/vocab.bpe", directory + "/merges.txt");
}

TEST(SampleCli, sample_then_evaluate_runs_end_to_end) {
  TempDir dir;
  std::string model_dir = dir.path + "/model";
  write_tiny_model(model_dir);

  std::string samples = dir.path + "/samples.jsonl";
  auto sampled = run_codealign("sample --model " + model_dir + " --benchmark humaneval --n 2 -t 0.8 --seed 1 "
                               "--max-new-tokens 24 --out " + samples + " --data-dir " + data_dir());
  ASSERT_EQ(sampled.status, 0) << sampled.output;
  auto lines = json_lines(read_file(samples));
  ASSERT_EQ(lines.size(), 2 * 164u);
  EXPECT_EQ(lines[0]["task_id"], "HumanEval/0");
  EXPECT_TRUE(lines[0]["completion"].is_string());

  auto evaluated = run_codealign("evaluate --benchmark humaneval --samples " + samples + " --k 1,2 --json --data-dir " + data_dir());
  ASSERT_EQ(evaluated.status, 0) << evaluated.output;
  auto summary = nlohmann::json::parse(evaluated.output.substr(evaluated.output.find('{')));
  EXPECT_EQ(summary["base"]["pass@1"], 0.0) << summary.dump();
  EXPECT_EQ(summary["samples"], 2 * 164);
  // Every sample was run and judged as a program: random text fails to parse or to pass, but
  // nothing crashed, ran out of memory or timed out (which would also score 0).
  int judged = 0;
  for (const auto& [verdict, count] : summary["verdicts"].items()) {
    EXPECT_TRUE(verdict == "syntax_error" || verdict == "runtime_error" || verdict == "failed")
        << verdict << ": " << count << "\n" << summary.dump();
    judged += count.get<int>();
  }
  EXPECT_EQ(judged, 2 * 164) << summary.dump();
  EXPECT_GT(summary["verdicts"].value("syntax_error", 0), 0) << summary.dump();
}

// A sample's random stream is keyed by the seed, its prompt and its index, never by the batch
// it was drawn in: the files are byte for byte the same.
TEST(SampleCli, the_batch_size_changes_no_sample) {
  TempDir dir;
  std::string model_dir = dir.path + "/model";
  write_tiny_model(model_dir);
  std::vector<std::string> files;
  for (const char* batch : {"1", "8"}) {
    files.push_back(dir.path + "/samples-" + batch + ".jsonl");
    auto sampled = run_codealign("sample --model " + model_dir + " --benchmark 'humaneval[:10]' --n 3 -t 0.8 --seed 7 "
                                 "--max-new-tokens 16 --batch " + std::string(batch) + " --out " + files.back() +
                                 " --data-dir " + data_dir());
    ASSERT_EQ(sampled.status, 0) << sampled.output;
  }
  std::string first = read_file(files[0]);
  EXPECT_EQ(json_lines(first).size(), 30u);
  EXPECT_EQ(first, read_file(files[1]));
}

TEST(SampleCli, completions_stop_before_the_next_top_level_statement) {
  TempDir dir;
  std::string tasks = dir.path + "/tasks.jsonl";
  // The prompt's last token (" return") is in no chain, so every reply starts with "x".
  write_text(tasks, R"({"task_id": "t/0", "prompt": "def f():\n    return", "tests": ["assert f() is None"]})" "\n");
  write_gpt2_chain(dir.path + "/probe", {87});
  for (const std::string stop : {"\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert "}) {
    std::string model = dir.path + "/model" + std::to_string(stop.size()) + stop.substr(1, 2);
    write_gpt2_chain(model, ids_of(dir.path + "/probe", "x" + stop + "y"));
    auto run = run_codealign("sample --model " + model + " --tasks " + tasks + " -t 0 --max-new-tokens 30 --out " + dir.path +
                             "/samples.jsonl");
    ASSERT_EQ(run.status, 0) << run.output;
    auto lines = json_lines(read_file(dir.path + "/samples.jsonl"));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0]["completion"], "x") << "stop " << nlohmann::json(stop).dump();
    EXPECT_FALSE(lines[0].contains("solution"));
  }
}

TEST(SampleCli, whole_programs_keep_every_definition) {
  // MBPP's prompt is prose and a completion is the whole program: imports, helpers and classes
  // before the function must stay. The prompt ends in "\n", so the chain "x\ndef y" replies
  // "def yx\ndef yx..." from its "def" on.
  TempDir dir;
  write_gpt2_chain(dir.path + "/probe", {87});
  write_gpt2_chain(dir.path + "/model", ids_of(dir.path + "/probe", "x\ndef y"));
  auto run = run_codealign("sample --model " + dir.path + "/model -b 'mbpp:prompt[:1]' --data-dir " + data_dir() +
                           " -t 0 --max-new-tokens 10 --out " + dir.path + "/samples.jsonl");
  ASSERT_EQ(run.status, 0) << run.output;
  auto lines = json_lines(read_file(dir.path + "/samples.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["task_id"], "1");
  EXPECT_EQ(lines[0]["completion"], "def yx\ndef yx\ndef y");

  // A script judged on its stdout prints: only the end of text ends it.
  write_gpt2_chain(dir.path + "/printer", ids_of(dir.path + "/probe", "x\nprint(y"));
  write_text(dir.path + "/io.jsonl", R"({"task_id": "io/0", "prompt": "#", "tests": [{"input": "", "output": ""}]})" "\n");
  run = run_codealign("sample --model " + dir.path + "/printer --tasks " + dir.path + "/io.jsonl -t 0 --max-new-tokens 10 --out " +
                      dir.path + "/io-samples.jsonl");
  ASSERT_EQ(run.status, 0) << run.output;
  lines = json_lines(read_file(dir.path + "/io-samples.jsonl"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["completion"], "x\nprint(yx\nprint(y");
}

TEST(GenerateCli, prints_greedy_text_with_finish_reasons_and_stops) {
  TempDir dir;
  write_gpt2_chain(dir.path + "/probe", {87});
  std::string model = dir.path + "/model";
  auto chain = ids_of(dir.path + "/probe", "x\ndef y");  // x, \n, def, " y"
  ASSERT_EQ(chain.size(), 4u);
  write_gpt2_chain(model, concat(chain, {50256}));  // then <|endoftext|>, GPT-2's end of text
  auto run = run_codealign("generate --model " + model + " -p 'hello' -p 'a b' -n 2 -t 0 --max-new-tokens 3 --json");
  ASSERT_EQ(run.status, 0) << run.output;
  auto lines = json_lines(run.output);
  ASSERT_EQ(lines.size(), 4u) << run.output;
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(lines[i], nlohmann::json({{"prompt", i / 2}, {"sample", i % 2}, {"text", "x\ndef"}, {"finish_reason", "length"},
                                        {"tokens", 3}}));
  // The end-of-text id stops the sample and is not part of its text.
  auto ended = run_codealign("generate --model " + model + " -p 'hello' -t 0 --max-new-tokens 20 --json");
  ASSERT_EQ(ended.status, 0) << ended.output;
  EXPECT_EQ(nlohmann::json::parse(ended.output),
            nlohmann::json({{"prompt", 0}, {"sample", 0}, {"text", "x\ndef y"}, {"finish_reason", "stop"}, {"tokens", 5}}));
  // A --stop string cuts the text where it begins; plain output is the text alone.
  auto stopped = run_codealign("generate --model " + model + " -p 'hello' -t 0 --max-new-tokens 20 --stop def");
  EXPECT_EQ(stopped.status, 0);
  EXPECT_EQ(stopped.output, "x\n\n");
}

// Qwen's tokenizer (151,669 ids) under a model with Qwen2.5's padded 151,936 rows.
class ChatSample : public ::testing::Test {
 protected:
  void SetUp() override {
    qwen = data_dir() + "/tokenizers/qwen";
    tasks = dir.path + "/tasks.jsonl";
    write_text(tasks, R"({"task_id": "t/0", "prompt": "Write f.", "tests": ["assert True"]})" "\n");
    // The reply "```py" "\n\n" "x" " ```" <|im_end|>; "\n\n" is one token, unlike the "\n"
    // that ends the chat prompts, so the reply starts at "```".
    chain = concat(ids_of(qwen, "```py\n\nx ```"), ids_of(qwen, "<|im_end|>"));
    ASSERT_EQ(chain.size(), 6u);
    model = dir.path + "/model";
    write_chain_model(model, 151936, chain, 151900);  // padding row 151900 would follow "```"
    fs::copy_file(qwen + "/tokenizer.json", model + "/tokenizer.json");
  }
  nlohmann::json sample(const std::string& chat) {
    auto run = run_codealign("sample --model " + model + " --tasks " + tasks + " -t 0 --max-new-tokens 12 --chat " + chat +
                             " --out " + dir.path + "/samples.jsonl");
    EXPECT_EQ(run.status, 0) << run.output;
    auto lines = json_lines(read_file(dir.path + "/samples.jsonl"));
    EXPECT_EQ(lines.size(), 1u);
    return lines.empty() ? nlohmann::json() : lines[0];
  }
  TempDir dir;
  std::string qwen, tasks, model;
  std::vector<int64_t> chain;
};

TEST_F(ChatSample, a_built_in_format_gives_the_reply_and_its_first_code_block) {
  auto line = sample("qwen2.5");
  EXPECT_EQ(line["response"], "```py\n\nx ```");  // ended by <|im_end|>, a stop id
  EXPECT_EQ(line["solution"], "\nx ");
  EXPECT_FALSE(line.contains("completion"));
  EXPECT_EQ(line["completion_ids"], nlohmann::json(std::vector<int64_t>(chain.begin(), chain.end() - 1)));
}

TEST_F(ChatSample, auto_reads_tokenizer_config_json) {
  auto plain = sample("auto");  // no tokenizer_config.json: completion style, the chain runs on
  EXPECT_FALSE(plain.contains("solution")) << plain.dump();
  EXPECT_TRUE(plain.contains("completion")) << plain.dump();
  fs::copy_file(qwen + "/tokenizer_config.json", model + "/tokenizer_config.json");
  auto chat = sample("auto");
  EXPECT_EQ(chat["response"], "```py\n\nx ```") << chat.dump();
  EXPECT_EQ(chat["solution"], "\nx ");
}

TEST_F(ChatSample, a_format_file_renders_the_prompt) {
  // The prompt ends in "```py", which the chain continues with "\n\n": the reply shows that the
  // file's template was used; with no code fence left, the solution is the whole reply.
  write_text(dir.path + "/format.json", nlohmann::json{{"prompt_template", "<|im_start|>user\n{user}<|im_end|>\n"
                                                                           "<|im_start|>assistant\n```py"},
                                                       {"assistant_suffix", "<|im_end|>"}}.dump());
  auto line = sample(dir.path + "/format.json");
  EXPECT_EQ(line["response"], "\n\nx ```");
  EXPECT_EQ(line["solution"], "\n\nx ```");
}

}  // namespace
}  // namespace codealign::testing
