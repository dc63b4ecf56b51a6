#include "training/trainer.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "common/progress.h"
#include "model/device.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "training/data.h"
#include "training/logprobs.h"
#include "training/losses.h"
#include "training/optimizer.h"

namespace codealign::training {
namespace fs = std::filesystem;
using nlohmann::json;

void check(const TrainConfig& c) {
  if (c.mode == TrainMode::dpo) check(c.loss);
  if (c.per_device_train_batch_size < 1 || c.gradient_accumulation_steps < 1 || c.num_train_epochs < 1)
    throw Error("training: batch size, gradient_accumulation_steps and num_train_epochs must be at least 1");
  if (c.max_length < 2) throw Error("training: max_length must be at least 2");
  if (c.warmup_ratio < 0 || c.warmup_ratio > 1) throw Error("training: warmup_ratio must be in [0, 1]");
  if (c.gradient_checkpointing_layers < 0) throw Error("training: gradient_checkpointing_layers must be 0 (all) or more");
  if (c.logits_chunk_tokens < 1) throw Error("training: logits_chunk_tokens must be at least 1");
  if (model::resolve_dtype(c.dtype, torch::kCPU) == torch::kFloat16)
    throw Error("training: --dtype float16 needs loss scaling, which codealign does not do (use bfloat16)");
  if (c.gradient_checkpointing && c.lora.rank > 0 && c.lora.dropout > 0)
    throw Error("training: gradient checkpointing with LoRA dropout would recompute with other dropout masks "
                "(set lora_dropout to 0, or leave checkpointing off)");
}

namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_sigint(int) { interrupted = 1; }

// One training example: one sequence (sft) or two (dpo), with its data line.
struct Example {
  int line;
  Sequence chosen, rejected;  // sft: chosen only
};

// HF's schedules (get_cosine/linear_schedule_with_warmup), as a factor of the peak rate for
// the step about to be taken (0-based).
double schedule(const TrainConfig& c, int64_t step, int64_t total) {
  int64_t warmup = int64_t(std::ceil(c.warmup_ratio * double(total)));
  if (step < warmup) return double(step) / double(std::max<int64_t>(1, warmup));
  if (c.lr_scheduler_type == Scheduler::constant) return 1.0;
  double progress = double(step - warmup) / double(std::max<int64_t>(1, total - warmup));
  if (c.lr_scheduler_type == Scheduler::linear) return std::max(0.0, 1.0 - progress);
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

// Streams a file into the hash in 1 MiB pieces (weights can be many GB).
void hash_file(ContentHash& hash, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("training: cannot read '" + path + "'");
  std::string buffer(1 << 20, '\0');
  while (in.read(buffer.data(), std::streamsize(buffer.size())) || in.gcount() > 0)
    hash.add(std::string_view(buffer.data(), size_t(in.gcount())));
}

std::string model_fingerprint(const std::string& model_path) {
  ContentHash hash;
  if (fs::is_directory(model_path)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(model_path))
      if (entry.path().extension() == ".safetensors" || entry.path().filename() == "config.json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) hash_file(hash.add(file.filename().string()), file.string());
  } else {
    hash_file(hash, model_path);
  }
  return hash.hex();
}

// The reference log-probs of every pair, computed once and cached in the output directory
// (never beside the data, which may be read-only or another stage's), keyed by the reference
// model, its precision and exactly the token ids it scores (not by share_prompt, which changes
// the values by float rounding only).
std::vector<std::pair<double, double>> reference_logps(const model::CausalLM& model, const std::vector<Example>& examples,
                                                       const TrainConfig& c, const TrainPaths& paths, torch::Dtype dtype) {
  ContentHash key;
  key.add(model_fingerprint(paths.reference_model()))
      .add(model::dtype_name(dtype))
      .add(model::dtype_name(model.parameters().begin()->second.scalar_type()));
  for (const Example& e : examples)
    for (const Sequence* s : {&e.chosen, &e.rejected})
      key.add(std::string_view(reinterpret_cast<const char*>(s->ids.data()), s->ids.size() * sizeof(s->ids[0])))
          .add(std::to_string(s->prompt_length));
  std::string cache = (fs::path(paths.output) / ("reference-logps-" + key.hex().substr(0, 16) + ".jsonl")).string();
  std::vector<std::pair<double, double>> out;
  if (fs::exists(cache)) {
    std::ifstream in(cache);
    try {
      for (std::string line; std::getline(in, line);) {
        json j = json::parse(line);
        out.emplace_back(j.at("chosen").get<double>(), j.at("rejected").get<double>());
      }
    } catch (const json::exception&) {
      out.clear();  // cut mid-line or damaged: like a stale cache, computed again
    }
    if (out.size() == examples.size()) return out;
    out.clear();  // a stale or cut cache: compute again
  }
  torch::NoGradGuard no_grad;
  model::MixedPrecision precision(model.device(), dtype);
  Progress progress("reference log-probs", examples.size());
  AtomicFile file(cache);
  // Without gradients a forward holds little: larger batches keep a GPU busy.
  size_t batch = size_t(c.per_device_train_batch_size) * 4;
  for (size_t first = 0; first < examples.size(); first += batch) {
    size_t last = std::min(examples.size(), first + batch);
    SequencePairs pairs;
    for (size_t i = first; i < last; ++i) pairs.emplace_back(&examples[i].chosen, &examples[i].rejected);
    PairSequenceLogps logps = pair_logps(model, pairs, c.logits_chunk_tokens, c.share_prompt);
    torch::Tensor sums = torch::stack({logps.chosen.sums, logps.rejected.sums}).to(torch::kCPU, torch::kFloat64);  // [2, b]
    int64_t b = int64_t(last - first);
    for (int64_t i = 0; i < b; ++i) {
      out.emplace_back(sums[0][i].item<double>(), sums[1][i].item<double>());
      file.write(json{{"chosen", out.back().first}, {"rejected", out.back().second}}.dump() + "\n");
    }
    progress.advance(size_t(b));
  }
  file.commit();
  return out;
}

void check_prompt_rule(const PromptText& prompt, const PromptRule& rule, const std::string& path, int line) {
  if (prompt.is_messages && !rule.chat)
    throw Error(path + ":" + std::to_string(line) +
                ": the prompt is a list of chat messages, which needs a chat format (hint: --chat auto or a format name)");
}

std::vector<Example> load_examples(const TrainConfig& c, const TrainPaths& paths, const tokenizer::Tokenizer& tok) {
  std::vector<Example> examples;
  size_t skipped = 0;
  auto max_length = size_t(c.max_length);
  if (c.mode == TrainMode::sft) {
    for (const SftExample& e : read_sft(paths.data)) {
      check_prompt_rule(e.prompt, c.prompts, paths.data, e.line);
      auto s = make_sequence(tok, e.prompt, e.completion, e.completion_ids, max_length, c.prompts);
      s ? examples.push_back({e.line, *s, {}}) : void(++skipped);
    }
  } else {
    for (const PairExample& p : read_pairs(paths.data)) {
      check_prompt_rule(p.prompt, c.prompts, paths.data, p.line);
      auto chosen = make_sequence(tok, p.prompt, p.chosen, p.chosen_ids, max_length, c.prompts);
      auto rejected = make_sequence(tok, p.prompt, p.rejected, p.rejected_ids, max_length, c.prompts);
      chosen && rejected ? examples.push_back({p.line, *chosen, *rejected}) : void(++skipped);
    }
  }
  if (skipped)
    std::cerr << "train: skipped " << skipped << " example(s) of " << paths.data << " whose prompt leaves no room under max_length="
              << c.max_length << "\n";
  if (examples.empty()) throw Error("training: no example of '" + paths.data + "' fits max_length=" + std::to_string(c.max_length));
  return examples;
}

// A tokenizer larger than the model's embedding would otherwise fail deep inside torch.
void check_vocabulary(const std::vector<Example>& examples, int64_t vocab_size, const std::string& path) {
  for (const Example& e : examples)
    for (const Sequence* s : {&e.chosen, &e.rejected})
      for (tokenizer::TokenId id : s->ids)
        if (int64_t(id) >= vocab_size)
          throw Error(path + ":" + std::to_string(e.line) + ": token id " + std::to_string(id) +
                      " is outside the model's vocabulary (vocab_size " + std::to_string(vocab_size) +
                      "; hint: is the tokenizer the model's?)");
}

// The loss of one micro-batch, its TRL metrics and its token count.
struct MicroBatch {
  torch::Tensor loss;
  std::vector<std::pair<const char*, double>> metrics;
  int64_t tokens = 0;
};

// Its share of the step's loss, as transformers and TRL weigh it under accumulation: SFT's NLL
// summed and divided by the completion tokens of the whole optimizer step (num_items_in_batch),
// so that every token weighs the same whatever its micro-batch; DPO's per-pair mean divided by
// the step's micro-batches.
MicroBatch micro_batch_loss(const model::CausalLM& model, const std::vector<Example>& examples,
                            const std::vector<size_t>& batch, const TrainConfig& c,
                            const std::vector<std::pair<double, double>>* reference, double step_divisor) {
  MicroBatch out;
  if (c.mode == TrainMode::sft) {
    std::vector<const Sequence*> sequences;
    for (size_t i : batch) sequences.push_back(&examples[i].chosen);
    for (const Sequence* s : sequences) out.tokens += int64_t(s->ids.size());
    SequenceLogps logps = sequence_logps(model, make_batch(sequences), c.logits_chunk_tokens);
    out.loss = -logps.sums.sum() / step_divisor;
    return out;
  }
  SequencePairs pairs;
  for (size_t i : batch) {
    pairs.emplace_back(&examples[i].chosen, &examples[i].rejected);
    // Both sequences whole (a shared prompt counts twice): tokens/s compares across share_prompt.
    out.tokens += int64_t(examples[i].chosen.ids.size() + examples[i].rejected.ids.size());
  }
  PairSequenceLogps logps = pair_logps(model, pairs, c.logits_chunk_tokens, c.share_prompt);
  PairLogps pair{logps.chosen.sums, logps.rejected.sums, {}, {}, logps.chosen.tokens, logps.rejected.tokens};
  std::vector<double> ref_chosen, ref_rejected;
  for (size_t i : batch) {
    ref_chosen.push_back(reference ? (*reference)[i].first : 0.0);
    ref_rejected.push_back(reference ? (*reference)[i].second : 0.0);
  }
  pair.reference_chosen = torch::tensor(ref_chosen).to(pair.chosen.device(), torch::kFloat32);
  pair.reference_rejected = torch::tensor(ref_rejected).to(pair.chosen.device(), torch::kFloat32);
  LossOutput loss = preference_loss(pair, c.loss);
  out.loss = loss.loss / step_divisor;
  // One read from the device for all of them.
  torch::Tensor values = torch::stack({loss.chosen_rewards.mean(), loss.rejected_rewards.mean(),
                                       (loss.chosen_rewards > loss.rejected_rewards).to(torch::kFloat32).mean(),
                                       (loss.chosen_rewards - loss.rejected_rewards).mean(), pair.chosen.detach().mean(),
                                       pair.rejected.detach().mean()})
                             .to(torch::kCPU, torch::kFloat64);
  const char* names[] = {"rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                         "logps/rejected"};
  for (int64_t k = 0; k < 6; ++k) out.metrics.emplace_back(names[k], values[k].item<double>());
  return out;
}

// HF's train_results.json (train_runtime, train_steps_per_second), plus the tokens per second
// (chosen and rejected, padding left out) and, on a GPU, the peak memory of tensors.
void write_train_results(const std::string& output, double seconds, int64_t steps, int64_t tokens, int64_t peak_bytes) {
  json results{{"train_runtime", seconds},
               {"train_steps_per_second", double(steps) / std::max(seconds, 1e-9)},
               {"train_tokens_per_second", double(tokens) / std::max(seconds, 1e-9)}};
  if (peak_bytes > 0) results["peak_memory_gib"] = double(peak_bytes) / double(int64_t(1) << 30);
  AtomicFile file((fs::path(output) / "train_results.json").string());
  file.write(results.dump(2) + "\n");
  file.commit();
}

std::optional<fs::path> newest_checkpoint(const std::string& output) {
  std::optional<fs::path> best;
  int64_t best_step = -1;
  if (!fs::is_directory(output)) return best;
  for (const auto& entry : fs::directory_iterator(output)) {
    std::string name = entry.path().filename().string();
    std::string digits = name.rfind("checkpoint-", 0) == 0 ? name.substr(11) : "";
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        !fs::exists(entry.path() / "trainer_state.json"))
      continue;  // also leaves out half-written checkpoint-N.tmp directories
    int64_t step = std::stoll(digits);
    if (step > best_step) best_step = step, best = entry.path();
  }
  return best;
}

// The optimizer steps of a run, as transformers' Trainer takes them: per epoch, the length
// batches shuffled with seed + epoch, cut into steps of gradient_accumulation_steps
// micro-batches; an epoch that does not divide ends with a shorter step.
struct Plan {
  std::vector<std::vector<std::vector<size_t>>> steps;  // step -> its micro-batches -> example indices
  int64_t micro_batches_per_epoch = 0;
  int64_t micro_batches_before(int64_t step) const {
    int64_t done = 0;
    for (int64_t s = 0; s < step; ++s) done += int64_t(steps[size_t(s)].size());
    return done;
  }
};

std::vector<std::vector<size_t>> file_order_batches(size_t count, size_t batch_size) {
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < count; ++i) {
    if (i % batch_size == 0) batches.emplace_back();
    batches.back().push_back(i);
  }
  return batches;
}

Plan make_plan(const TrainConfig& c, const std::vector<Example>& examples) {
  std::vector<size_t> lengths;
  for (const Example& e : examples) lengths.push_back(std::max(e.chosen.ids.size(), e.rejected.ids.size()));
  Plan plan;
  for (int64_t epoch = 0; epoch < c.num_train_epochs; ++epoch) {
    auto batches = c.shuffle ? length_batches(lengths, size_t(c.per_device_train_batch_size), c.seed + uint64_t(epoch))
                             : file_order_batches(examples.size(), size_t(c.per_device_train_batch_size));
    plan.micro_batches_per_epoch = int64_t(batches.size());
    for (size_t first = 0; first < batches.size(); first += size_t(c.gradient_accumulation_steps)) {
      size_t last = std::min(batches.size(), first + size_t(c.gradient_accumulation_steps));
      plan.steps.emplace_back(std::make_move_iterator(batches.begin() + long(first)),
                              std::make_move_iterator(batches.begin() + long(last)));
    }
  }
  if (c.max_steps > 0 && int64_t(plan.steps.size()) > c.max_steps) plan.steps.resize(size_t(c.max_steps));
  return plan;
}

// One run of `train`: load -> reference log-probs -> plan -> resume -> steps -> checkpoints ->
// export, each a member below.
class Trainer {
 public:
  Trainer(const TrainConfig& config, const TrainPaths& paths) : c_(config), paths_(paths) {
    if (c_.learning_rate <= 0) c_.learning_rate = c_.mode == TrainMode::dpo ? 5e-7 : 2e-5;
    device_ = model::resolve_device(c_.device);
    dtype_ = model::resolve_dtype(c_.dtype, device_);
    use_lora_ = c_.lora.rank > 0;
    with_reference_ = c_.mode == TrainMode::dpo && c_.loss.loss_type != LossType::simpo;
  }

  // Returns false when stopped by SIGINT (after saving a checkpoint).
  bool run(bool resume) {
    fs::create_directories(paths_.output);
    std::optional<fs::path> checkpoint = resume ? newest_checkpoint(paths_.output) : std::nullopt;
    load(checkpoint);
    if (with_reference_) compute_reference(checkpoint.has_value());
    prepare_for_training();
    plan_ = make_plan(c_, examples_);
    int64_t step = checkpoint ? restore(*checkpoint) : start_log();
    bool finished = train_steps(step);
    if (finished) export_model();
    return finished;
  }

 private:
  std::string metrics_path() const { return (fs::path(paths_.output) / "metrics.jsonl").string(); }

  void load(const std::optional<fs::path>& checkpoint) {
    auto tok = tokenizer::Tokenizer::load(paths_.tokenizer.empty() ? paths_.model : paths_.tokenizer);
    examples_ = load_examples(c_, paths_, tok);
    // Float32 weights: with bfloat16 they are the master copy that autocast reads from. A LoRA
    // base is frozen and needs no master copy: it loads in the training dtype (a 7B base in
    // bfloat16 takes 15 GB, not 30), and only the float32 adapters train. A LoRA checkpoint
    // holds adapters; the base is paths.model.
    model_.emplace(model::CausalLM::load(checkpoint && !use_lora_ ? checkpoint->string() : paths_.model,
                                         use_lora_ ? dtype_ : torch::kFloat32, device_));
    check_vocabulary(examples_, model_->config().vocab_size, paths_.data);
    if (use_lora_) {
      model_->add_lora(c_.lora, c_.seed);
      if (checkpoint) model_->load_adapters(checkpoint->string());
    }
  }

  // A reference of its own is loaded for its log-probs only. Otherwise the reference is the
  // starting model: with LoRA the base with adapters switched off; loaded again on resume.
  void compute_reference(bool resumed) {
    bool own_reference = !paths_.reference.empty() && paths_.reference != paths_.model;
    model_->set_lora_enabled(false);
    if (own_reference || (resumed && !use_lora_)) {
      model::CausalLM reference_model = model::CausalLM::load(paths_.reference_model(), torch::kFloat32, device_);
      if (reference_model.config().vocab_size != model_->config().vocab_size)
        throw Error("training: the reference '" + paths_.reference_model() + "' has a vocabulary of " +
                    std::to_string(reference_model.config().vocab_size) + " tokens, the model '" + paths_.model +
                    "' one of " + std::to_string(model_->config().vocab_size) + "; they must share a tokenizer");
      reference_ = reference_logps(reference_model, examples_, c_, paths_, dtype_);
    } else {
      reference_ = reference_logps(*model_, examples_, c_, paths_, dtype_);
    }
    model_->set_lora_enabled(true);
  }

  // Trained tensors: the adapters with LoRA, else every parameter. Weight decay on matrices.
  void prepare_for_training() {
    model_->set_training(true);
    int64_t layers = model_->config().num_hidden_layers;
    model_->set_activation_checkpointing(!c_.gradient_checkpointing ? 0
                                         : c_.gradient_checkpointing_layers > 0 ? std::min(c_.gradient_checkpointing_layers, layers)
                                                                                : layers);
    std::vector<torch::Tensor> decayed, not_decayed;
    for (auto& [name, p] : model_->parameters()) p.requires_grad_(!use_lora_);
    for (auto& [name, p] : use_lora_ ? model_->adapters() : model_->parameters()) {
      p.requires_grad_(true);
      (p.dim() >= 2 ? decayed : not_decayed).push_back(p);
      trained_.push_back(p);
    }
    optimizer_.emplace(decayed, not_decayed, AdamWSettings{c_.adam_beta1, c_.adam_beta2, c_.adam_epsilon, c_.weight_decay});
  }

  int64_t start_log() {
    AtomicFile fresh(metrics_path());
    fresh.commit();
    return 0;
  }

  // The optimizer state and the step of `checkpoint`; the log is kept up to that step (later
  // lines belong to the run that was cut off).
  int64_t restore(const fs::path& checkpoint) {
    json state = json::parse(read_file((checkpoint / "trainer_state.json").string()));
    int64_t step = state.at("global_step").get<int64_t>();
    std::cerr << "train: resuming from " << checkpoint.string() << " at step " << step << "\n";
    optimizer_->load((checkpoint / "optimizer.pt").string());
    std::string kept;
    if (fs::exists(metrics_path())) {
      std::ifstream in(metrics_path());
      for (std::string line; std::getline(in, line);)
        if (!line.empty() && json::parse(line).value("step", int64_t(0)) <= step) kept += line + "\n";
    }
    AtomicFile rewrite(metrics_path());
    rewrite.write(kept);
    rewrite.commit();
    return step;
  }

  // What every micro-batch of `step` divides its loss by (micro_batch_loss).
  double step_divisor(const std::vector<std::vector<size_t>>& micro_batches) const {
    if (c_.mode == TrainMode::dpo) return double(micro_batches.size());
    double tokens = 0;
    for (const auto& batch : micro_batches)
      for (size_t i : batch) {
        const Sequence& s = examples_[i].chosen;  // a first token has nothing before it to predict it
        tokens += double(s.completion_tokens() - (s.prompt_length == 0 && !s.ids.empty() ? 1 : 0));
      }
    return tokens;
  }

  // One optimizer step: forward and backward of its micro-batches, clipping, the update. Returns
  // its metrics, TRL's names.
  json step(int64_t index) {
    const auto& micro_batches = plan_.steps[size_t(index)];
    double divisor = step_divisor(micro_batches), in_step = double(micro_batches.size());
    json metrics = json::object();
    auto add = [&](const char* key, double value) { metrics[key] = metrics.value(key, 0.0) + value; };
    auto first_micro = size_t(plan_.micro_batches_before(index));
    for (size_t micro = 0; micro < micro_batches.size(); ++micro) {
      torch::manual_seed(c_.seed * 1000003 + first_micro + micro);  // LoRA dropout: the same masks after a resume
      const auto& batch = micro_batches[micro];
      torch::Tensor loss;
      {
        model::MixedPrecision precision(device_, dtype_);
        MicroBatch out = micro_batch_loss(*model_, examples_, batch, c_, with_reference_ ? &reference_ : nullptr, divisor);
        loss = out.loss;
        for (const auto& [key, value] : out.metrics) add(key, value / in_step);
        tokens_trained_ += out.tokens;
      }
      double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        std::string lines;
        for (size_t i : batch) lines += (lines.empty() ? "" : ", ") + std::to_string(examples_[i].line);
        throw Error(std::string("training: loss is ") + (std::isnan(loss_value) ? "NaN" : "infinite") + " at step " +
                    std::to_string(index + 1) + " in the batch of " + paths_.data + " lines " + lines);
      }
      add("loss", loss_value);
      loss.backward();
    }
    double factor = schedule(c_, index, int64_t(plan_.steps.size()));
    // The norm is logged either way; max_grad_norm <= 0 means no clipping (as in HF).
    double grad_norm = torch::nn::utils::clip_grad_norm_(trained_, c_.max_grad_norm > 0 ? c_.max_grad_norm : INFINITY);
    if (!std::isfinite(grad_norm)) throw Error("training: grad_norm is not finite at step " + std::to_string(index + 1));
    optimizer_->step(c_.learning_rate * factor);
    optimizer_->zero_grad();
    metrics["step"] = index + 1;
    metrics["epoch"] = double(plan_.micro_batches_before(index + 1)) / double(std::max<int64_t>(1, plan_.micro_batches_per_epoch));
    metrics["grad_norm"] = grad_norm;
    metrics["learning_rate"] = c_.learning_rate * factor;
    return metrics;
  }

  static std::string progress_line(const json& metrics) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "loss %.4f  grad_norm %.3g  lr %.3g", metrics["loss"].get<double>(),
                  metrics["grad_norm"].get<double>(), metrics["learning_rate"].get<double>());
    std::string line = detail;
    if (metrics.contains("rewards/accuracies"))
      line += "  acc " + std::to_string(metrics["rewards/accuracies"].get<double>()).substr(0, 5) + "  margin " +
              std::to_string(metrics["rewards/margins"].get<double>()).substr(0, 6);
    return line;
  }

  // Steps from `step` to the plan's end, logging each; checkpoints every save_steps. Returns
  // false when SIGINT stopped it (a checkpoint saved).
  bool train_steps(int64_t step) {
    // Test hook: stop (SIGSTOP) once step N is logged, so that tests signal or kill the run at
    // a known step whatever the machine's speed (tests/training/train_test.cpp).
    const char* pause_variable = std::getenv("CODEALIGN_TEST_PAUSE_AFTER_STEP");
    int64_t pause_after = pause_variable ? std::atoll(pause_variable) : -1;
    int64_t total = int64_t(plan_.steps.size()), first_step = step;
    interrupted = 0;
    auto previous_handler = std::signal(SIGINT, on_sigint);
    Progress progress("train", size_t(total - step));
    std::ofstream log(metrics_path(), std::ios::app);
    bool finished = true;
    model::reset_peak_memory(device_);
    auto start = std::chrono::steady_clock::now();
    while (step < total) {
      json metrics = this->step(step);
      ++step;
      log << metrics.dump() << "\n" << std::flush;
      progress.advance(1, progress_line(metrics));
      if (c_.save_steps > 0 && step % c_.save_steps == 0 && step < total) save_checkpoint(step);
      if (step == pause_after) std::raise(SIGSTOP);  // a SIGINT sent meanwhile is seen just below
      if (interrupted) {
        save_checkpoint(step);
        finished = false;
        break;
      }
    }
    std::signal(SIGINT, previous_handler);
    write_train_results(paths_.output, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                        step - first_step, tokens_trained_, model::peak_memory_bytes(device_));
    if (finished) save_checkpoint(step);
    return finished;
  }

  void save_checkpoint(int64_t at_step) {
    fs::path final_dir = fs::path(paths_.output) / ("checkpoint-" + std::to_string(at_step));
    fs::path temp = final_dir.string() + ".tmp";
    fs::remove_all(temp);
    use_lora_ ? model_->save_adapters(temp.string()) : model_->save(temp.string());
    optimizer_->save((temp / "optimizer.pt").string());
    AtomicFile state((temp / "trainer_state.json").string());
    state.write(json{{"global_step", at_step}, {"micro_batches_done", plan_.micro_batches_before(at_step)}}.dump() + "\n");
    state.commit();
    fs::remove_all(final_dir);
    fs::rename(temp, final_dir);
  }

  // The trained model in HF layout (merged, with the adapters beside it under LoRA), with the
  // tokenizer's files, so that the output directory is usable as it is.
  void export_model() {
    if (use_lora_) {
      model_->save_adapters((fs::path(paths_.output) / "adapter").string());
      model_->merge_lora();
    }
    model_->save(paths_.output);
    fs::path tokenizer_dir = paths_.tokenizer.empty() ? fs::path(paths_.model) : fs::path(paths_.tokenizer);
    if (!fs::is_directory(tokenizer_dir)) return;
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "merges.txt",
                             "special_tokens_map.json", "generation_config.json"})
      if (fs::exists(tokenizer_dir / name))
        fs::copy_file(tokenizer_dir / name, fs::path(paths_.output) / name, fs::copy_options::overwrite_existing);
  }

  TrainConfig c_;
  const TrainPaths& paths_;
  torch::Device device_ = torch::kCPU;
  torch::Dtype dtype_ = torch::kFloat32;
  bool use_lora_ = false, with_reference_ = false;
  std::vector<Example> examples_;
  std::optional<model::CausalLM> model_;
  std::vector<std::pair<double, double>> reference_;
  std::vector<torch::Tensor> trained_;
  std::optional<FusedAdamW> optimizer_;
  Plan plan_;
  int64_t tokens_trained_ = 0;
};

}  // namespace

bool train(const TrainConfig& config, const TrainPaths& paths, bool resume) {
  check(config);
  at::set_num_threads(1);
  return Trainer(config, paths).run(resume);
}

}  // namespace codealign::training
