// `codealign align` end to end on CPU: stories260K (a real, tiny llama2.c model) writing Python
// comments, so that a sample passes unless it breaks out of its comment line, which gives
// mixed outcomes, pairs and RFT data within seconds.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "common/files.h"
#include "preferences/preferences.h"
#include "tasks/tasks.h"
#include "common/jsonl.h"
#include "pipeline/run_layout.h"
#include "report/browser.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace codealign::testing {
namespace {

namespace fs = std::filesystem;

const char* train_tasks =
    R"({"task_id": "t/0", "prompt": "x = 1\n#", "tests": ["assert x == 1"]})" "\n"
    R"({"task_id": "t/1", "prompt": "y = 2\n#", "tests": ["assert y == 2"]})" "\n"
    R"({"task_id": "t/2", "prompt": "z = 3\n#", "tests": ["assert z == 3"]})" "\n";
const char* eval_tasks = R"({"task_id": "e/0", "prompt": "w = 4\n#", "tests": ["assert w == 4"]})" "\n";

class Align : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir_.path + "/train.jsonl", train_tasks);
    write_text(dir_.path + "/eval.jsonl", eval_tasks);
  }
  // Two rounds of DPO and RFT into `run` (relative to the test's directory); `cache`: the
  // test's execution cache, or none.
  std::string align_args(const std::string& run, const std::string& extra = "", bool cache = true,
                         const std::string& methods = "dpo,rft") const {
    std::string stories = data_dir() + "/models/stories260K/";
    return "align -m " + stories + "stories260K.bin --tokenizer " + stories + "tok512.bin --train-tasks " + dir_.path +
           "/train.jsonl --eval " + dir_.path + "/eval.jsonl --method " + methods + " --rounds 2 --samples-per-task 8 " +
           "--max-new-tokens 48 --eval-max-new-tokens 32 -j 2 --train-max-length 128 --data-dir " + data_dir() +
           " --execution-cache '" + (cache ? dir_.path + "/executions.sqlite" : "") + "' -o " + dir_.path + "/" + run + " " +
           extra;
  }
  CommandResult align(const std::string& run, const std::string& extra = "", const std::string& methods = "dpo,rft") const {
    return run_codealign(align_args(run, extra, true, methods) + " 2>&1");
  }
  std::string path(const std::string& relative) const { return dir_.path + "/" + relative; }
  size_t jsonl_lines(const std::string& relative) const {
    size_t lines = 0;
    std::string file = path(relative);
    for_each_jsonl_line(file, read_file(file), [&](const JsonlLine& line) {
      parse_json_object(line);
      ++lines;
    });
    return lines;
  }
  Json json(const std::string& relative) const { return Json::parse(read_file(path(relative))); }
  std::vector<Json> lines_of(const std::string& relative) const {
    std::vector<Json> lines;
    for (const auto& line : read_jsonl(path(relative))) lines.push_back(line);
    return lines;
  }

  TempDir dir_;
};

TEST_F(Align, TwoRoundsOfDpoAndRftWriteEveryStage) {
  CommandResult result = align("run");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  EXPECT_EQ(summary["methods"], Json::parse(R"(["dpo", "rft"])"));
  ASSERT_EQ(summary["rounds"].size(), 3u);
  EXPECT_TRUE(summary["rounds"][0]["eval"].contains("eval"));
  EXPECT_EQ(jsonl_lines("run/round-0/eval/eval/samples.jsonl"), 1u);

  // Round 1: one set of samples from the shared starting model; round 2: one per method.
  EXPECT_EQ(summary["rounds"][1]["samples"].size(), 1u);
  EXPECT_TRUE(summary["rounds"][1]["samples"].contains("shared"));
  EXPECT_TRUE(summary["rounds"][2]["samples"].contains("dpo"));
  EXPECT_TRUE(summary["rounds"][2]["samples"].contains("rft"));
  using pipeline::RunLayout;
  for (const std::string base : {"run/round-1/shared", "run/round-2/dpo", "run/round-2/rft"}) {
    EXPECT_EQ(jsonl_lines((RunLayout::sample(base) / RunLayout::samples_file).string()), 24u) << base;
    EXPECT_EQ(jsonl_lines((RunLayout::execute(base) / RunLayout::results_file).string()), 24u) << base;
    Json stats = json(base + "/preferences/stage.json");
    EXPECT_EQ(jsonl_lines(base + "/preferences/pairs.jsonl"), stats["pairs"].get<size_t>()) << base;
    EXPECT_EQ(jsonl_lines(base + "/preferences/rft.jsonl"), stats["rft_examples"].get<size_t>()) << base;
  }
  Json shared = json("run/round-1/shared/preferences/stage.json");
  ASSERT_GT(shared["pairs"].get<size_t>(), 0u) << "the test needs mixed outcomes in round 1";
  std::string pairs = read_file(path("run/round-1/shared/preferences/pairs.jsonl"));
  Json pair = Json::parse(pairs.substr(0, pairs.find('\n')));
  for (const char* field : {"prompt", "chosen", "rejected", "chosen_ids", "rejected_ids", "task_id", "round", "model"})
    EXPECT_TRUE(pair.contains(field)) << field;

  for (int round = 1; round <= 2; ++round)
    for (const std::string method : {"dpo", "rft"}) {
      std::string base = "run/round-" + std::to_string(round) + "/" + method;
      const Json& record = summary["rounds"][round]["methods"][method];
      ASSERT_TRUE(record.contains("model")) << base << ": " << record.dump();
      EXPECT_TRUE(fs::exists(path(base + "/train/config.json"))) << base;
      EXPECT_GT(jsonl_lines(base + "/train/metrics.jsonl"), 0u) << base;
      EXPECT_TRUE(record["eval"]["eval"]["base"].contains("pass@1")) << base;
      EXPECT_EQ(jsonl_lines(base + "/eval/eval/results.jsonl"), 1u) << base;
    }
  EXPECT_NE(result.output.find("round  method          examples"), std::string::npos) << result.output;
  // Round 2's DPO starts from round 1's model, which is also its reference: no reward at step 1.
  EXPECT_EQ(lines_of("run/round-2/dpo/train/metrics.jsonl").at(0)["rewards/margins"], 0.0);

  // The sampling model is held across stages and loaded again only when another is asked for:
  // the starting model serves round 0's evaluation and round 1's samples with one load; then,
  // per method, each trained model once for its evaluation, and round 1's again for round 2's
  // samples (training in between released it).
  std::vector<std::string> loads;
  const std::string load = "align: load ";
  for (size_t at = result.output.find(load); at != std::string::npos; at = result.output.find(load, at + 1))
    loads.push_back(result.output.substr(at + load.size(), result.output.find(" for sampling", at) - at - load.size()));
  EXPECT_EQ(std::count(loads.begin(), loads.end(), data_dir() + "/models/stories260K/stories260K.bin"), 1) << result.output;
  for (size_t i = 1; i < loads.size(); ++i) EXPECT_NE(loads[i], loads[i - 1]) << result.output;
  EXPECT_EQ(loads.size(), 7u) << result.output;

  // Retention: each complete training keeps its exported weights and no checkpoint (whose
  // optimizer state alone is twice the weights): the run is about the size of its four models.
  uintmax_t run_bytes = 0, model_bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path("run"))) {
    EXPECT_NE(entry.path().filename().string().rfind("checkpoint-", 0), 0u) << entry.path();
    if (entry.is_regular_file()) run_bytes += entry.file_size();
    if (entry.path().filename() == "model.safetensors") model_bytes += entry.file_size();
  }
  EXPECT_EQ(model_bytes, 4 * fs::file_size(path("run/round-1/dpo/train/model.safetensors")));
  EXPECT_LT(run_bytes, model_bytes + 2'000'000) << "bytes outside the four trained models";

  // timeline.jsonl: the invocation's start (with the version) and end, and a line per stage.
  std::vector<Json> timeline = lines_of("run/timeline.jsonl");
  ASSERT_GE(timeline.size(), 2u);
  EXPECT_EQ(timeline.front()["event"], "start");
  EXPECT_EQ(timeline.front()["version"].get<std::string>().rfind("codealign ", 0), 0u) << timeline.front().dump();
  EXPECT_EQ(timeline.back()["event"], "end");
  size_t stages = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path("run"))) stages += entry.path().filename() == "stage.json";
  EXPECT_EQ(timeline.size(), stages + 2);
  for (size_t i = 1; i + 1 < timeline.size(); ++i) {
    EXPECT_TRUE(fs::exists(path("run/" + timeline[i]["stage"].get<std::string>() + "/stage.json"))) << timeline[i].dump();
    EXPECT_GE(timeline[i]["seconds"].get<double>(), 0.0);
  }
  EXPECT_NE(result.output.find("report: " + path("run/report.html") + "\n"), std::string::npos) << result.output;
}

TEST_F(Align, InitialReferenceAndSampledPassAtK) {
  CommandResult result = align("run", "--reference initial -t 1.5 --train-learning-rate 1e-3 --train-warmup-ratio 0 --eval-samples 4 --eval-k 1,2,10", "dpo");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  // The reference is the starting model, not round 1's: round 2 starts with rewards. (No
  // warm-up: round 1's single step would have a learning rate of 0.)
  ASSERT_TRUE(summary["rounds"][2]["methods"]["dpo"].contains("model")) << summary.dump();
  EXPECT_NE(lines_of("run/round-2/dpo/train/metrics.jsonl").at(0)["rewards/margins"], 0.0);

  const std::vector<std::pair<std::string, Json>> evaluated = {{"run/round-0", summary["rounds"][0]},
                                                                {"run/round-1/dpo", summary["rounds"][1]["methods"]["dpo"]},
                                                                {"run/round-2/dpo", summary["rounds"][2]["methods"]["dpo"]}};
  for (const auto& [base, record] : evaluated) {
    std::vector<Json> results = lines_of(base + "/eval-sampled/eval/results.jsonl");
    ASSERT_EQ(results.size(), 4u) << base;
    ASSERT_EQ(lines_of(base + "/eval/eval/results.jsonl").size(), 1u) << base;  // greedy as before
    double passed = 0;
    for (const Json& r : results) passed += r["passed"].get<bool>();
    const Json& sampled = record["eval_sampled"]["eval"]["base"];
    EXPECT_DOUBLE_EQ(sampled["pass@1"].get<double>(), passed / 4) << base;
    EXPECT_TRUE(sampled.contains("pass@2")) << base;
    EXPECT_FALSE(sampled.contains("pass@10")) << base << ": only k up to the samples per task";
  }
  EXPECT_NE(result.output.find("eval pass@1  eval pass@1 (sampled)  eval pass@2 (sampled)"), std::string::npos)
      << result.output;
  // The run's report in a real browser: not blank, every section, and summary.json's numbers.
  expect_report_renders(path("run"));
}

// GRPO on the round's samples: each task's 8 samples are one group, rewarded by CodeRL's
// coarse rule from their verdicts, and training logs TRL's reward metrics under that name.
TEST_F(Align, GrpoTrainsOnEachTasksSamplesAsAGroupRewardedByItsVerdicts) {
  CommandResult result = align("run", "--reward coarse --train-learning-rate 1e-4 --train-warmup-ratio 0", "grpo");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  ASSERT_TRUE(summary["rounds"][1]["methods"]["grpo"].contains("model")) << summary.dump();
  EXPECT_EQ(summary["rounds"][1]["methods"]["grpo"]["examples"], 3);
  const std::map<std::string, double> coarse = {{"passed", 1.0},         {"failed", -0.3},  {"syntax_error", -1.0},
                                                {"runtime_error", -0.6}, {"timeout", -0.6}, {"crashed", -0.6},
                                                {"out_of_memory", -0.6}};
  std::vector<Json> groups = lines_of("run/round-1/shared/preferences/groups.jsonl");
  ASSERT_EQ(groups.size(), 3u);
  std::set<double> rewards;
  for (const Json& group : groups) {
    ASSERT_EQ(group["completions"].size(), 8u) << group.dump();
    for (const Json& completion : group["completions"]) {
      EXPECT_EQ(completion["reward"].get<double>(), coarse.at(completion["verdict"].get<std::string>())) << completion.dump();
      EXPECT_TRUE(completion.contains("completion_ids")) << completion.dump();
      rewards.insert(completion["reward"].get<double>());
    }
  }
  EXPECT_GT(rewards.size(), 1u) << "the test needs outcomes that differ";
  std::vector<Json> metrics = lines_of("run/round-1/grpo/train/metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  for (const char* key : {"reward", "reward_std", "rewards/coarse/mean", "frac_reward_zero_std", "entropy",
                          "completions/mean_length", "clip_ratio/region_mean", "grad_norm"})
    EXPECT_TRUE(metrics[0].contains(key)) << key << ": " << metrics[0].dump();
  std::string report = read_file(path("run/report.html"));
  for (const char* chart : {"grpo: reward", "grpo: entropy", "grpo: clip_ratio/region_mean"})
    EXPECT_NE(report.find(chart), std::string::npos) << chart;
}

TEST_F(Align, OffPolicyDpoTrainsEachRoundOnPairsFromAnotherModelsSamples) {
  // Another model's samples: one passes, one fails its assertion, one does not parse.
  std::string samples;
  for (const char* task : {"t/0", "t/1", "t/2"})
    for (const char* completion : {" fine", " oops\nx = y = z = 0", " oops\n)"})
      samples += Json{{"task_id", task}, {"completion", completion}, {"completion_ids", {5, 6, 7}}}.dump() + "\n";
  write_text(path("other.jsonl"), samples);
  CommandResult result = align("run", "--off-policy-samples " + path("other.jsonl"), "dpo,rft,dpo-off-policy");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  EXPECT_EQ(summary["methods"], Json::parse(R"(["dpo", "rft", "dpo-off-policy"])"));

  pipeline::RunLayout run{"run"};
  std::vector<Json> copied = lines_of((pipeline::RunLayout::sample(run.off_policy()) / "samples.jsonl").string());
  ASSERT_EQ(copied.size(), 9u);
  for (const Json& line : copied) EXPECT_FALSE(line.contains("completion_ids")) << line.dump();  // not the policy's ids
  std::vector<Json> pairs = lines_of("run/off-policy/preferences/pairs.jsonl");
  ASSERT_EQ(pairs.size(), 3u);  // best-worst: one per task
  for (const Json& pair : pairs) {
    EXPECT_EQ(pair["chosen"], " fine");
    EXPECT_EQ(pair["rejected"], " oops\n)");
    EXPECT_EQ(pair["rejected_verdict"], "syntax_error");
    EXPECT_EQ(pair["model"], path("other.jsonl"));
    EXPECT_FALSE(pair.contains("chosen_ids"));
  }
  for (int round = 1; round <= 2; ++round) {
    const Json& record = summary["rounds"][round];
    EXPECT_EQ(record["samples"]["off-policy"]["pairs"], 3) << round;
    EXPECT_EQ(record["methods"]["dpo-off-policy"]["model"], "round-" + std::to_string(round) + "/dpo-off-policy/train");
    EXPECT_EQ(lines_of("run/round-" + std::to_string(round) + "/dpo-off-policy/train/metrics.jsonl").size(), 1u);
  }
  // On-policy DPO and RFT still share their round-1 samples.
  EXPECT_TRUE(summary["rounds"][1]["samples"].contains("shared"));
  EXPECT_EQ(summary["rounds"][1]["samples"].size(), 2u);
  EXPECT_NE(result.output.find("\n1      dpo-off-policy  3 "), std::string::npos) << result.output;
}

// rft-dpo: RFT on the shared round-1 samples (the same data as rft's), then DPO on fresh samples
// of its own RFT model, against that model (the round's reference).
TEST_F(Align, SftChosenTrainsSftOnTheChosenSideOfEachPair) {
  CommandResult result = align("run", "", "dpo,sft-chosen");
  ASSERT_EQ(result.status, 0) << result.output;
  std::vector<Json> pairs = lines_of("run/round-1/shared/preferences/pairs.jsonl");
  std::vector<Json> chosen = lines_of("run/round-1/shared/preferences/chosen.jsonl");
  ASSERT_FALSE(pairs.empty());
  ASSERT_EQ(chosen.size(), pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(chosen[i]["prompt"], pairs[i]["prompt"]);
    EXPECT_EQ(chosen[i]["completion"], pairs[i]["chosen"]);
    EXPECT_EQ(chosen[i]["completion_ids"], pairs[i]["chosen_ids"]);
  }
  Json summary = json("run/summary.json");
  EXPECT_EQ(summary["rounds"][1]["methods"]["sft-chosen"]["examples"], pairs.size());
  std::vector<Json> metrics = lines_of("run/round-1/sft-chosen/train/metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  EXPECT_FALSE(metrics[0].contains("rewards/margins")) << "SFT, not DPO: " << metrics[0].dump();
}

TEST_F(Align, RftDpoTrainsRftThenDpoOnItsOwnSamples) {
  CommandResult result = align("run", "", "rft,rft-dpo");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  const Json& first = summary["rounds"][1];
  EXPECT_EQ(first["samples"].size(), 1u) << "both sample the starting model in round 1: " << first.dump();
  EXPECT_EQ(first["methods"]["rft-dpo"]["examples"], first["samples"]["shared"]["rft_examples"]);
  std::vector<Json> round1 = lines_of("run/round-1/rft-dpo/train/metrics.jsonl");
  ASSERT_FALSE(round1.empty());
  EXPECT_FALSE(round1[0].contains("rewards/margins")) << "round 1 is SFT: " << round1[0].dump();
  const Json& second = summary["rounds"][2];
  ASSERT_TRUE(second["samples"].contains("rft-dpo")) << "its own policy's samples in round 2: " << second.dump();
  EXPECT_EQ(second["methods"]["rft-dpo"]["examples"], second["samples"]["rft-dpo"]["pairs"]);
  if (second["methods"]["rft-dpo"].contains("model")) {
    std::vector<Json> round2 = lines_of("run/round-2/rft-dpo/train/metrics.jsonl");
    ASSERT_FALSE(round2.empty());
    EXPECT_TRUE(round2[0].contains("rewards/margins")) << "round 2 is DPO: " << round2[0].dump();
    EXPECT_EQ(round2[0]["rewards/margins"], 0.0) << "the reference is the policy it starts from, the RFT model";
  }
  std::string one_round = align_args("run2", "", true, "rft-dpo");
  one_round.replace(one_round.find(" --rounds 2 "), 12, " --rounds 1 ");
  result = run_codealign(one_round + " 2>&1");
  EXPECT_NE(result.output.find("codealign: error: align: method rft-dpo trains RFT in round 1 and DPO from round 2: "
                               "it needs --rounds 2 or more"),
            std::string::npos)
      << result.output;
}

TEST_F(Align, OffPolicyAndReferenceMistakesAreNamed) {
  write_text(path("other.jsonl"), R"({"task_id": "t/0", "completion": " a"})" "\n" R"({"task_id": "t/9", "completion": " b"})" "\n");
  CommandResult result = align("run", "--off-policy-samples " + path("other.jsonl"), "dpo-off-policy");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("codealign: error: " + path("other.jsonl") + ":2: unknown task_id 't/9' for benchmark 'train'"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(path("run/round-0"))) << "nothing runs before the check";
  result = align("run2", "", "dpo-off-policy");
  EXPECT_NE(result.output.find("codealign: error: align: method dpo-off-policy needs --off-policy-samples (another "
                               "model's samples of the training tasks)"),
            std::string::npos)
      << result.output;
  result = align("run3", "--off-policy-samples " + path("other.jsonl"));
  EXPECT_NE(result.output.find("codealign: error: align: --off-policy-samples is used by method dpo-off-policy only; "
                               "add it to --method"),
            std::string::npos)
      << result.output;
  // Modes are checked where they enter, by the command line, naming the valid values.
  result = align("run4", "--reference first");
  EXPECT_NE(result.output.find("--reference: first not in {round,initial}"), std::string::npos) << result.output;
  result = align("run5", "", "dpo,ppo");
  EXPECT_NE(result.output.find("--method: ppo not in {dpo,rft,grpo,rft-dpo,dpo-off-policy,sft-chosen}"), std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(path("run5"))) << "refused before the run directory was made";
}

TEST_F(Align, ARoundWithoutTrainingDataIsRecordedAndTheRunGoesOnOrStops) {
  // An unterminated string: every sample is a syntax error, so no pair and no RFT example.
  write_text(path("train.jsonl"), R"({"task_id": "s/0", "prompt": "s = \"\"\"", "tests": ["assert True"]})" "\n");
  CommandResult result = align("run");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("align: round 1: no pairs for dpo; its policy stays as it was"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("align: round 1: no RFT examples for rft; its policy stays as it was"), std::string::npos)
      << result.output;
  Json summary = json("run/summary.json");
  ASSERT_EQ(summary["rounds"].size(), 3u);
  const Json& round1 = summary["rounds"][1];
  EXPECT_EQ(round1["samples"]["shared"]["tasks_none_pass"], 1);
  EXPECT_EQ(round1["samples"]["shared"]["verdicts"]["syntax_error"], 8);
  EXPECT_EQ(round1["methods"]["dpo"], Json::parse(R"({"examples": 0, "skipped": "no training data"})"));
  EXPECT_EQ(round1["methods"]["rft"], Json::parse(R"({"examples": 0, "skipped": "no training data"})"));
  EXPECT_TRUE(summary["rounds"][2]["samples"].contains("shared")) << "both policies are still the starting model";

  result = align("stopped", "--stop-on-empty-round");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("align: round 1 gave no training data; stopping (stop_on_empty_round)"),
            std::string::npos)
      << result.output;
  EXPECT_EQ(json("stopped/summary.json")["rounds"].size(), 2u);
}

// Real MBPP training tasks: stories260K first learns three of them by heart (SFT on their
// reference solutions; greedy then reproduces them, and at temperature 1.5 some samples break:
// mixed outcomes), then two rounds of DPO and RFT sample whole programs for MBPP's prompts and
// run MBPP's asserts. The SFT rate is one that fits reliably: at 1e-2 whether greedy reproduced
// the solutions depended on float rounding (fused and per-tensor AdamW ended apart).
TEST_F(Align, TwoRoundsOnMbppTrainTasks) {
  const std::string train = "mbpp:train[211:214]";  // tasks 812-814: short enough for its 512 positions
  std::string sft;
  for (const tasks::Task& task : tasks::load_task_source(train, data_dir()).tasks)
    sft += Json{{"prompt", task.prompt}, {"completion", task.canonical_solution}}.dump() + "\n";
  write_text(path("sft.jsonl"), sft);
  std::string stories = data_dir() + "/models/stories260K/";
  CommandResult learned = run_codealign("train sft -m " + stories + "stories260K.bin --tokenizer " + stories +
                                        "tok512.bin -d " + path("sft.jsonl") + " -o " + path("sft") +
                                        " --epochs 100 --batch-size 3 --learning-rate 3e-3 --warmup-ratio 0 "
                                        "--lr-scheduler-type constant --max-length 400 2>&1");
  ASSERT_EQ(learned.status, 0) << learned.output;

  CommandResult result = run_codealign(
      "align -m " + path("sft") + " --tokenizer " + stories + "tok512.bin --train-tasks '" + train +
      "' --eval 'mbpp:validation[:2]' --method dpo,rft --rounds 2 --samples-per-task 8 -t 1.5 --max-new-tokens 128 "
      "--eval-max-new-tokens 128 -j 2 --train-max-length 400 --data-dir " + data_dir() + " --execution-cache '' -o " +
      path("run") + " 2>&1");
  ASSERT_EQ(result.status, 0) << result.output;
  Json summary = json("run/summary.json");
  EXPECT_EQ(summary["methods"], Json::parse(R"(["dpo", "rft"])"));
  EXPECT_EQ(summary["train_tasks"], train);
  Json shared = json("run/round-1/shared/preferences/stage.json");
  ASSERT_GT(shared["pairs"].get<size_t>(), 0u) << shared.dump();
  ASSERT_GT(shared["rft_examples"].get<size_t>(), 0u) << shared.dump();

  // Every stage of both rounds is complete, and every file it wrote parses.
  std::vector<std::string> stages = {"round-0/eval/mbpp-validation-0-2"};
  for (const std::string sampled : {"round-1/shared", "round-2/dpo", "round-2/rft"})
    for (const char* stage : {"/sample", "/execute", "/preferences"}) stages.push_back(sampled + stage);
  for (const char* round : {"round-1", "round-2"})
    for (const char* method : {"/dpo", "/rft"})
      for (const char* stage : {"/train", "/eval/mbpp-validation-0-2"}) stages.push_back(round + std::string(method) + stage);
  for (const std::string& stage : stages) EXPECT_TRUE(fs::exists(path("run/" + stage + "/stage.json"))) << stage;
  size_t jsonl_files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path("run"))) {
    std::string file = entry.path().string();
    if (file.ends_with(".json")) {
      EXPECT_NO_THROW(Json::parse(read_file(file))) << file;
    } else if (file.ends_with(".jsonl")) {
      EXPECT_NO_THROW(read_jsonl(file)) << file;
      ++jsonl_files;
    }
  }
  EXPECT_GT(jsonl_files, 20u);
  // MBPP's own tests judged the whole programs, and the pairs show MBPP's prompts.
  for (const Json& line : lines_of("run/round-1/shared/execute/results.jsonl")) EXPECT_EQ(line["tests_total"], 3);
  size_t chosen_passed = 0;
  for (const Json& pair : lines_of("run/round-1/shared/preferences/pairs.jsonl")) {
    EXPECT_EQ(pair["prompt"].get<std::string>().rfind("You are an expert Python programmer, and here is your task: ", 0), 0u);
    chosen_passed += pair["chosen_verdict"] == "passed";
  }
  EXPECT_GT(chosen_passed, 0u);
}

// Competitive-programming tasks (stdin/stdout tests, docs/FORMATS.md) feed the rounds as any
// other: the programs read their input and print, and a comment that breaks its line fails.
TEST_F(Align, StdinStdoutTasksFeedTheRounds) {
  std::string tasks;
  for (int add : {1, 2, 3})
    tasks += Json{{"task_id", "io/" + std::to_string(add)},
                  {"prompt", "print(int(input()) + " + std::to_string(add) + ")\n#"},
                  {"tests", {{{"input", "1\n"}, {"output", std::to_string(1 + add) + "\n"}},
                             {{"input", "40"}, {"output", std::to_string(40 + add)}}}}}
                 .dump() +
             "\n";
  write_text(path("train.jsonl"), tasks);
  CommandResult result = align("run", "-t 1.5 --keep-checkpoints 1", "dpo");
  ASSERT_EQ(result.status, 0) << result.output;
  for (const char* train : {"run/round-1/dpo/train", "run/round-2/dpo/train"}) {
    std::vector<std::string> kept;
    for (const auto& entry : fs::directory_iterator(path(train)))
      if (entry.path().filename().string().rfind("checkpoint-", 0) == 0) kept.push_back(entry.path().filename().string());
    EXPECT_EQ(kept.size(), 1u) << train;  // the newest, which is the last step's
    if (kept.size() == 1) EXPECT_TRUE(fs::exists(path(train) + "/" + kept[0] + "/optimizer.pt")) << train;
  }
  std::vector<Json> results = lines_of("run/round-1/shared/execute/results.jsonl");
  ASSERT_EQ(results.size(), 24u);
  std::map<std::string, int> verdicts;
  for (const Json& line : results) {
    EXPECT_EQ(line["tests_total"], 2) << line.dump();
    ++verdicts[line["verdict"].get<std::string>()];
  }
  EXPECT_GT(verdicts["passed"], 0) << result.output;
  Json shared = json("run/round-1/shared/preferences/stage.json");
  EXPECT_GT(shared["pairs"].get<size_t>(), 0u) << shared.dump();
  EXPECT_TRUE(fs::exists(path("run/round-1/dpo/train/model.safetensors")));
}

TEST_F(Align, ResumeRedoesOnlyWhatIsMissingAndGivesTheSameFiles) {
  ASSERT_EQ(align("run").status, 0);
  std::string pairs = read_file(path("run/round-2/dpo/preferences/pairs.jsonl"));
  std::string model = read_file(path("run/round-2/dpo/train/model.safetensors"));
  std::string summary = read_file(path("run/summary.json"));
  // As if killed in round 2: its DPO training, the evaluations after it and the summary undone.
  fs::remove(path("run/round-2/dpo/preferences/stage.json"));
  fs::remove(path("run/round-2/dpo/preferences/pairs.jsonl"));
  fs::remove(path("run/round-2/dpo/train/stage.json"));
  fs::remove_all(path("run/round-2/dpo/eval"));
  fs::remove(path("run/summary.json"));

  CommandResult refused = align("run");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("codealign: error: align: run directory '" + path("run") +
                                "' is not empty (hint: --resume to continue it, or a new --out)"),
            std::string::npos)
      << refused.output;
  CommandResult changed = align("run", "--resume --train-beta 0.2");
  EXPECT_NE(changed.status, 0);
  EXPECT_NE(changed.output.find("align: the options differ from those the run in '" + path("run") + "' started with"),
            std::string::npos)
      << changed.output;

  // A report that cannot be written (a directory is in its way) leaves the run complete.
  fs::remove(path("run/report.html"));
  fs::create_directories(path("run/report.html/in-the-way"));
  CommandResult resumed = align("run", "--resume");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("codealign: warning: the run is complete, but its report was not written: io: cannot "
                                "write '" + path("run/report.html") + "'"),
            std::string::npos)
      << resumed.output;
  EXPECT_EQ(resumed.output.find("round 1: sample"), std::string::npos) << "round 1 was complete:\n" << resumed.output;
  EXPECT_EQ(read_file(path("run/round-2/dpo/preferences/pairs.jsonl")), pairs);
  EXPECT_EQ(read_file(path("run/round-2/dpo/train/model.safetensors")), model);
  EXPECT_EQ(read_file(path("run/summary.json")), summary);
}

// The files a run ends with that do not hold wall times: samples, pairs, RFT data, trained
// weights, stage markers and the summary; and no temporary file anywhere.
std::map<std::string, std::string> outcome_files(const std::string& run) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(run)) {
    std::string name = entry.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) files["temporary " + entry.path().string()] = "";
    if (!entry.is_regular_file() || entry.path().string().find("/checkpoint-") != std::string::npos) continue;
    if (name == "samples.jsonl" || name == "pairs.jsonl" || name == "rft.jsonl" || name == "model.safetensors" ||
        name == "stage.json" || name == "summary.json" || name == "config.toml" || name == "settings.json")
      files[fs::relative(entry.path(), run).string()] = read_file(entry.path().string());
  }
  return files;
}

// SIGKILL in the middle of a stage, then --resume: the same files as a run never cut.
TEST_F(Align, KilledDuringSamplingExecutionOrTrainingResumesToTheSameFiles) {
  // The executions cached by one run would let the next skip the stage being cut: none here.
  auto align_uncached = [&](const std::string& run, const std::string& extra) {
    return run_codealign(align_args(run, extra + " --batch 1", false) + " 2>&1");
  };
  ASSERT_EQ(align_uncached("whole", "").status, 0);
  auto expected = outcome_files(path("whole"));
  ASSERT_GT(expected.size(), 30u);
  // Sampling round 1 after its first batch, executing it before its results are written, and
  // training (round 1's RFT: 3 steps) after step 2.
  const std::vector<std::string> pauses = {"CODEALIGN_TEST_PAUSE_AT=sample:train", "CODEALIGN_TEST_PAUSE_AT=execute:train",
                                           "CODEALIGN_TEST_PAUSE_AFTER_STEP=2"};
  for (size_t i = 0; i < pauses.size(); ++i) {
    const std::string& pause = pauses[i];
    std::string run = "cut-" + std::to_string(i);
    {
      PausedRun cut(align_args(run, "--batch 1", false), pause, path(run + ".log"));
      ASSERT_TRUE(cut.paused()) << pause << ": " << read_file(path(run + ".log"));
      int status = cut.finish_with(SIGKILL);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << pause;
    }
    EXPECT_FALSE(fs::exists(path(run + "/summary.json"))) << pause;
    CommandResult resumed = align_uncached(run, "--resume");
    ASSERT_EQ(resumed.status, 0) << pause << ": " << resumed.output;
    auto files = outcome_files(path(run));
    EXPECT_EQ(files.size(), expected.size()) << pause;
    for (const auto& [name, bytes] : expected)
      EXPECT_TRUE(files.count(name) && files[name] == bytes) << pause << ": " << name << " differs or is missing";
    for (const auto& [name, bytes] : files) EXPECT_TRUE(expected.count(name)) << pause << ": extra " << name;
  }
}

// "align: execution cache: C of J jobs ..." -> {C, J}
std::pair<int, int> cache_use(const std::string& output) {
  size_t at = output.find("align: execution cache: ");
  int cached = -1, jobs = -1;
  if (at != std::string::npos) std::sscanf(output.c_str() + at, "align: execution cache: %d of %d", &cached, &jobs);
  return {cached, jobs};
}

TEST_F(Align, AnotherRunOfTheSameProgramsRunsNothingAndWritesTheSameFiles) {
  CommandResult first = align("run");
  ASSERT_EQ(first.status, 0) << first.output;
  int jobs = cache_use(first.output).second;  // programs repeated within the run were cached already
  EXPECT_GT(jobs, 70) << first.output;          // 3 x 24 on-policy samples and 5 greedy evaluations
  CommandResult second = align("again");
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(cache_use(second.output), std::make_pair(jobs, jobs)) << second.output;
  EXPECT_EQ(read_file(path("again/summary.json")), read_file(path("run/summary.json")));
  EXPECT_EQ(read_file(path("again/round-2/rft/preferences/pairs.jsonl")),
            read_file(path("run/round-2/rft/preferences/pairs.jsonl")));
}

TEST_F(Align, EvaluationTasksThatOverlapTrainingAreRefused) {
  write_text(path("eval.jsonl"), std::string(eval_tasks) +
                                     R"({"task_id": "other", "prompt": "Y = 2 \n#", "tests": ["assert Y == 2"]})" "\n" +
                                     R"({"task_id": "t/0", "prompt": "anything", "tests": ["assert True"]})" "\n");
  CommandResult result = align("run");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("codealign: error: align: 2 evaluation task(s) overlap the training tasks '" +
                               path("train.jsonl") + "'; the first:\n"
                               "  eval 'other' (the same prompt as training task 't/1')\n"
                               "  eval 't/0' (the same id as training task 't/0')"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(path("run/round-0"))) << "nothing runs before the check";
}

TEST_F(Align, AModelWithoutItsTokenizerIsRefusedBeforeAnythingRuns) {
  fs::create_directories(path("bare"));
  write_text(path("bare/config.json"), "{}");
  CommandResult result = run_codealign("align -m " + path("bare") + " --train-tasks " + path("train.jsonl") + " --eval " +
                                       path("eval.jsonl") + " --execution-cache '' -o " + path("run") + " 2>&1");
  EXPECT_NE(result.output.find("codealign: error: tokenizer: directory '" + path("bare") +
                               "' has no tokenizer.json, tokenizer.model or vocab.json"),
            std::string::npos)
      << result.output;
  EXPECT_FALSE(fs::exists(path("run/round-0")));
  std::string stories = data_dir() + "/models/stories260K/stories260K.bin";
  result = run_codealign("align -m " + stories + " --train-tasks " + path("train.jsonl") + " --eval " +
                         path("eval.jsonl") + " --execution-cache '' -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find("codealign: error: align: the model '" + stories +
                               "' is a file (llama2.c): pass --tokenizer (its tok*.bin)"),
            std::string::npos)
      << result.output;
}

TEST_F(Align, ConfigFileSetsOptionsByTableAndNamesItsMistakes) {
  write_text(path("run.toml"), "rounds = 1\n[sampling]\ntemperature = 0.5\n[train]\nbeta = 0.25\nlora_rank = 4\n"
                               "[tasks]\neval = [\"nonesuch\"]\n");
  // The run stops at the unknown evaluation set, after writing the options it resolved.
  CommandResult result = run_codealign("align -m model --config " + path("run.toml") + " -o " + path("run") + " 2>&1");
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("unknown benchmark 'nonesuch'"), std::string::npos) << result.output;
  std::string options = read_file(path("run/config.toml"));
  for (const char* line : {"rounds=1\n", "temperature=0.5\n", "train-beta=0.25\n", "train-lora-rank=4\n", "eval=\"nonesuch\"\n"})
    EXPECT_NE(options.find(line), std::string::npos) << line << " not in:\n" << options;

  write_text(path("bad.toml"), "rounds = 1\n\n[train]\nbetta = 0.1\n");
  result = run_codealign("align -m model --config " + path("bad.toml") + " -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find("codealign: error: " + path("bad.toml") +
                               ":4: unknown option 'train-betta' (did you mean 'train-beta'?) (see codealign align --help)"),
            std::string::npos)
      << result.output;
  write_text(path("bad.toml"), "[sampling]\ntemperature = \"hot\"\n");
  result = run_codealign("align -m model --config " + path("bad.toml") + " -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find(path("bad.toml") + ":2: bad value for 'temperature'"), std::string::npos) << result.output;
  write_text(path("bad.toml"), "[sampeling]\ntemperature = 1\n");
  result = run_codealign("align -m model --config " + path("bad.toml") + " -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find(path("bad.toml") + ":1: unknown table [sampeling] (did you mean 'sampling'?)"),
            std::string::npos)
      << result.output;
  write_text(path("bad.toml"), "rounds = 1\nresume = []\n");
  result = run_codealign("align -m model --config " + path("bad.toml") + " -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find(path("bad.toml") + ":2: 'resume' is an empty list; give it a value or leave it out"),
            std::string::npos)
      << result.output;
  write_text(path("bad.toml"), "rounds = = 1\n");
  result = run_codealign("align -m model --config " + path("bad.toml") + " -o " + path("run2") + " 2>&1");
  EXPECT_NE(result.output.find(path("bad.toml") + ":1: "), std::string::npos) << result.output;
}

// `codealign demo` is align with the built-in model, tasks and settings: a reduced one (fewer
// tasks, samples and steps) runs end to end with no benchmark data at hand, as in a fresh clone.
TEST_F(Align, AReducedDemoRunsEndToEndWithoutOutsideDataAndItsReportRenders) {
  std::string data = std::getenv("CODEALIGN_DATA_DIR") ? std::getenv("CODEALIGN_DATA_DIR") : "";
  unsetenv("CODEALIGN_DATA_DIR");
  CommandResult result = run_codealign(
      "demo --out " + path("demo") + " --train-tasks 'builtin:train[:12]' --eval 'builtin:heldout[:10]' " +
      "--samples-per-task 4 --eval-samples 2 --train-max-steps 2 -j 2 --execution-cache '' 2>&1");
  if (!data.empty()) setenv("CODEALIGN_DATA_DIR", data.c_str(), 1);
  ASSERT_EQ(result.status, 0) << result.output;

  Json summary = json("demo/summary.json");
  EXPECT_EQ(summary["methods"], Json::parse(R"(["dpo", "rft"])"));
  ASSERT_EQ(summary["rounds"].size(), 2u);
  for (const std::string method : {"dpo", "rft"}) {
    const Json& record = summary["rounds"][1]["methods"][method];
    // Two epochs of batches of 8 (the demo's), at most --train-max-steps of them.
    size_t batches = (record["examples"].get<size_t>() + 7) / 8;
    ASSERT_GT(batches, 0u) << "the test needs training data: " << record.dump();
    EXPECT_EQ(jsonl_lines("demo/round-1/" + method + "/train/metrics.jsonl"), std::min<size_t>(2 * batches, 2)) << method;
    EXPECT_TRUE(record["eval_sampled"]["builtin:heldout[:10]"]["base"].contains("pass@1")) << record.dump();
  }
  EXPECT_EQ(jsonl_lines("demo/round-1/shared/execute/results.jsonl"), 48u);
  // DPO's held-out pairs come from the base's sampled evaluation (tasks no stage trains on), and
  // the last step's line says what training did to them.
  auto judged = preferences::read_judged(path("demo/round-0/eval-sampled/builtin-heldout-0-10/samples.jsonl"),
                                         path("demo/round-0/eval-sampled/builtin-heldout-0-10/results.jsonl"),
                                         tasks::load_task_source("builtin:heldout[:10]", ""));
  size_t heldout = preferences::make_pairs(judged, preferences::PairConfig{}).pairs.size();
  ASSERT_GT(heldout, 0u) << "the test needs evaluation samples that pass and fail on some task";
  EXPECT_EQ(jsonl_lines("demo/round-1/dpo/train/heldout-pairs.jsonl"), heldout);
  std::vector<Json> metrics = lines_of("demo/round-1/dpo/train/metrics.jsonl");
  for (const char* key : {"eval_loss", "eval_rewards/accuracies", "eval_logps/chosen_change", "eval_chosen_fell", "eval_kl"})
    EXPECT_TRUE(metrics.back().contains(key)) << key << " not in " << metrics.back().dump();
  // The demo's own defaults, not align's, are what ran and what config.toml records.
  std::string options = read_file(path("demo/config.toml"));
  for (const char* line : {"train-beta=1\n", "train-dpop-lambda=50\n", "samples-per-task=4\n", "max-new-tokens=128\n"})
    EXPECT_NE(options.find(line), std::string::npos) << line << " not in:\n" << options;
  EXPECT_NE(options.find("demo-model"), std::string::npos) << options;

  // The headline says in words how DPO and RFT did against the base, and the report says so too.
  EXPECT_NE(result.output.find("Sampled pass@1 on builtin:heldout[:10]: base "), std::string::npos) << result.output;
  std::string report = read_file(path("demo/report.html"));
  EXPECT_NE(report.find("Sampled pass@1 on builtin:heldout[:10]: base "), std::string::npos);
  EXPECT_NE(report.find("built-in demo model"), std::string::npos);
  // DPO against RFT, paired over the same tasks: the mean difference of per-task pass rates as
  // computed here from the results files, inside its interval, and the sentence that says what holds.
  auto rates = [&](const std::string& method) {
    std::map<std::string, std::pair<int, int>> counts;
    fs::path results = pipeline::RunLayout::eval_sampled(path("demo/round-1/" + method), "builtin:heldout[:10]") /
                       pipeline::RunLayout::results_file;
    for (const Json& r : read_jsonl(results.string())) {
      auto& [n, c] = counts[r["task_id"].get<std::string>()];
      ++n;
      c += r["passed"].get<bool>();
    }
    return counts;
  };
  auto dpo = rates("dpo"), rft = rates("rft");
  ASSERT_EQ(dpo.size(), 10u);
  double expected = 0;
  for (const auto& [task, count] : dpo)
    expected += (double(count.second) / count.first - double(rft[task].second) / rft[task].first) / 10;
  const Json* comparison = nullptr;
  for (const Json& c : summary["comparisons"])
    if (c["a"] == "dpo" && c["b"] == "rft") comparison = &c;
  ASSERT_NE(comparison, nullptr) << summary["comparisons"].dump();
  EXPECT_NEAR((*comparison)["difference"].get<double>(), expected, 1e-12);
  EXPECT_EQ((*comparison)["tasks"], 10);
  EXPECT_LE((*comparison)["low"].get<double>(), expected);
  EXPECT_GE((*comparison)["high"].get<double>(), expected);
  std::string holds = (*comparison)["low"].get<double>() > 0    ? "DPO beats RFT: "
                      : (*comparison)["high"].get<double>() < 0 ? "the reverse of 'DPO beats RFT' holds: "
                                                                : "No difference detected between DPO and RFT: ";
  EXPECT_NE(result.output.find(holds), std::string::npos) << result.output;
  EXPECT_NE(report.find("Paired comparisons"), std::string::npos);
  expect_report_renders(path("demo"));
}

}  // namespace
}  // namespace codealign::testing
