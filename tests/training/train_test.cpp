// Training end to end through the CLI: DPO learns the preference, SFT lowers the NLL,
// a SIGKILLed run resumes to identical weights, and bad data is named by file:line. Runs are
// cut at a known step through the trainer's CODEALIGN_TEST_PAUSE_AFTER_STEP hook (it stops
// the process there), so no outcome depends on the machine's speed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/files.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "support/test_support.h"
#include "training/train_support.h"


namespace codealign::testing {
namespace {

namespace fs = std::filesystem;

// The run's metrics log, a JSON object per step. A missing log throws (the test fails), so
// that two runs that both failed to write one never compare equal.
std::vector<nlohmann::json> metrics(const std::string& out) {
  std::ifstream in(out + "/metrics.jsonl");
  if (!in) throw std::runtime_error("no metrics log in " + out);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Compared as bytes, without printing megabytes of weights when they differ.
bool same_bytes(const std::string& a, const std::string& b) { return read_file(a) == read_file(b); }

// The reference log-prob caches the trainer wrote in its output directory `out`.
std::vector<std::string> reference_caches(const std::string& out) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(out))
    if (entry.path().filename().string().rfind("reference-logps-", 0) == 0) found.push_back(entry.path().string());
  return found;
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

// bfloat16 on the CPU (autocast with float32 master weights) learns as float32 does, and the
// run reports its speed in train_results.json.
TEST(Train, bfloat16_mixed_precision_learns_the_preference_and_reports_its_speed) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 16);
  auto run = run_codealign("train dpo --model " + dir.path + "/model --data " + dir.path + "/pairs.jsonl --out " + dir.path +
                           "/out --learning-rate 2e-3 --batch-size 4 --epochs 8 --warmup-ratio 0 --beta 0.1 --dtype bfloat16");
  ASSERT_EQ(run.status, 0) << run.output;
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 32u);
  EXPECT_EQ(log.back()["rewards/accuracies"], 1.0);
  EXPECT_GT(log.back()["rewards/margins"].get<double>(), 1.0);
  auto results = nlohmann::json::parse(read_file(dir.path + "/out/train_results.json"));
  EXPECT_GT(results["train_runtime"].get<double>(), 0.0);
  EXPECT_NEAR(results["train_steps_per_second"].get<double>() * results["train_runtime"].get<double>(), 32.0, 1e-6);
  EXPECT_GT(results["train_tokens_per_second"].get<double>(), 0.0);
  EXPECT_FALSE(results.contains("peak_memory_gib"));  // a CPU run has no GPU peak
  // The saved weights are float32 (the master copy), as a float32 run saves them.
  auto saved = nlohmann::json::parse(read_file(dir.path + "/out/config.json"));
  EXPECT_EQ(saved["torch_dtype"], "float32");
  // LoRA over a bfloat16 base: float32 adapters train, the base stays as it was.
  auto lora = run_codealign("train dpo --model " + dir.path + "/model --data " + dir.path + "/pairs.jsonl --out " +
                            dir.path + "/lora --learning-rate 1e-2 --batch-size 4 --epochs 4 --warmup-ratio 0 --beta 0.1 " +
                            "--dtype bfloat16 --lora-rank 8 --gradient-checkpointing");
  ASSERT_EQ(lora.status, 0) << lora.output;
  auto lora_log = metrics(dir.path + "/lora");
  EXPECT_GT(lora_log.back()["rewards/margins"].get<double>(), 0.1);
  auto adapters = model::read_safetensors(dir.path + "/lora/adapter/adapter_model.safetensors");
  ASSERT_FALSE(adapters.empty());
  for (const auto& [name, tensor] : adapters) EXPECT_EQ(tensor.scalar_type(), torch::kFloat32) << name;
}

TEST(Train, float16_and_a_missing_gpu_are_refused_before_any_work) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 4);
  std::string base = "train dpo --model " + dir.path + "/model --data " + dir.path + "/pairs.jsonl --out " + dir.path + "/out";
  auto half = run_codealign(base + " --dtype float16");
  EXPECT_NE(half.status, 0);
  EXPECT_NE(half.output.find("codealign: error: training: --dtype float16 needs loss scaling, which codealign does not "
                             "do (use bfloat16)"),
            std::string::npos)
      << half.output;
  if (torch::cuda::is_available()) return;  // the rest is about machines without a GPU
  auto gpu = run_codealign(base + " --device cuda");
  EXPECT_EQ(gpu.status, 1) << gpu.output;  // an error, not a crash (which would be a signal)
  EXPECT_NE(gpu.output.find("codealign: error: --device cuda: torch sees no CUDA GPU"), std::string::npos) << gpu.output;
  auto generate = run_codealign("generate --model " + dir.path + "/model -p hi --device cuda:0");
  EXPECT_EQ(generate.status, 1) << generate.output;
  EXPECT_NE(generate.output.find("codealign: error: --device cuda:0: torch sees no CUDA GPU"), std::string::npos)
      << generate.output;
}

TEST(Train, a_reference_with_another_vocabulary_is_refused) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_chain_model(dir.path + "/reference", 1000, {1, 2});
  write_pairs(dir.path + "/pairs.jsonl", 4);
  auto run = run_codealign("train dpo --model " + dir.path + "/model --reference " + dir.path + "/reference --data " +
                           dir.path + "/pairs.jsonl --out " + dir.path + "/out");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.output.find("codealign: error: training: the reference '" + dir.path +
                            "/reference' has a vocabulary of 1000 tokens, the model '" + dir.path +
                            "/model' one of 50257; they must share a tokenizer"),
            std::string::npos)
      << run.output;
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
  // Each run has its own data file, so its own reference cache: the resumed run must compute
  // the reference from the base model it reloads, not read what another run wrote.
  write_pairs(dir.path + "/whole.jsonl", 16);
  write_pairs(dir.path + "/cut.jsonl", 16);
  auto args = [&](const std::string& name) {
    return "train dpo --model " + dir.path + "/model --data " + dir.path + "/" + name + ".jsonl --out " + dir.path + "/" +
           name + " --learning-rate 1e-3 --batch-size 2 --gradient-accumulation-steps 2 --epochs 3 --save-steps 3";
  };
  auto whole = run_codealign(args("whole"));
  ASSERT_EQ(whole.status, 0) << whole.output;
  ASSERT_EQ(metrics(dir.path + "/whole").size(), 12u);
  {
    // SIGKILL after step 7: checkpoint-6 is the newest, and the log has a line past it.
    PausedRun cut(args("cut"), "CODEALIGN_TEST_PAUSE_AFTER_STEP=7", dir.path + "/cut.log");
    ASSERT_TRUE(cut.paused()) << read_file(dir.path + "/cut.log");
    int status = cut.finish_with(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  ASSERT_TRUE(fs::exists(dir.path + "/cut/checkpoint-6"));
  EXPECT_FALSE(fs::exists(dir.path + "/cut/checkpoint-9"));
  EXPECT_FALSE(fs::exists(dir.path + "/cut/model.safetensors"));
  EXPECT_EQ(metrics(dir.path + "/cut").size(), 7u);
  auto caches = reference_caches(dir.path + "/cut");
  ASSERT_EQ(caches.size(), 1u);
  fs::remove(caches[0]);
  auto resumed = run_codealign(args("cut") + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("train: resuming from " + dir.path + "/cut/checkpoint-6 at step 6"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(reference_caches(dir.path + "/cut").size(), 1u);  // computed again, by the resumed run
  EXPECT_TRUE(same_bytes(dir.path + "/cut/model.safetensors", dir.path + "/whole/model.safetensors"));
  EXPECT_EQ(metrics(dir.path + "/cut"), metrics(dir.path + "/whole"));
}

TEST(Train, killed_lora_run_resumes_to_identical_adapters) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/whole.jsonl", 8);
  write_pairs(dir.path + "/cut.jsonl", 8);
  // Dropout on: the resumed run must also draw the same masks.
  auto args = [&](const std::string& name) {
    return "train dpo --model " + dir.path + "/model --data " + dir.path + "/" + name + ".jsonl --out " + dir.path + "/" +
           name + " --learning-rate 5e-3 --batch-size 2 --epochs 2 --save-steps 2 --lora-rank 4 --lora-alpha 8 "
           "--lora-dropout 0.1 --lora-target-modules q_proj,v_proj";
  };
  auto whole = run_codealign(args("whole"));
  ASSERT_EQ(whole.status, 0) << whole.output;
  ASSERT_EQ(metrics(dir.path + "/whole").size(), 8u);
  {
    PausedRun cut(args("cut"), "CODEALIGN_TEST_PAUSE_AFTER_STEP=5", dir.path + "/cut.log");
    ASSERT_TRUE(cut.paused()) << read_file(dir.path + "/cut.log");
    cut.finish_with(SIGKILL);
  }
  ASSERT_TRUE(fs::exists(dir.path + "/cut/checkpoint-4"));
  EXPECT_FALSE(fs::exists(dir.path + "/cut/model.safetensors"));
  auto resumed = run_codealign(args("cut") + " --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("train: resuming from " + dir.path + "/cut/checkpoint-4 at step 4"), std::string::npos)
      << resumed.output;
  EXPECT_TRUE(same_bytes(dir.path + "/cut/adapter/adapter_model.safetensors", dir.path + "/whole/adapter/adapter_model.safetensors"));
  EXPECT_TRUE(same_bytes(dir.path + "/cut/model.safetensors", dir.path + "/whole/model.safetensors"));
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
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 12u);
  EXPECT_GT(log.back()["rewards/margins"].get<double>(), 0.0);
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
  int status = 0;
  {
    // SIGINT arrives while the run is stopped after step 2 (its handler long installed), so
    // it stops after exactly that step.
    PausedRun run("train dpo --config " + dir.path + "/run.toml --model " + dir.path + "/model --data " + dir.path +
                      "/pairs.jsonl --out " + dir.path + "/out",
                  "CODEALIGN_TEST_PAUSE_AFTER_STEP=2", dir.path + "/run.log");
    ASSERT_TRUE(run.paused()) << read_file(dir.path + "/run.log");
    status = run.finish_with(SIGINT);
  }
  ASSERT_TRUE(WIFEXITED(status)) << read_file(dir.path + "/run.log");
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_file(dir.path + "/run.log");
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_TRUE(fs::exists(dir.path + "/out/checkpoint-2/trainer_state.json"));
  EXPECT_FALSE(fs::exists(dir.path + "/out/model.safetensors"));  // not a finished run
  EXPECT_NEAR(log[0]["learning_rate"].get<double>(), 0.0, 1e-12);  // warm-up starts at 0, as in HF
  EXPECT_NEAR(log[1]["learning_rate"].get<double>(), 1e-3 / 32, 1e-9);  // 10% of 320 steps: 32 warm-up steps
  // ipo from the config file: its loss at policy == reference is (0 - 1/(2 beta))^2 = 25.
  EXPECT_NEAR(log[0]["loss"].get<double>(), 25.0, 1e-4);
}

TEST(Train, a_stale_or_cut_reference_cache_is_computed_again) {
  TempDir dir;
  write_tiny_model(dir.path + "/a", 1);
  write_tiny_model(dir.path + "/b", 2);
  fs::create_directories(dir.path + "/data");
  write_pairs(dir.path + "/data/pairs.jsonl", 4);
  std::string out = dir.path + "/out";
  // At step 1 the policy is the reference, so the rewards are 0 only when the reference
  // log-probs are this model's, of these pairs.
  auto check_run = [&](const std::string& model) {
    auto run = run_codealign("train dpo --model " + dir.path + "/" + model + " --data " + dir.path +
                             "/data/pairs.jsonl --out " + out + " --batch-size 2 --max-steps 1");
    ASSERT_EQ(run.status, 0) << run.output;
    auto log = metrics(out);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_NEAR(log[0]["rewards/chosen"].get<double>(), 0.0, 1e-5) << model;
    EXPECT_NEAR(log[0]["rewards/rejected"].get<double>(), 0.0, 1e-5) << model;
  };
  check_run("a");
  check_run("b");  // a's cache in the same output directory is stale for b
  auto caches = reference_caches(out);
  ASSERT_EQ(caches.size(), 2u);
  // One cache cut mid-line (a full disk, a copy cut short), one short of lines with wrong values.
  std::string text = read_file(caches[0]);
  write_text(caches[0], text.substr(0, text.size() / 2 + 3));
  write_text(caches[1], R"({"chosen": -1.0, "rejected": -2.0})" "\n");
  check_run("a");
  check_run("b");
  for (const std::string& cache : reference_caches(out)) {
    std::string written = read_file(cache);
    EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 4) << cache;
  }
  // Nothing is written beside the data, which may be read-only or another stage's.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path + "/data"), fs::directory_iterator()), 1);
}

TEST(Train, the_last_step_of_an_uneven_accumulation_averages_the_micro_batches_it_has) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  // Identical examples: every micro-batch has the same loss and gradient at the same weights.
  std::string line = R"({"prompt": "def square(x):\n", "completion": "    return x * x\n"})" "\n";
  write_text(dir.path + "/three.jsonl", line + line + line);
  write_text(dir.path + "/two.jsonl", line + line);
  std::string common = "train sft --model " + dir.path + "/model --batch-size 1 --learning-rate 1e-3 "
                       "--lr-scheduler-type constant --warmup-ratio 0 --epochs 1";
  // 3 micro-batches, 2 per step: step 2 has one. Against 2 steps of one micro-batch each.
  auto uneven = run_codealign(common + " --gradient-accumulation-steps 2 --data " + dir.path + "/three.jsonl --out " +
                              dir.path + "/uneven");
  ASSERT_EQ(uneven.status, 0) << uneven.output;
  auto single = run_codealign(common + " --data " + dir.path + "/two.jsonl --out " + dir.path + "/single");
  ASSERT_EQ(single.status, 0) << single.output;
  auto got = metrics(dir.path + "/uneven"), expected = metrics(dir.path + "/single");
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(expected.size(), 2u);
  for (size_t i = 0; i < 2; ++i)
    for (const char* key : {"loss", "grad_norm"})
      EXPECT_NEAR(got[i][key].get<double>(), expected[i][key].get<double>(), 1e-6 * expected[i][key].get<double>())
          << "step " << i + 1 << " " << key;
  EXPECT_TRUE(same_bytes(dir.path + "/uneven/model.safetensors", dir.path + "/single/model.safetensors"));
}

TEST(Train, simpo_needs_no_reference_and_rewards_length_normalised_log_probs) {
  TempDir dir;
  write_tiny_model(dir.path + "/model");
  write_pairs(dir.path + "/pairs.jsonl", 4);
  auto run = run_codealign("train dpo --loss-type simpo --beta 2 --simpo-gamma 1 --model " + dir.path + "/model --data " +
                           dir.path + "/pairs.jsonl --out " + dir.path + "/out --batch-size 1 --max-steps 2");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(reference_caches(dir.path + "/out").empty());  // reference-free: none computed
  auto log = metrics(dir.path + "/out");
  ASSERT_EQ(log.size(), 2u);
  for (const auto& step : log) {
    // One pair per step; " a + b\n" and " a - b\n" are 4 tokens each, plus EOS.
    double chosen = step["rewards/chosen"].get<double>(), rejected = step["rewards/rejected"].get<double>();
    EXPECT_NEAR(chosen, 2 * step["logps/chosen"].get<double>() / 5, 1e-4);
    EXPECT_NEAR(rejected, 2 * step["logps/rejected"].get<double>() / 5, 1e-4);
    // SimPO eq. 6: -log sigmoid(beta (avg_w - avg_l) - gamma).
    EXPECT_NEAR(step["loss"].get<double>(), std::log1p(std::exp(-(chosen - rejected - 1.0))), 1e-5);
  }
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
