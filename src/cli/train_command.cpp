// `codealign train sft|dpo|grpo`: supervised, preference or group-reward training of a model. Every option can
// also come from a TOML config file (--config), named as on the command line.
#include "cli/commands.h"
#include "cli/config_file.h"
#include "cli/enum_option.h"
#include "cli/model_options.h"
#include "cli/option_checks.h"
#include "training/trainer.h"

namespace codealign::cli {

void add_train_options(CLI::App* app, training::TrainConfig& config, const std::string& prefix) {
  auto add = [&](const std::string& name, auto& value, const std::string& help) {
    return app->add_option("--" + prefix + name, value, help)->capture_default_str();
  };
  add_enum_option(app, "--" + prefix + "loss-type", config.loss.loss_type, training::loss_types,
                  "dpo: sigmoid (DPO; cDPO with label smoothing), sigmoid_norm (per-token log-ratios: Tülu 3's "
                  "dpo_norm), ipo, hinge, robust, simpo");
  add("beta", config.loss.beta, "dpo: KL strength; higher keeps closer to the reference (DPO paper: 0.1-0.5)")
      ->check(above(0));
  add("label-smoothing", config.loss.label_smoothing,
      "dpo sigmoid/robust: assumed rate of flipped labels, in [0, 0.5)")->check(in_range_below(0, 0.5));
  add("simpo-gamma", config.loss.simpo_gamma, "simpo: target reward margin (SimPO paper: 0.5-1.5 x beta)")
      ->check(at_least(0));
  add("rpo-alpha", config.loss.rpo_alpha, "dpo: weight of an NLL term on the chosen answer (RPO; 0 is off)")
      ->check(at_least(0));
  add("dpop-lambda", config.loss.dpop_lambda,
      "dpo sigmoid: penalty when the chosen answer's log-prob falls below the reference's (DPOP; paper: 50; 0 is off)")
      ->check(at_least(0));
  add_enum_option(app, "--" + prefix + "grpo-loss-type", config.grpo.loss_type, training::grpo_loss_types,
                  "grpo: normalisation as TRL names it: grpo, bnpo, dr_grpo or dapo");
  add_enum_option(app, "--" + prefix + "scale-rewards", config.grpo.scale_rewards, training::reward_scalings,
                  "grpo: divide advantages by the reward std of the group, the step (batch), or not (none)");
  add("epsilon", config.grpo.epsilon, "grpo: the ratio is clipped to [1 - epsilon, 1 + epsilon-high]")
      ->check(in_range_below(0, 1));
  add("epsilon-high", config.grpo.epsilon_high, "grpo: upper clipping (negative: epsilon; DAPO: 0.28)");
  add("grpo-beta", config.grpo.beta, "grpo: weight of the KL to the reference (0: none, no reference needed)")
      ->check(at_least(0));
  add("num-iterations", config.grpo.num_iterations, "grpo: optimizer passes over each step's completions")
      ->check(at_least(1));
  app->add_flag("--" + prefix + "mask-truncated-completions", config.grpo.mask_truncated_completions,
                "grpo: no loss on completions cut before their end token");
  if (prefix.empty()) {  // align takes these from its sampling options
    add("temperature", config.grpo.temperature, "grpo: the temperature the completions were sampled at")
        ->check(above(0));
    add("max-completion-length", config.grpo.max_completion_length,
        "grpo: the sampler's token limit (dr_grpo divides by it)")->check(at_least(1));
    add("reward-name", config.grpo.reward_name, "grpo: the reward's name in the metrics (rewards/NAME/mean)");
  }
  add("learning-rate", config.learning_rate, "Peak learning rate (0: 5e-7 for dpo, 2e-5 for sft, 1e-6 for grpo)")
      ->check(at_least(0));
  add("weight-decay", config.weight_decay, "AdamW weight decay (matrices only)")->check(at_least(0));
  add("adam-beta1", config.adam_beta1, "AdamW beta1")->check(in_range_below(0, 1));
  add("adam-beta2", config.adam_beta2, "AdamW beta2")->check(in_range_below(0, 1));
  add("adam-epsilon", config.adam_epsilon, "AdamW epsilon")->check(above(0));
  add_enum_option(app, "--" + prefix + "lr-scheduler-type", config.lr_scheduler_type, training::schedulers,
                  "cosine, linear or constant after warm-up");
  add("warmup-ratio", config.warmup_ratio, "Fraction of steps with a linear warm-up")->check(in_range(0, 1));
  add("batch-size", config.per_device_train_batch_size,
      "Pairs (dpo), examples (sft) or completions (grpo; batch x accumulation a multiple of the group size) per "
      "micro-batch")->check(at_least(1));
  add("gradient-accumulation-steps", config.gradient_accumulation_steps, "Micro-batches per optimizer step")
      ->check(at_least(1));
  add("epochs", config.num_train_epochs, "Passes over the data")->check(at_least(1));
  add("max-steps", config.max_steps, "Stop after this many optimizer steps (-1: the epochs decide)")
      ->check(at_least_or(1, -1));
  add("max-grad-norm", config.max_grad_norm, "Gradient clipping (total L2 norm)");
  add("max-length", config.max_length,
      "Tokens per sequence; completions are cut from the right, examples whose "
      "prompt leaves no room are skipped and counted")->check(at_least(2));
  add("save-steps", config.save_steps, "Checkpoint every N steps (0: at the end only)")->check(at_least(0));
  add("eval-steps", config.eval_steps,
      "dpo with held-out pairs: evaluate them every N steps and after the last (0: after the last only)")
      ->check(at_least(0));
  add("seed", config.seed, "Seed of the data order");
  app->add_flag_callback(
      "--" + prefix + "no-shuffle", [&config] { config.shuffle = false; },
      "Take the examples in the file's order, batch after batch, instead of length-grouped batches in shuffled order");
  add("logits-chunk-tokens", config.logits_chunk_tokens, "Tokens whose vocabulary logits exist at once")
      ->check(at_least(1));
  app->add_flag("--" + prefix + "gradient-checkpointing", config.gradient_checkpointing,
                "Recompute each layer's activations in the backward pass: much less memory for about a third more compute");
  add("gradient-checkpointing-layers", config.gradient_checkpointing_layers,
      "With --gradient-checkpointing: recompute only the first N layers (0: all), between the two in memory and speed")
          ->check(at_least(0));
  // A callback rather than a "{false}" flag on share_prompt: read from a TOML file, CLI11 would
  // store the file's value as it is, and `no-share-prompt = true` would turn sharing on.
  app->add_flag_callback(
      "--" + prefix + "no-share-prompt", [&config] { config.share_prompt = false; },
      "dpo: compute each pair's prompt twice (with chosen, with rejected) instead of once in a row holding both");
  add("zero-stage", config.zero_stage,
      "Several processes: 1 shards AdamW's state over them (ZeRO stage 1; each keeps 1/N of it; with --dtype "
      "bfloat16 the weights are held in bfloat16 and their float32 master sharded with it), 0 replicates it")
      ->check(in_range(0, 1));
  add("lora-rank", config.lora.rank, "LoRA rank (0: train every weight)")->check(at_least(0));
  add("lora-alpha", config.lora.alpha, "LoRA alpha (the update is scaled by alpha / rank)")->check(above(0));
  add("lora-dropout", config.lora.dropout, "Dropout on the LoRA input")->check(in_range_below(0, 1));
  add("lora-target-modules", config.lora.target_modules, "Projections that get adapters")->delimiter(',');
}

Command add_train_command(CLI::App& app) {
  struct Options {
    training::TrainConfig config;
    training::TrainPaths paths;
    std::string config_file, chat = "none";
    bool resume = false;
  };
  auto o = std::make_shared<Options>();
  auto& c = o->config;
  CLI::App* sub = app.add_subcommand(
      "train",
      "Train a model: sft (prompt/completion JSONL), dpo (TRL prompt/chosen/rejected JSONL) or grpo (groups: "
      "prompt, completions with rewards; docs/FORMATS.md)");
  sub->add_option("--config", o->config_file,
                  "TOML file with any of the options below, e.g. 'beta = 0.1' "
                  "(command-line values win)");
  add_enum_option(sub, "mode", c.mode, training::train_modes, "sft, dpo or grpo")->required();
  sub->add_option("-m,--model", o->paths.model,
                  "Model to start from (HF directory or llama2.c .bin); also the DPO reference unless --reference")
      ->required();
  sub->add_option("--reference", o->paths.reference,
                  "dpo, grpo with --grpo-beta: the frozen reference model (TRL's ref_model), sharing the model's "
                  "tokenizer (default: --model)");
  sub->add_option("--tokenizer", o->paths.tokenizer, "Tokenizer (default: the model directory's)");
  sub->add_option("-d,--data", o->paths.data, "Training data JSONL")->required();
  sub->add_option("--eval-data", o->paths.eval_data,
                  "dpo: held-out pairs, whose eval_ metrics (TRL's, plus log-prob changes from the reference, the "
                  "share of chosen log-probs that fell, a KL estimate) join metrics.jsonl every --eval-steps");
  sub->add_option("-o,--out", o->paths.output, "Output directory: the trained model, checkpoint-N/, metrics.jsonl")
      ->required();
  sub->add_option("--chat", o->chat,
                  "Render prompts with an instruct model's chat format, as `sample --chat` does: none, auto (from "
                  "tokenizer_config.json), chatml, qwen2.5, llama-2, deepseek-coder, or a format JSON file; needed for "
                  "prompts given as chat messages")
      ->capture_default_str();
  sub->add_flag("--resume", o->resume,
                "Continue from the newest checkpoint in --out (bit-identical to an uninterrupted run)");
  add_train_options(sub, c, "");
  add_device_options(sub, c.device, c.dtype);
  add_distributed_options(sub, c.distributed);
  return [o, sub] {
    if (!o->config_file.empty()) apply_config_file(sub, o->config_file, {{"train", ""}});
    o->config.prompts.chat =
        resolve_chat_format(o->chat, o->paths.tokenizer.empty() ? o->paths.model : o->paths.tokenizer);
    return training::train(o->config, o->paths, o->resume) ? exit_ok : exit_interrupted;
  };
}

}  // namespace codealign::cli
