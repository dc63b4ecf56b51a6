// `codealign train sft|dpo`: preference (or supervised) training of a model. Every option can
// also come from a TOML config file (--config), named as on the command line.
#include <sstream>

#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "training/trainer.h"

namespace codealign::cli {
namespace {

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t"), end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

// Flat TOML (key = value; strings, numbers, booleans, arrays of strings; comments; an
// optional [train] table) into the options not given on the command line.
void apply_config_file(CLI::App* sub, const std::string& path) {
  std::istringstream lines(read_file(path));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::string where = path + ":" + std::to_string(number) + ": ";
    line = trim(line.substr(0, line.find(" #")));
    if (line.empty() || line[0] == '#' || line == "[train]") continue;
    size_t equals = line.find('=');
    if (equals == std::string::npos) throw Error(where + "expected 'key = value'");
    std::string key = trim(line.substr(0, equals)), value = trim(line.substr(equals + 1));
    for (char& c : key) c = c == '_' ? '-' : c;
    CLI::Option* option = sub->get_option_no_throw("--" + key);
    if (!option || key == "config") throw Error(where + "unknown option '" + key + "' (see codealign train --help)");
    if (option->count() > 0) continue;  // the command line wins
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      std::string items, item;
      std::istringstream list(value.substr(1, value.size() - 2));
      while (std::getline(list, item, ',')) {
        item = trim(item);
        if (item.size() >= 2 && item.front() == '"') item = item.substr(1, item.size() - 2);
        items += (items.empty() ? "" : ",") + item;
      }
      value = items;
    }
    try {
      option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw Error(where + "bad value for '" + key + "': " + e.what());
    }
  }
}

}  // namespace

Command add_train_command(CLI::App& app) {
  struct Options {
    training::TrainConfig config;
    training::TrainPaths paths;
    std::string config_file;
    bool resume = false;
  };
  auto o = std::make_shared<Options>();
  auto& c = o->config;
  CLI::App* sub = app.add_subcommand("train", "Train a model: sft (prompt/completion JSONL) or dpo (TRL prompt/chosen/rejected JSONL)");
  sub->add_option("--config", o->config_file, "TOML file with any of the options below, e.g. 'beta = 0.1' "
                                              "(command-line values win)");
  sub->add_option("mode", c.mode, "sft or dpo")->required()->check(CLI::IsMember({"sft", "dpo"}));
  sub->add_option("-m,--model", o->paths.model, "Model to start from (HF directory or llama2.c .bin); also the DPO reference")->required();
  sub->add_option("--tokenizer", o->paths.tokenizer, "Tokenizer (default: the model directory's)");
  sub->add_option("-d,--data", o->paths.data, "Training data JSONL")->required();
  sub->add_option("-o,--out", o->paths.output, "Output directory: the trained model, checkpoint-N/, metrics.jsonl")->required();
  sub->add_flag("--resume", o->resume, "Continue from the newest checkpoint in --out (bit-identical to an uninterrupted run)");
  sub->add_option("--loss-type", c.loss.loss_type, "dpo: sigmoid (DPO; cDPO with label smoothing), ipo, hinge, robust, simpo")
      ->capture_default_str();
  sub->add_option("--beta", c.loss.beta, "dpo: KL strength; higher keeps closer to the reference (DPO paper: 0.1-0.5)")->capture_default_str();
  sub->add_option("--label-smoothing", c.loss.label_smoothing, "dpo sigmoid/robust: assumed rate of flipped labels, in [0, 0.5)")
      ->capture_default_str();
  sub->add_option("--simpo-gamma", c.loss.simpo_gamma, "simpo: target reward margin (SimPO paper: 0.5-1.5 x beta)")->capture_default_str();
  sub->add_option("--rpo-alpha", c.loss.rpo_alpha, "dpo: weight of an NLL term on the chosen answer (RPO; 0 is off)")->capture_default_str();
  sub->add_option("--learning-rate", c.learning_rate, "Peak learning rate (0: 5e-7 for dpo, 2e-5 for sft)")->capture_default_str();
  sub->add_option("--weight-decay", c.weight_decay, "AdamW weight decay (matrices only)")->capture_default_str();
  sub->add_option("--adam-beta1", c.adam_beta1, "AdamW beta1")->capture_default_str();
  sub->add_option("--adam-beta2", c.adam_beta2, "AdamW beta2")->capture_default_str();
  sub->add_option("--adam-epsilon", c.adam_epsilon, "AdamW epsilon")->capture_default_str();
  sub->add_option("--lr-scheduler-type", c.lr_scheduler_type, "cosine, linear or constant after warm-up")->capture_default_str();
  sub->add_option("--warmup-ratio", c.warmup_ratio, "Fraction of steps with a linear warm-up")->capture_default_str();
  sub->add_option("--batch-size", c.per_device_train_batch_size, "Pairs (dpo) or examples (sft) per micro-batch")->capture_default_str();
  sub->add_option("--gradient-accumulation-steps", c.gradient_accumulation_steps, "Micro-batches per optimizer step")->capture_default_str();
  sub->add_option("--epochs", c.num_train_epochs, "Passes over the data")->capture_default_str();
  sub->add_option("--max-steps", c.max_steps, "Stop after this many optimizer steps (-1: the epochs decide)")->capture_default_str();
  sub->add_option("--max-grad-norm", c.max_grad_norm, "Gradient clipping (total L2 norm)")->capture_default_str();
  sub->add_option("--max-length", c.max_length, "Tokens per sequence; completions are cut from the right, examples whose "
                                                 "prompt leaves no room are skipped and counted")->capture_default_str();
  sub->add_option("--save-steps", c.save_steps, "Checkpoint every N steps (0: at the end only)")->capture_default_str();
  sub->add_option("--seed", c.seed, "Seed of the data order")->capture_default_str();
  sub->add_option("--logits-chunk-tokens", c.logits_chunk_tokens, "Tokens whose vocabulary logits exist at once")->capture_default_str();
  sub->add_option("--lora-rank", c.lora.rank, "LoRA rank (0: train every weight)")->capture_default_str();
  sub->add_option("--lora-alpha", c.lora.alpha, "LoRA alpha (the update is scaled by alpha / rank)")->capture_default_str();
  sub->add_option("--lora-dropout", c.lora.dropout, "Dropout on the LoRA input")->capture_default_str();
  sub->add_option("--lora-target-modules", c.lora.target_modules, "Projections that get adapters")
      ->delimiter(',')->capture_default_str();
  return [o, sub] {
    if (!o->config_file.empty()) apply_config_file(sub, o->config_file);
    return training::train(o->config, o->paths, o->resume) ? exit_ok : exit_interrupted;
  };
}

}  // namespace codealign::cli
