// Every numeric option of every command is checked when the command line is parsed, with a
// message that names the option and says what is allowed: one out-of-range value per option,
// each message word for word, before anything runs (no model, data or file is needed).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/test_support.h"

namespace codealign {
namespace {

using testing::run_codealign;

struct Case {
  std::string command_line, message;
};

void expect_refused(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto result = run_codealign(c.command_line);
    EXPECT_EQ(result.status, 2) << c.command_line << "\n" << result.output;
    EXPECT_EQ(result.output, c.message + "\nRun with --help for more information.\n") << c.command_line;
  }
}

TEST(Options, EvaluateExecutePreferencesReportTasksTokenizerServe) {
  expect_refused({
      {"evaluate -k 0", "--k: must be at least 1 (got 0)"},
      {"evaluate -k 1,0", "--k: must be at least 1 (got 0)"},
      {"evaluate --workers 0", "--workers: must be at least 1 (got 0)"},
      {"evaluate --timeout -1", "--timeout: must be above 0 (got -1)"},
      {"evaluate --timeout 0", "--timeout: must be above 0 (got 0)"},
      {"evaluate --min-time-limit 0", "--min-time-limit: must be above 0 (got 0)"},
      {"evaluate --time-limit-factor -2", "--time-limit-factor: must be above 0 (got -2)"},
      {"evaluate --max-task-timeout 0", "--max-task-timeout: must be above 0 (got 0)"},
      {"evaluate --memory-mb 0", "--memory-mb: must be at least 1 (got 0)"},
      {"evaluate --timeout abc", "--timeout: must be a number above 0 (got 'abc')"},
      {"execute --timeout 0", "--timeout: must be above 0 (got 0)"},
      {"execute --memory-mb -5", "--memory-mb: must be at least 1 (got -5)"},
      {"preferences --max-pairs-per-task -1", "--max-pairs-per-task: must be at least 0 (got -1)"},
      {"preferences --margin -0.5", "--margin: must be at least 0 (got -0.5)"},
      {"preferences --rft-max-per-task -1", "--rft-max-per-task: must be at least 0 (got -1)"},
      {"preferences --round -1", "--round: must be at least 0 (got -1)"},
      {"report run --max-pairs -1", "--max-pairs: must be at least 0 (got -1)"},
      {"report run --max-lines 0", "--max-lines: must be at least 1 (got 0)"},
      {"tasks builtin --sft-out x --buggy-fraction 1.5", "--buggy-fraction: must be in [0, 1] (got 1.5)"},
      {"tokenizer train --vocab-size 100", "--vocab-size: must be at least 256 (got 100)"},
      {"tokenizer train --min-frequency 0", "--min-frequency: must be at least 1 (got 0)"},
      {"serve --host 256.0.0.1 --port 70000", "--port: must be in [0, 65535] (got 70000)"},
      {"serve --host 256.0.0.1 --port -1", "--port: must be in [0, 65535] (got -1)"},
      {"serve --host 256.0.0.1 --workers 0", "--workers: must be at least 1 (got 0)"},
      {"serve --host 256.0.0.1 --max-queue -1", "--max-queue: must be at least 0 (got -1)"},
      {"serve --host 256.0.0.1 --busy-status 200", "--busy-status: must be in [400, 599] (got 200)"},
      {"serve --host 256.0.0.1 --deadline-slack -1", "--deadline-slack: must be at least 0 (got -1)"},
      {"serve --host 256.0.0.1 --max-body-mb 0", "--max-body-mb: must be at least 1 (got 0)"},
      {"serve --host 256.0.0.1 --max-timeout 0", "--max-timeout: must be above 0 (got 0)"},
      {"serve --host 256.0.0.1 --memory-mb 0", "--memory-mb: must be at least 1 (got 0)"},
      {"serve --host 256.0.0.1 --max-memory-mb 0", "--max-memory-mb: must be at least 1 (got 0)"},
      {"serve --host 256.0.0.1 --output-kb 0", "--output-kb: must be at least 1 (got 0)"},
  });
}

TEST(Options, SampleGenerateAndTrain) {
  expect_refused({
      {"sample --batch 0", "--batch: must be at least 1 (got 0)"},
      {"sample --max-new-tokens 0", "--max-new-tokens: must be at least 1 (got 0)"},
      {"sample -t -1", "--temperature: must be at least 0 (got -1)"},
      {"sample --top-p 0", "--top-p: must be in (0, 1] (got 0)"},
      {"sample --top-p 1.5", "--top-p: must be in (0, 1] (got 1.5)"},
      {"sample --top-k -1", "--top-k: must be at least 0 (got -1)"},
      {"sample -n 0", "--n: must be at least 1 (got 0)"},
      {"generate --max-new-tokens -3", "--max-new-tokens: must be at least 1 (got -3)"},
      {"train dpo --beta 0", "--beta: must be above 0 (got 0)"},
      {"train dpo --label-smoothing 0.5", "--label-smoothing: must be in [0, 0.5) (got 0.5)"},
      {"train dpo --simpo-gamma -1", "--simpo-gamma: must be at least 0 (got -1)"},
      {"train dpo --rpo-alpha -1", "--rpo-alpha: must be at least 0 (got -1)"},
      {"train dpo --dpop-lambda -1", "--dpop-lambda: must be at least 0 (got -1)"},
      {"train grpo --epsilon 1", "--epsilon: must be in [0, 1) (got 1)"},
      {"train grpo --grpo-beta -0.1", "--grpo-beta: must be at least 0 (got -0.1)"},
      {"train grpo --num-iterations 0", "--num-iterations: must be at least 1 (got 0)"},
      {"train grpo --temperature 0", "--temperature: must be above 0 (got 0)"},
      {"train grpo --max-completion-length 0", "--max-completion-length: must be at least 1 (got 0)"},
      {"train sft --learning-rate -1e-5", "--learning-rate: must be at least 0 (got -1e-5)"},
      {"train sft --weight-decay -1", "--weight-decay: must be at least 0 (got -1)"},
      {"train sft --adam-beta1 1", "--adam-beta1: must be in [0, 1) (got 1)"},
      {"train sft --adam-beta2 -0.1", "--adam-beta2: must be in [0, 1) (got -0.1)"},
      {"train sft --adam-epsilon 0", "--adam-epsilon: must be above 0 (got 0)"},
      {"train sft --warmup-ratio 1.5", "--warmup-ratio: must be in [0, 1] (got 1.5)"},
      {"train sft --batch-size 0", "--batch-size: must be at least 1 (got 0)"},
      {"train sft --gradient-accumulation-steps 0", "--gradient-accumulation-steps: must be at least 1 (got 0)"},
      {"train sft --epochs 0", "--epochs: must be at least 1 (got 0)"},
      {"train sft --max-steps 0", "--max-steps: must be -1 or at least 1 (got 0)"},
      {"train sft --max-length 1", "--max-length: must be at least 2 (got 1)"},
      {"train sft --save-steps -1", "--save-steps: must be at least 0 (got -1)"},
      {"train sft --logits-chunk-tokens 0", "--logits-chunk-tokens: must be at least 1 (got 0)"},
      {"train sft --gradient-checkpointing-layers -1", "--gradient-checkpointing-layers: must be at least 0 (got -1)"},
      {"train sft --lora-rank -8", "--lora-rank: must be at least 0 (got -8)"},
      {"train sft --lora-alpha 0", "--lora-alpha: must be above 0 (got 0)"},
      {"train sft --lora-dropout 1", "--lora-dropout: must be in [0, 1) (got 1)"},
  });
}

TEST(Options, AlignAndDemo) {
  expect_refused({
      {"align --rounds 0", "--rounds: must be at least 1 (got 0)"},
      {"align --samples-per-task 0", "--samples-per-task: must be at least 1 (got 0)"},
      {"align --batch 0", "--batch: must be at least 1 (got 0)"},
      {"align --eval-max-new-tokens 0", "--eval-max-new-tokens: must be at least 1 (got 0)"},
      {"align --eval-samples -1", "--eval-samples: must be at least 0 (got -1)"},
      {"align --eval-temperature -0.5", "--eval-temperature: must be at least 0 (got -0.5)"},
      {"align --eval-top-p 2", "--eval-top-p: must be in (0, 1] (got 2)"},
      {"align --eval-k 0", "--eval-k: must be at least 1 (got 0)"},
      {"align --max-pairs-per-task -1", "--max-pairs-per-task: must be at least 0 (got -1)"},
      {"align --margin -1", "--margin: must be at least 0 (got -1)"},
      {"align --rft-max-per-task -1", "--rft-max-per-task: must be at least 0 (got -1)"},
      {"align --keep-checkpoints -1", "--keep-checkpoints: must be at least 0 (got -1)"},
      {"align --workers 0", "--workers: must be at least 1 (got 0)"},
      {"align --timeout 0", "--timeout: must be above 0 (got 0)"},
      {"align --memory-mb 0", "--memory-mb: must be at least 1 (got 0)"},
      {"align --train-beta 0", "--train-beta: must be above 0 (got 0)"},
      {"align --train-max-steps 0", "--train-max-steps: must be -1 or at least 1 (got 0)"},
      {"align --train-num-iterations 0", "--train-num-iterations: must be at least 1 (got 0)"},
      {"demo --rounds 0", "--rounds: must be at least 1 (got 0)"},
      {"demo -t -1", "--temperature: must be at least 0 (got -1)"},
  });
}

}  // namespace
}  // namespace codealign
