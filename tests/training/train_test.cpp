// Training end to end through the CLI: DPO learns the preference, SFT lowers the NLL,
// a SIGKILLed run resumes to identical weights, and bad data is named by file:line.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "model/model.h"
#include "support/test_support.h"
#include "training/train_support.h"

namespace codealign::testing {
namespace {

std::vector<nlohmann::json> metrics(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(out + "/metrics.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(Train, dpo_learns_the_preference) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 16);
  auto run = run_codealign("train dpo --model " + dir.path + "/model --data " + dir.path + "/pairs.jsonl --out " + dir.path +
                           "/out --learning-rate 2e-3 --batch-size 4 --epochs 8 --warmup-ratio 0 --beta 0.1");
  ASSERT_EQ(run.status, 0) << run.output;
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 32u);
  for (const char* key : {"loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                          "logps/chosen", "logps/rejected", "grad_norm", "learning_rate", "epoch", "step"})
    EXPECT_TRUE(log.back().contains(key)) << key;
  EXPECT_EQ(log.front()["rewards/margins"], 0.0);  // policy == reference at the start
  EXPECT_EQ(log.back()["rewards/accuracies"], 1.0);
  EXPECT_GT(log.back()["rewards/margins"].get<double>(), 1.0);
  EXPECT_LT(log.back()["loss"].get<double>(), 0.3);
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/out/model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/out/vocab.json"));  // the tokenizer travels with the model
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/out/merges.txt"));
}

TEST(Train, sft_lowers_the_completion_nll) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_sft(dir.path + "/sft.jsonl", 8);
  auto run = run_codealign("train sft --model " + dir.path + "/model --data " + dir.path + "/sft.jsonl --out " + dir.path +
                           "/out --learning-rate 1e-2 --batch-size 4 --epochs 10 --lr-scheduler-type constant --warmup-ratio 0");
  ASSERT_EQ(run.status, 0) << run.output;
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 20u);
  EXPECT_NEAR(log.front()["loss"].get<double>(), std::log(50257.0), 0.1);  // a random model: uniform
  EXPECT_LT(log.back()["loss"].get<double>(), 0.3 * log.front()["loss"].get<double>());
}

TEST(Train, killed_run_resumes_to_identical_weights) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 16);
  std::string common = "train dpo --model " + dir.path + "/model --data " + dir.path +
                       "/pairs.jsonl --learning-rate 1e-3 --batch-size 2 --gradient-accumulation-steps 2 --epochs 3 "
                       "--save-steps 3 --out ";
  ASSERT_EQ(run_codealign(common + dir.path + "/whole").status, 0);
  // Kill -9 once checkpoint-6 exists, then resume.
  auto killed = run_command("(" + std::string(CODEALIGN_BINARY) + " " + common + dir.path + "/cut >/dev/null 2>&1 & pid=$!; "
                            "for i in $(seq 1500); do [ -d " + dir.path + "/cut/checkpoint-6 ] && break; sleep 0.02; done; "
                            "kill -9 $pid; wait $pid) 2>&1");
  ASSERT_TRUE(std::filesystem::exists(dir.path + "/cut/checkpoint-6"));
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/cut/model.safetensors"));
  auto resumed = run_codealign(common + dir.path + "/cut --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("train: resuming from " + dir.path + "/cut/checkpoint-"), std::string::npos) << resumed.output;
  EXPECT_EQ(read_file(dir.path + "/cut/model.safetensors"), read_file(dir.path + "/whole/model.safetensors"));
  EXPECT_EQ(metrics(dir.path + "/cut"), metrics(dir.path + "/whole"));
}

TEST(Train, lora_changes_only_adapters_and_exports_base_plus_scaled_BA) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 16);
  auto run = run_codealign("train dpo --model " + dir.path + "/model --data " + dir.path + "/pairs.jsonl --out " + dir.path +
                           "/out --learning-rate 5e-3 --batch-size 4 --epochs 3 --warmup-ratio 0 --lora-rank 4 --lora-alpha 8 "
                           "--lora-target-modules q_proj,v_proj,down_proj");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_GT(metrics(dir.path + "/out").back()["rewards/margins"].get<double>(), 0.0);
  auto base = model::CausalLM::load(dir.path + "/model");
  auto merged = model::CausalLM::load(dir.path + "/out");
  auto with_adapters = model::CausalLM::load(dir.path + "/model");
  with_adapters.load_adapters(dir.path + "/out/adapter");
  ASSERT_EQ(with_adapters.adapters().size(), 2u * 2 * 3);  // A and B, 2 layers, 3 modules
  size_t adapted = 0;
  for (const auto& [name, weight] : base.parameters()) {
    std::string module = name.substr(0, name.size() - 7);
    auto a = with_adapters.adapters().find(module + ".lora_A.weight");
    if (a == with_adapters.adapters().end()) {
      EXPECT_TRUE(torch::equal(merged.parameters().at(name), weight)) << name << " changed without an adapter";
      continue;
    }
    const auto& b = with_adapters.adapters().at(module + ".lora_B.weight");
    EXPECT_GT(b.abs().max().item<float>(), 0.0f) << module << ": B never trained";
    auto expected = weight + (8.0 / 4.0) * torch::matmul(b, a->second);
    EXPECT_TRUE(torch::allclose(merged.parameters().at(name), expected, 0, 1e-7)) << name;
    ++adapted;
  }
  EXPECT_EQ(adapted, 6u);
}

TEST(Train, sigint_saves_a_checkpoint_and_exits_130_and_a_config_file_sets_options) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 16);
  write_text(dir.path + "/run.toml", "learning-rate = 1e-3\nbatch-size = 2\nepochs = 40\nloss-type = \"ipo\"\n");
  auto run = run_command("(" + std::string(CODEALIGN_BINARY) + " train dpo --config " + dir.path + "/run.toml --model " + dir.path +
                         "/model --data " + dir.path + "/pairs.jsonl --out " + dir.path + "/out >/dev/null 2>&1 & pid=$!; "
                         "for i in $(seq 1500); do [ -s " + dir.path + "/out/metrics.jsonl ] && break; sleep 0.02; done; "
                         "kill -INT $pid; wait $pid; echo $?)");
  EXPECT_EQ(run.output, "130\n");
  auto log = metrics(dir.path + "/out");
  ASSERT_FALSE(log.empty());
  EXPECT_LT(log.size(), 320u);  // stopped early (40 epochs x 8 batches)
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/out/checkpoint-" + std::to_string(log.back()["step"].get<int>())));
  EXPECT_NEAR(log.front()["learning_rate"].get<double>(), 0.0, 1e-12);  // warm-up starts at 0, as in HF
  EXPECT_NEAR(log[1]["learning_rate"].get<double>(), 1e-3 / 32, 1e-9);  // 10% of 320 steps: 32 warm-up steps
}

TEST(Train, a_non_finite_loss_stops_the_run_naming_step_and_lines) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  auto broken = model::CausalLM::load(dir.path + "/model");
  broken.parameters().at("lm_head.weight")[5].fill_(std::nan(""));
  broken.save(dir.path + "/model");
  write_sft(dir.path + "/sft.jsonl", 2);
  auto run = run_codealign("train sft --model " + dir.path + "/model --data " + dir.path + "/sft.jsonl --out " + dir.path + "/out");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "codealign: error: training: loss is NaN at step 1 in the batch of " + dir.path + "/sft.jsonl lines 1, 2\n");
}

TEST(Train, malformed_data_is_named_by_file_and_line) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  auto error_for = [&](const std::string& lines, const char* mode = "dpo") {
    write_text(dir.path + "/bad.jsonl", lines);
    auto run = run_codealign(std::string("train ") + mode + " --model " + dir.path + "/model --data " + dir.path +
                             "/bad.jsonl --out " + dir.path + "/out --max-length 64");
    EXPECT_EQ(run.status, 1);
    return run.output;
  };
  std::string ok = R"({"prompt": "p", "chosen": "a", "rejected": "b"})" "\n";
  EXPECT_EQ(error_for(ok + R"({"prompt": "p", "chosen": "a"})" "\n"),
            "codealign: error: " + dir.path + "/bad.jsonl:2: field 'rejected' is missing\n");
  EXPECT_EQ(error_for(ok + ok + R"({"prompt": "p", "chosen": "", "rejected": "b"})" "\n"),
            "codealign: error: " + dir.path + "/bad.jsonl:3: field 'chosen' is empty\n");
  EXPECT_EQ(error_for(R"({"prompt": "p"})" "\n", "sft"), "codealign: error: " + dir.path + "/bad.jsonl:1: field 'completion' is missing\n");
  // A prompt longer than max_length is skipped and counted; with nothing left, training stops.
  std::string words;
  for (int i = 0; i < 100; ++i) words += " x";
  std::string long_prompt = R"({"prompt": ")" + words + R"(", "chosen": "a", "rejected": "b"})" "\n";
  std::string output = error_for(long_prompt);
  EXPECT_NE(output.find("train: skipped 1 example(s) of " + dir.path + "/bad.jsonl whose prompt leaves no room under max_length=64"),
            std::string::npos) << output;
  EXPECT_NE(output.find("no example of '" + dir.path + "/bad.jsonl' fits max_length=64"), std::string::npos) << output;
}

}  // namespace
}  // namespace codealign::testing
