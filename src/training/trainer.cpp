#include "training/trainer.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/hash.h"
#include "common/progress.h"
#include "distributed/communicator.h"
#include "model/device.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "training/data.h"
#include "training/data_parallel.h"
#include "training/grpo.h"
#include "training/logprobs.h"
#include "training/losses.h"
#include "training/optimizer.h"

namespace codealign::training {
namespace fs = std::filesystem;
using nlohmann::json;

void check(const TrainConfig& c) {
  if (c.mode == TrainMode::dpo) check(c.loss);
  if (c.mode == TrainMode::grpo) check(c.grpo);
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

// One training example: one sequence (sft, grpo) or two (dpo), with its data line. GRPO's
// examples are completions, group after group, each with its reward.
struct Example {
  int line;
  Sequence chosen, rejected;  // sft, grpo: chosen only
  double reward = 0;
  bool truncated = false;  // no end token (cut by the sampler or by max_length)
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

// The cache of reference log-probs: in the output directory (never beside the data, which may
// be read-only or another stage's), keyed by the reference model, its precision and exactly the
// token ids it scores (not by share_prompt, which changes the values by float rounding only).
std::string reference_cache_path(const model::CausalLM& model, const std::vector<Example>& examples,
                                 const TrainPaths& paths, torch::Dtype dtype) {
  ContentHash key;
  key.add(model_fingerprint(paths.reference_model()))
      .add(model::dtype_name(dtype))
      .add(model::dtype_name(model.parameters().begin()->second.scalar_type()));
  for (const Example& e : examples)
    for (const Sequence* s : {&e.chosen, &e.rejected})
      key.add(std::string_view(reinterpret_cast<const char*>(s->ids.data()), s->ids.size() * sizeof(s->ids[0])))
          .add(std::to_string(s->prompt_length));
  return (fs::path(paths.output) / ("reference-logps-" + key.hex().substr(0, 16) + ".jsonl")).string();
}

// The cached values ([n, 2] float64: chosen, rejected), or an empty tensor when the cache is
// missing, cut mid-line or stale.
torch::Tensor read_reference_cache(const std::string& cache, size_t examples) {
  std::vector<double> values;
  std::ifstream in(cache);
  try {
    for (std::string line; in && std::getline(in, line);) {
      json j = json::parse(line);
      values.push_back(j.at("chosen").get<double>());
      values.push_back(j.at("rejected").get<double>());
    }
  } catch (const json::exception&) {
    return {};
  }
  if (values.size() != 2 * examples) return {};
  return torch::tensor(values, torch::kFloat64).reshape({int64_t(examples), 2});
}

// The reference log-probs ([n, 2] float64) of examples [first, last), without gradients.
torch::Tensor compute_reference_logps(const model::CausalLM& model, const std::vector<Example>& examples, size_t first,
                                      size_t last, const TrainConfig& c, torch::Dtype dtype) {
  torch::NoGradGuard no_grad;
  model::MixedPrecision precision(model.device(), dtype);
  Progress progress("reference log-probs", last - first);
  std::vector<torch::Tensor> parts;
  // Without gradients a forward holds little: larger batches keep a GPU busy.
  size_t batch = size_t(c.per_device_train_batch_size) * 4;
  for (size_t start = first; start < last; start += batch) {
    size_t end = std::min(last, start + batch);
    SequencePairs pairs;
    for (size_t i = start; i < end; ++i) pairs.emplace_back(&examples[i].chosen, &examples[i].rejected);
    PairSequenceLogps logps = pair_logps(model, pairs, c.logits_chunk_tokens, c.share_prompt);
    parts.push_back(torch::stack({logps.chosen.sums, logps.rejected.sums}, 1).to(torch::kCPU, torch::kFloat64));
    progress.advance(end - start);
  }
  return parts.empty() ? torch::zeros({0, 2}, torch::kFloat64) : torch::cat(parts);
}

// The reference log-probs of every pair, computed once and cached. Rank 0 reads the cache and
// tells the others; otherwise each rank computes an equal slice and all gather (rank 0 writes).
std::vector<std::pair<double, double>> reference_logps(const model::CausalLM& model, const std::vector<Example>& examples,
                                                       const TrainConfig& c, const TrainPaths& paths, torch::Dtype dtype,
                                                       distributed::Communicator& comm) {
  std::string cache = reference_cache_path(model, examples, paths, dtype);
  auto n = int64_t(examples.size());
  torch::Tensor values = comm.is_main() ? read_reference_cache(cache, examples.size()) : torch::Tensor();
  torch::Tensor cached = torch::tensor({values.defined() ? 1.0 : 0.0}, torch::kFloat64);
  comm.broadcast(cached);
  if (cached.item<double>() > 0) {
    if (!comm.is_main()) values = torch::empty({n, 2}, torch::kFloat64);
    comm.broadcast(values);
  } else {
    distributed::World::Slice mine_of = comm.world().slice_of(examples.size());
    torch::Tensor mine = torch::zeros({int64_t(mine_of.size), 2}, torch::kFloat64);
    mine.narrow(0, 0, int64_t(mine_of.last - mine_of.first))
        .copy_(compute_reference_logps(model, examples, mine_of.first, mine_of.last, c, dtype));
    values = comm.all_gather(mine).reshape({-1, 2}).narrow(0, 0, n).contiguous();
    if (comm.is_main()) {
      AtomicFile file(cache);
      for (int64_t i = 0; i < n; ++i)
        file.write(json{{"chosen", values[i][0].item<double>()}, {"rejected", values[i][1].item<double>()}}.dump() + "\n");
      file.commit();
    }
  }
  std::vector<std::pair<double, double>> out;
  auto accessor = values.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) out.emplace_back(accessor[i][0], accessor[i][1]);
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
  } else if (c.mode == TrainMode::grpo) {
    std::optional<tokenizer::TokenId> end = end_of_completion_id(tok, c.prompts);
    for (const GroupExample& g : read_groups(paths.data)) {
      check_prompt_rule(g.prompt, c.prompts, paths.data, g.line);
      std::vector<Example> group;
      for (const GroupCompletion& completion : g.completions) {
        auto s = make_sequence(tok, g.prompt, completion.completion, completion.completion_ids, max_length, c.prompts,
                               !completion.truncated);
        if (!s) break;  // the prompt leaves no room: the whole group goes
        bool truncated = completion.truncated || (end && s->ids.back() != *end);
        group.push_back({g.line, *s, {}, completion.reward, truncated});
      }
      if (group.size() == g.completions.size())
        examples.insert(examples.end(), group.begin(), group.end());
      else
        ++skipped;
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
  std::vector<std::pair<std::string, double>> metrics;
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
// (chosen and rejected, padding left out, all ranks), the processes, the bytes of optimizer
// state rank 0 holds (all of it, or its ZeRO shard) and of model state (weights, gradients,
// master slices, optimizer state) and, on a GPU, the peak memory of tensors.
void write_train_results(const std::string& output, double seconds, int64_t steps, int64_t tokens, int world_size,
                         const DataParallelOptimizer& optimizer, int64_t peak_bytes) {
  json results{{"train_runtime", seconds},
               {"train_steps_per_second", double(steps) / std::max(seconds, 1e-9)},
               {"train_tokens_per_second", double(tokens) / std::max(seconds, 1e-9)},
               {"world_size", world_size},
               {"optimizer_state_bytes", optimizer.state_bytes()},
               {"model_state_bytes", optimizer.model_state_bytes()}};
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

// Micro-batches of batch size x world size: each rank takes its share of each (Trainer::share).
Plan make_plan(const TrainConfig& c, const std::vector<Example>& examples, int world_size) {
  std::vector<size_t> lengths;
  for (const Example& e : examples) lengths.push_back(std::max(e.chosen.ids.size(), e.rejected.ids.size()));
  Plan plan;
  for (int64_t epoch = 0; epoch < c.num_train_epochs; ++epoch) {
    size_t batch_size = size_t(c.per_device_train_batch_size) * size_t(world_size);
    auto batches = c.shuffle ? length_batches(lengths, batch_size, c.seed + uint64_t(epoch))
                             : file_order_batches(examples.size(), batch_size);
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

// GRPO's steps, as TRL takes them (steps_per_generation = gradient_accumulation_steps): per
// epoch the groups (shuffled with seed + epoch, or in file order), cut into steps of
// batch x accumulation completions (whole groups), each step num_iterations times in a row,
// cut into micro-batches of `batch` completions.
Plan make_grpo_plan(const TrainConfig& c, size_t examples, size_t group_size, int world_size) {
  size_t micro_batch = size_t(c.per_device_train_batch_size) * size_t(world_size);
  size_t step_size = micro_batch * size_t(c.gradient_accumulation_steps);
  if (step_size % group_size != 0)
    throw Error("training: batch size x gradient_accumulation_steps x processes (" + std::to_string(step_size) +
                ") must be a multiple of the group size " + std::to_string(group_size) +
                " (each optimizer step takes whole groups, whose advantages are relative to each other)");
  size_t groups = examples / group_size, groups_per_step = step_size / group_size;
  Plan plan;
  for (int64_t epoch = 0; epoch < c.num_train_epochs; ++epoch) {
    std::vector<size_t> order(groups);
    std::iota(order.begin(), order.end(), 0);
    if (c.shuffle) std::shuffle(order.begin(), order.end(), std::mt19937_64(c.seed + uint64_t(epoch)));
    int64_t micro_batches = 0;
    for (size_t first = 0; first < groups; first += groups_per_step) {
      std::vector<size_t> completions;
      for (size_t g = first; g < std::min(groups, first + groups_per_step); ++g)
        for (size_t i = 0; i < group_size; ++i) completions.push_back(order[g] * group_size + i);
      std::vector<std::vector<size_t>> step;
      for (size_t i = 0; i < completions.size(); i += micro_batch)
        step.emplace_back(completions.begin() + long(i), completions.begin() + long(std::min(completions.size(), i + micro_batch)));
      for (int64_t iteration = 0; iteration < c.grpo.num_iterations; ++iteration) {
        plan.steps.push_back(step);
        micro_batches += int64_t(step.size());
      }
    }
    plan.micro_batches_per_epoch = micro_batches;
  }
  if (c.max_steps > 0 && int64_t(plan.steps.size()) > c.max_steps) plan.steps.resize(size_t(c.max_steps));
  return plan;
}

// One run of `train`: load -> reference log-probs -> plan -> resume -> steps -> checkpoints ->
// export, each a member below.
class Trainer {
 public:
  Trainer(const TrainConfig& config, const TrainPaths& paths, distributed::Communicator& comm)
      : c_(config), paths_(paths), comm_(comm) {
    if (c_.learning_rate <= 0)
      c_.learning_rate = c_.mode == TrainMode::dpo ? 5e-7 : c_.mode == TrainMode::grpo ? 1e-6 : 2e-5;
    device_ = model::resolve_device(c_.device);
    if (device_.is_cuda() && comm_.size() > 1) device_ = torch::Device(torch::kCUDA, int8_t(comm_.world().local_rank));
    dtype_ = model::resolve_dtype(c_.dtype, device_);
    use_lora_ = c_.lora.rank > 0;
    with_reference_ = (c_.mode == TrainMode::dpo && c_.loss.loss_type != LossType::simpo) ||
                      (c_.mode == TrainMode::grpo && c_.grpo.beta != 0);
  }

  // Returns false when stopped by SIGINT (after saving a checkpoint).
  bool run(bool resume) {
    fs::create_directories(paths_.output);
    std::optional<fs::path> checkpoint = resume ? newest_checkpoint(paths_.output) : std::nullopt;
    load(checkpoint);
    plan_ = c_.mode == TrainMode::grpo ? make_grpo_plan(c_, examples_.size(), group_size(), comm_.size())
                                       : make_plan(c_, examples_, comm_.size());
    if (with_reference_) compute_reference(checkpoint.has_value());
    prepare_for_training();
    int64_t step = checkpoint ? restore(*checkpoint) : start_log();
    bool finished = train_steps(step);
    if (finished) export_model();
    comm_.barrier();  // the other ranks end when the model is written
    return finished;
  }

 private:
  std::string metrics_path() const { return (fs::path(paths_.output) / "metrics.jsonl").string(); }

  // GRPO: the completions of a group share their data line and come one after another.
  size_t group_size() const {
    size_t size = 0;
    while (size < examples_.size() && examples_[size].line == examples_[0].line) ++size;
    return size;
  }

  void load(const std::optional<fs::path>& checkpoint) {
    auto tok = tokenizer::Tokenizer::load(paths_.tokenizer.empty() ? paths_.model : paths_.tokenizer);
    examples_ = load_examples(c_, paths_, tok);
    if (!paths_.eval_data.empty()) {
      if (c_.mode != TrainMode::dpo) throw Error("training: eval_data (held-out pairs) is for dpo only");
      TrainPaths heldout = paths_;
      heldout.data = paths_.eval_data;
      eval_examples_ = load_examples(c_, heldout, tok);
    }
    // Float32 weights: with bfloat16 they are the master copy that autocast reads from. A LoRA
    // base is frozen and needs no master copy: it loads in the training dtype (a 7B base in
    // bfloat16 takes 15 GB, not 30), and only the float32 adapters train. A LoRA checkpoint
    // holds adapters; the base is paths.model.
    model_.emplace(model::CausalLM::load(checkpoint && !use_lora_ ? checkpoint->string() : paths_.model,
                                         use_lora_ ? dtype_ : torch::kFloat32, device_));
    check_vocabulary(examples_, model_->config().vocab_size, paths_.data);
    check_vocabulary(eval_examples_, model_->config().vocab_size, paths_.eval_data);
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
      reference_from(reference_model);
    } else {
      reference_from(*model_);
    }
    model_->set_lora_enabled(true);
  }

  void reference_from(const model::CausalLM& reference) {
    if (c_.mode != TrainMode::grpo) {
      reference_ = reference_logps(reference, examples_, c_, paths_, dtype_, comm_);
      if (!eval_examples_.empty()) eval_reference_ = reference_logps(reference, eval_examples_, c_, paths_, dtype_, comm_);
      return;
    }
    // GRPO's per-token log-probs stay on the rank that trains on them: each computes its shares'.
    std::set<size_t> mine;
    for (const auto& step : plan_.steps)
      for (const auto& micro_batch : step)
        for (size_t i : share(micro_batch)) mine.insert(i);
    std::vector<size_t> indices(mine.begin(), mine.end());
    Progress progress("reference log-probs", indices.size());
    token_reference_ = completion_token_logps(reference, indices, &progress);
  }

  // GRPO: each completion's per-token log-probs under `model`, without gradients (the
  // reference's, or the policy's before a step's first iteration).
  std::map<size_t, torch::Tensor> completion_token_logps(const model::CausalLM& model, const std::vector<size_t>& indices,
                                                         Progress* progress = nullptr) const {
    torch::NoGradGuard no_grad;
    model::MixedPrecision precision(model.device(), dtype_);
    std::map<size_t, torch::Tensor> out;
    size_t batch = size_t(c_.per_device_train_batch_size) * 4;
    for (size_t first = 0; first < indices.size(); first += batch) {
      std::vector<const Sequence*> sequences;
      for (size_t i = first; i < std::min(indices.size(), first + batch); ++i) sequences.push_back(&examples_[indices[i]].chosen);
      TokenBatch tokens = make_batch(sequences);
      torch::Tensor logps = token_logps(model, tokens, c_.logits_chunk_tokens, c_.grpo.temperature).logps;
      torch::Tensor counts = tokens.loss_mask.slice(1, 1).sum(1);
      std::vector<int64_t> sizes(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
      auto parts = logps.split_with_sizes(sizes);
      for (size_t k = 0; k < parts.size(); ++k) out[indices[first + k]] = parts[k];
      if (progress) progress->advance(sequences.size());
    }
    return out;
  }

  // GRPO, before a step: the advantages of its completions (and, at a step's first iteration
  // when there are several, the policy's log-probs that the ratios are taken against). Returns
  // the step's completion metrics.
  std::vector<std::pair<std::string, double>> prepare_grpo_step(int64_t index) {
    std::vector<size_t> completions;
    for (const auto& batch : plan_.steps[size_t(index)]) completions.insert(completions.end(), batch.begin(), batch.end());
    std::vector<double> rewards;
    for (size_t i : completions) rewards.push_back(examples_[i].reward);
    Advantages advantages = group_advantages(rewards, group_size(), c_.grpo.scale_rewards);
    advantages_.clear();
    std::vector<CompletionFacts> facts;
    for (size_t k = 0; k < completions.size(); ++k) {
      const Example& e = examples_[completions[k]];
      advantages_[completions[k]] = advantages.values[k];
      facts.push_back({e.reward, int64_t(e.chosen.completion_tokens()), e.truncated, advantages.zero_std[k]});
    }
    if (c_.grpo.num_iterations > 1 && index % c_.grpo.num_iterations == 0)
      old_logps_ = completion_token_logps(*model_, completions);
    if (c_.grpo.num_iterations > 1 && old_logps_.empty())
      throw Error("training: the checkpoint lacks the log-probs of the step's first iteration (old-logps.pt)");
    return completion_metrics(facts, c_.grpo.reward_name);
  }

  // One GRPO micro-batch: its completions' per-token log-probs against their advantages.
  MicroBatch grpo_micro_batch(const std::vector<size_t>& batch, double divisor) const {
    MicroBatch out;
    std::vector<const Sequence*> sequences;
    std::vector<float> advantages, keep;
    std::vector<torch::Tensor> old, reference;
    for (size_t i : batch) {
      const Example& e = examples_[i];
      sequences.push_back(&e.chosen);
      out.tokens += int64_t(e.chosen.ids.size());
      advantages.push_back(float(advantages_.at(i)));
      keep.push_back(c_.grpo.mask_truncated_completions && e.truncated ? 0.0f : 1.0f);
      if (!old_logps_.empty()) old.push_back(old_logps_.at(i));
      if (with_reference_) reference.push_back(token_reference_.at(i));
    }
    TokenLogps tokens = token_logps(*model_, make_batch(sequences), c_.logits_chunk_tokens, c_.grpo.temperature, true);
    torch::Device device = tokens.logps.device();
    GrpoTokens t{tokens.logps, {}, {}, tokens.entropy,
                 torch::tensor(advantages).to(device).index_select(0, tokens.rows),
                 torch::tensor(keep).to(device).index_select(0, tokens.rows), tokens.rows, int64_t(batch.size())};
    if (!old.empty()) t.old_logps = torch::cat(old).to(device);
    if (!reference.empty()) t.reference_logps = torch::cat(reference).to(device);
    GrpoLoss loss = grpo_loss(t, c_.grpo, divisor);
    out.loss = loss.loss;
    out.metrics = std::move(loss.metrics);
    return out;
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
    }
    // ZeRO-1 in bfloat16 holds the weights in bfloat16 and their float32 master in the ranks'
    // slices (a LoRA run's adapters are small, and stay float32).
    bool low_precision = c_.zero_stage == 1 && dtype_ == torch::kBFloat16 && !use_lora_;
    optimizer_.emplace(decayed, not_decayed, AdamWSettings{c_.adam_beta1, c_.adam_beta2, c_.adam_epsilon, c_.weight_decay},
                       comm_, c_.zero_stage == 1, low_precision ? torch::kBFloat16 : torch::kFloat32);
  }

  int64_t start_log() {
    if (!comm_.is_main()) return 0;
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
    if (fs::exists(checkpoint / "old-logps.pt")) load_old_logps((checkpoint / "old-logps.pt").string());
    if (!comm_.is_main()) return step;
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

  // The tokens of example i that carry loss: its completion's (a first token has nothing
  // before it to predict it), none for a GRPO completion masked as truncated.
  double loss_tokens(size_t i) const {
    const Sequence& s = examples_[i].chosen;
    bool masked = c_.mode == TrainMode::grpo && c_.grpo.mask_truncated_completions && examples_[i].truncated;
    return masked ? 0.0 : double(s.completion_tokens() - (s.prompt_length == 0 && !s.ids.empty() ? 1 : 0));
  }
  double loss_tokens(const std::vector<size_t>& batch) const {
    double tokens = 0;
    for (size_t i : batch) tokens += loss_tokens(i);
    return tokens;
  }

  // What every micro-batch of `step` divides its loss by (micro_batch_loss).
  double step_divisor(const std::vector<std::vector<size_t>>& micro_batches) const {
    bool token_mean = c_.mode == TrainMode::sft || (c_.mode == TrainMode::grpo && c_.grpo.loss_type == GrpoLossType::dapo);
    if (!token_mean) return double(micro_batches.size());
    double tokens = 0;
    for (const auto& batch : micro_batches) tokens += loss_tokens(batch);
    return c_.mode == TrainMode::grpo ? std::max(tokens, 1.0) : tokens;
  }

  // The loss's backward pass; returns its value. A loss that is not finite stops the run naming
  // the step and the batch's data lines.
  double backward(const torch::Tensor& loss, const std::vector<size_t>& batch, int64_t index) const {
    double value = loss.item<double>();
    if (!std::isfinite(value)) {
      std::string lines;
      for (size_t i : batch) lines += (lines.empty() ? "" : ", ") + std::to_string(examples_[i].line);
      throw Error(std::string("training: loss is ") + (std::isnan(value) ? "NaN" : "infinite") + " at step " +
                  std::to_string(index + 1) + " in the batch of " + paths_.data + " lines " + lines);
    }
    loss.backward();
    return value;
  }

  // One GRPO micro-batch of step `index`: this rank's share (never empty: a micro-batch holds
  // batch size x world size completions) forward and backward, its loss weighted so that the
  // ranks' losses sum to the whole micro-batch's (grpo and dr_grpo average over its completions,
  // bnpo over its tokens; dapo's divisor is the step's tokens already), and the whole
  // micro-batch's metrics: token means weighted by tokens, the minimum and maximum over ranks.
  // Adds them / in_step to `metrics`; returns the share's tokens.
  int64_t grpo_micro_step(const std::vector<size_t>& batch, const std::vector<size_t>& whole, double divisor,
                          int64_t index, double in_step, json& metrics) {
    bool all = batch.size() == whole.size();
    double token_weight = all ? 1.0 : loss_tokens(batch) / std::max(loss_tokens(whole), 1.0);
    double weight = all || c_.grpo.loss_type == GrpoLossType::dapo ? 1.0
                    : c_.grpo.loss_type == GrpoLossType::bnpo  ? token_weight
                                                               : double(batch.size()) / double(whole.size());
    MicroBatch out;
    {
      model::MixedPrecision precision(device_, dtype_);
      out = grpo_micro_batch(batch, divisor);
    }
    metrics["loss"] = metrics.value("loss", 0.0) + backward(out.loss * weight, batch, index);
    // Minima as maxima of negatives; a NaN (no completion to take it over) as -inf, back after.
    std::vector<double> values;
    for (const auto& [name, value] : out.metrics) {
      double sign = name == grpo_min_metric ? -1.0 : 1.0;
      bool extreme = name == grpo_min_metric || name == grpo_max_metric;
      values.push_back(!extreme ? value * token_weight : std::isnan(value) ? -INFINITY : sign * value);
    }
    if (!all) {
      torch::Tensor sums = torch::tensor(values, torch::kFloat64), extremes = sums.clone();
      comm_.all_reduce_sum(sums);
      comm_.all_reduce_max(extremes);
      for (size_t k = 0; k < values.size(); ++k) {
        const std::string& name = out.metrics[k].first;
        bool extreme = name == grpo_min_metric || name == grpo_max_metric;
        double value = (extreme ? extremes : sums)[int64_t(k)].item<double>();
        values[k] = !extreme ? value : std::isinf(value) ? NAN : name == grpo_min_metric ? -value : value;
      }
    } else {
      for (size_t k = 0; k < values.size(); ++k) values[k] = out.metrics[k].second;
    }
    for (size_t k = 0; k < values.size(); ++k)
      metrics[out.metrics[k].first] = metrics.value(out.metrics[k].first, 0.0) + values[k] / in_step;
    return out.tokens;
  }

  // DPO on the held-out pairs, without gradients: TRL's eval_ metrics (eval_loss, eval_rewards/*,
  // eval_logps/*), and what training did to them: the mean change of each side's log-prob from
  // the reference (eval_logps/chosen_change, eval_logps/rejected_change), the share of pairs
  // whose chosen log-prob fell below the reference's (eval_chosen_fell: likelihood displacement,
  // which DPOP targets), and eval_kl, a per-token estimate of KL(reference || policy) from the
  // completions (the reference sampled them, in an on-policy round). Each rank takes a slice.
  json evaluate_heldout() {
    torch::NoGradGuard no_grad;
    model_->set_training(false);
    auto n = int64_t(eval_examples_.size());
    distributed::World::Slice mine = comm_.world().slice_of(eval_examples_.size());
    const char* names[] = {"eval_loss", "eval_rewards/chosen", "eval_rewards/rejected", "eval_rewards/accuracies",
                           "eval_rewards/margins", "eval_logps/chosen", "eval_logps/rejected",
                           "eval_logps/chosen_change", "eval_logps/rejected_change", "eval_chosen_fell"};
    constexpr int64_t metrics = 10;
    torch::Tensor sums = torch::zeros({metrics + 2}, torch::kFloat64);  // + KL's log-ratio and token sums
    size_t batch = size_t(c_.per_device_train_batch_size) * 4;
    for (size_t start = mine.first; start < mine.last; start += batch) {
      size_t end = std::min(mine.last, start + batch);
      SequencePairs pairs;
      std::vector<double> reference_chosen, reference_rejected;
      for (size_t i = start; i < end; ++i) {
        pairs.emplace_back(&eval_examples_[i].chosen, &eval_examples_[i].rejected);
        reference_chosen.push_back(with_reference_ ? eval_reference_[i].first : 0.0);
        reference_rejected.push_back(with_reference_ ? eval_reference_[i].second : 0.0);
      }
      model::MixedPrecision precision(device_, dtype_);
      PairSequenceLogps logps = pair_logps(*model_, pairs, c_.logits_chunk_tokens, c_.share_prompt);
      torch::Tensor chosen = logps.chosen.sums.to(torch::kCPU, torch::kFloat64);
      torch::Tensor rejected = logps.rejected.sums.to(torch::kCPU, torch::kFloat64);
      torch::Tensor ref_chosen = torch::tensor(reference_chosen, torch::kFloat64);
      torch::Tensor ref_rejected = torch::tensor(reference_rejected, torch::kFloat64);
      PairLogps pair{logps.chosen.sums, logps.rejected.sums, ref_chosen.to(logps.chosen.sums.device(), torch::kFloat32),
                     ref_rejected.to(logps.chosen.sums.device(), torch::kFloat32), logps.chosen.tokens, logps.rejected.tokens};
      LossOutput loss = preference_loss(pair, c_.loss);
      torch::Tensor chosen_rewards = loss.chosen_rewards.to(torch::kCPU, torch::kFloat64);
      torch::Tensor rejected_rewards = loss.rejected_rewards.to(torch::kCPU, torch::kFloat64);
      auto b = double(end - start);
      torch::Tensor tokens = (logps.chosen.tokens + logps.rejected.tokens).to(torch::kCPU, torch::kFloat64);
      std::vector<torch::Tensor> parts = {
          loss.loss.to(torch::kCPU, torch::kFloat64) * b, chosen_rewards.sum(), rejected_rewards.sum(),
          (chosen_rewards > rejected_rewards).to(torch::kFloat64).sum(), (chosen_rewards - rejected_rewards).sum(),
          chosen.sum(), rejected.sum(), (chosen - ref_chosen).sum(), (rejected - ref_rejected).sum(),
          (chosen < ref_chosen).to(torch::kFloat64).sum(), (ref_chosen - chosen + ref_rejected - rejected).sum(),
          tokens.sum()};
      sums += torch::stack(parts);
    }
    model_->set_training(true);
    comm_.all_reduce_sum(sums);
    json out;
    for (int64_t k = 0; k < metrics; ++k) out[names[k]] = sums[k].item<double>() / double(n);
    if (with_reference_) {
      out["eval_kl"] = sums[metrics].item<double>() / std::max(sums[metrics + 1].item<double>(), 1.0);
    } else {  // reference-free (simpo): no change from a reference to tell
      for (const char* name : {"eval_logps/chosen_change", "eval_logps/rejected_change", "eval_chosen_fell"}) out.erase(name);
    }
    return out;
  }

  // This rank's share of a micro-batch of batch size x world size: an equal contiguous slice
  // (similar lengths, as the batch is).
  std::vector<size_t> share(const std::vector<size_t>& micro_batch) const {
    distributed::World::Slice mine = comm_.world().slice_of(micro_batch.size());
    return {micro_batch.begin() + long(mine.first), micro_batch.begin() + long(mine.last)};
  }

  // The step's metrics and token count summed over ranks: each rank's are its share's.
  void sum_over_ranks(json& metrics, int64_t& tokens) const {
    if (comm_.size() == 1) return;
    std::vector<std::string> names{"loss"};
    if (c_.mode == TrainMode::dpo)
      names.insert(names.end(), {"rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
                                 "logps/chosen", "logps/rejected"});
    std::vector<double> values;
    for (const std::string& name : names) values.push_back(metrics.value(name, 0.0));
    values.push_back(double(tokens));
    torch::Tensor sums = torch::tensor(values, torch::kFloat64);
    comm_.all_reduce_sum(sums);
    for (size_t k = 0; k < names.size(); ++k) metrics[names[k]] = sums[int64_t(k)].item<double>();
    tokens = int64_t(sums[int64_t(names.size())].item<double>());
  }

  // Whether any rank was interrupted (SIGINT), so that all stop at the same step.
  bool any_rank_interrupted() const {
    if (comm_.size() == 1) return interrupted;
    torch::Tensor flag = torch::tensor({interrupted ? 1.0 : 0.0}, torch::kFloat64);
    comm_.all_reduce_max(flag);
    return flag.item<double>() > 0;
  }

  // One optimizer step: forward and backward of its micro-batches, clipping, the update. Returns
  // its metrics, TRL's names.
  json step(int64_t index) {
    const auto& micro_batches = plan_.steps[size_t(index)];
    double divisor = step_divisor(micro_batches), in_step = double(micro_batches.size());
    json metrics = json::object();
    auto add = [&](const std::string& key, double value) { metrics[key] = metrics.value(key, 0.0) + value; };
    if (c_.mode == TrainMode::grpo)
      for (const auto& [key, value] : prepare_grpo_step(index)) metrics[key] = value;
    auto first_micro = size_t(plan_.micro_batches_before(index));
    int64_t tokens = 0;
    for (size_t micro = 0; micro < micro_batches.size(); ++micro) {
      // LoRA dropout: the same masks after a resume, other masks on each rank (rank 0's are one process's).
      torch::manual_seed(c_.seed * 1000003 + first_micro + micro + uint64_t(comm_.rank()) * 0x9E3779B97F4A7C15ull);
      std::vector<size_t> batch = share(micro_batches[micro]);
      if (c_.mode == TrainMode::grpo) {
        tokens += grpo_micro_step(batch, micro_batches[micro], divisor, index, in_step, metrics);
        continue;
      }
      if (batch.empty()) continue;
      // DPO's loss and metrics are means over the micro-batch: a rank's share weighs as its pairs do.
      double fraction = double(batch.size()) / double(micro_batches[micro].size());
      double share_divisor = c_.mode == TrainMode::dpo ? divisor / fraction : divisor;
      torch::Tensor loss;
      {
        model::MixedPrecision precision(device_, dtype_);
        MicroBatch out = micro_batch_loss(*model_, examples_, batch, c_, with_reference_ ? &reference_ : nullptr,
                                          share_divisor);
        loss = out.loss;
        for (const auto& [key, value] : out.metrics) add(key, value * fraction / in_step);
        tokens += out.tokens;
      }
      add("loss", backward(loss, batch, index));
    }
    sum_over_ranks(metrics, tokens);
    tokens_trained_ += tokens;
    double factor = schedule(c_, index, int64_t(plan_.steps.size()));
    double grad_norm = optimizer_->reduce_and_clip(c_.max_grad_norm);
    if (!std::isfinite(grad_norm)) throw Error("training: grad_norm is not finite at step " + std::to_string(index + 1));
    if (comm_.is_main()) save_gradients_for_tests(index + 1);
    optimizer_->step(c_.learning_rate * factor);
    optimizer_->zero_grad();
    metrics["step"] = index + 1;
    metrics["epoch"] = double(plan_.micro_batches_before(index + 1)) / double(std::max<int64_t>(1, plan_.micro_batches_per_epoch));
    metrics["grad_norm"] = grad_norm;
    metrics["learning_rate"] = c_.learning_rate * factor;
    return metrics;
  }

  // Test hook: the (clipped) gradients of step N as a model directory DIR/step-N (gradients
  // have the parameters' names and shapes), compared with TRL's by tests/reference.
  void save_gradients_for_tests(int64_t step) const {
    const char* directory = std::getenv("CODEALIGN_TEST_SAVE_GRADIENTS");
    if (!directory) return;
    std::map<std::string, torch::Tensor> gradients;
    for (const auto& [name, p] : model_->parameters())
      gradients[name] = p.grad().defined() ? p.grad().detach().to(torch::kCPU, torch::kFloat32) : torch::zeros_like(p);
    model::CausalLM(model_->config(), gradients).save((fs::path(directory) / ("step-" + std::to_string(step))).string());
  }

  static std::string progress_line(const json& metrics) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "loss %.4f  grad_norm %.3g  lr %.3g", metrics["loss"].get<double>(),
                  metrics["grad_norm"].get<double>(), metrics["learning_rate"].get<double>());
    std::string line = detail;
    if (metrics.contains("reward")) line += "  reward " + std::to_string(metrics["reward"].get<double>()).substr(0, 6);
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
    std::ofstream log;
    if (comm_.is_main()) log.open(metrics_path(), std::ios::app);
    bool finished = true;
    model::reset_peak_memory(device_);
    auto start = std::chrono::steady_clock::now();
    while (step < total) {
      json metrics = this->step(step);
      ++step;
      if (!eval_examples_.empty() && ((c_.eval_steps > 0 && step % c_.eval_steps == 0) || step == total))
        metrics.update(evaluate_heldout());
      if (comm_.is_main()) log << metrics.dump() << "\n" << std::flush;
      progress.advance(1, progress_line(metrics));
      if (c_.save_steps > 0 && step % c_.save_steps == 0 && step < total) save_checkpoint(step);
      if (step == pause_after) std::raise(SIGSTOP);  // a SIGINT sent meanwhile is seen just below
      if (any_rank_interrupted()) {
        save_checkpoint(step);
        finished = false;
        break;
      }
    }
    std::signal(SIGINT, previous_handler);
    if (comm_.is_main())
      write_train_results(paths_.output, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                          step - first_step, tokens_trained_, comm_.size(), *optimizer_, model::peak_memory_bytes(device_));
    if (finished) save_checkpoint(step);
    return finished;
  }

  // Rank 0 writes: every rank holds the same weights (and, sharded, gives its optimizer state).
  void save_checkpoint(int64_t at_step) {
    fs::path final_dir = fs::path(paths_.output) / ("checkpoint-" + std::to_string(at_step));
    fs::path temp = final_dir.string() + ".tmp";
    if (comm_.is_main()) fs::remove_all(temp);
    if (!use_lora_) save_weights(temp.string());
    else if (comm_.is_main()) model_->save_adapters(temp.string());
    optimizer_->save((temp / "optimizer.pt").string());
    if (!comm_.is_main()) return;
    if (!old_logps_.empty()) save_old_logps((temp / "old-logps.pt").string());
    AtomicFile state((temp / "trainer_state.json").string());
    state.write(json{{"global_step", at_step}, {"micro_batches_done", plan_.micro_batches_before(at_step)}}.dump() + "\n");
    state.commit();
    fs::remove_all(final_dir);
    fs::rename(temp, final_dir);
  }

  // GRPO with several iterations: the log-probs a step's ratios are taken against, so that a
  // run resumed between two iterations of a step continues as it would have.
  void save_old_logps(const std::string& path) const {
    std::vector<int64_t> indices, sizes;
    std::vector<torch::Tensor> values;
    for (const auto& [i, logps] : old_logps_) indices.push_back(int64_t(i)), sizes.push_back(logps.numel()), values.push_back(logps.cpu());
    std::vector<torch::Tensor> saved = {torch::tensor(indices), torch::tensor(sizes), torch::cat(values)};
    torch::save(saved, path);
  }
  void load_old_logps(const std::string& path) {
    std::vector<torch::Tensor> saved;
    torch::load(saved, path);
    auto sizes = saved.at(1).contiguous();
    auto parts = saved.at(2).split_with_sizes(std::vector<int64_t>(sizes.data_ptr<int64_t>(), sizes.data_ptr<int64_t>() + sizes.numel()));
    for (size_t k = 0; k < parts.size(); ++k) old_logps_[size_t(saved[0][int64_t(k)].item<int64_t>())] = parts[k].to(device_);
  }

  // The weights in float32 as a model directory (collective; rank 0 writes): with bfloat16
  // weights their float32 master, so that a checkpoint resumes exactly.
  void save_weights(const std::string& directory) const {
    if (!optimizer_->low_precision_weights()) {
      if (comm_.is_main()) model_->save(directory);
      return;
    }
    std::vector<torch::Tensor> full = optimizer_->full_precision_weights();
    if (!comm_.is_main()) return;
    const std::vector<torch::Tensor>& trained = optimizer_->trained();
    std::map<std::string, torch::Tensor> weights;
    for (const auto& [name, p] : model_->parameters())
      for (size_t k = 0; k < trained.size(); ++k)
        if (trained[k].is_same(p)) weights[name] = full[k];
    model::CausalLM(model_->config(), weights).save(directory);
  }

  // The trained model in HF layout (merged, with the adapters beside it under LoRA), with the
  // tokenizer's files, so that the output directory is usable as it is. Collective; rank 0 writes.
  void export_model() {
    if (!use_lora_) save_weights(paths_.output);
    if (!comm_.is_main()) return;
    if (use_lora_) {
      model_->save_adapters((fs::path(paths_.output) / "adapter").string());
      model_->merge_lora();
      model_->save(paths_.output);
    }
    fs::path tokenizer_dir = paths_.tokenizer.empty() ? fs::path(paths_.model) : fs::path(paths_.tokenizer);
    if (!fs::is_directory(tokenizer_dir)) return;
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "merges.txt",
                             "special_tokens_map.json", "generation_config.json"})
      if (fs::exists(tokenizer_dir / name))
        fs::copy_file(tokenizer_dir / name, fs::path(paths_.output) / name, fs::copy_options::overwrite_existing);
  }

  TrainConfig c_;
  const TrainPaths& paths_;
  distributed::Communicator& comm_;
  torch::Device device_ = torch::kCPU;
  torch::Dtype dtype_ = torch::kFloat32;
  bool use_lora_ = false, with_reference_ = false;
  std::vector<Example> examples_;
  std::optional<model::CausalLM> model_;
  std::vector<std::pair<double, double>> reference_;
  std::vector<Example> eval_examples_;  // dpo's held-out pairs
  std::vector<std::pair<double, double>> eval_reference_;
  // GRPO: per completion, per-token log-probs of the reference and of the policy at the step's
  // first iteration; the current step's advantages.
  std::map<size_t, torch::Tensor> token_reference_, old_logps_;
  std::map<size_t, double> advantages_;
  std::optional<DataParallelOptimizer> optimizer_;
  Plan plan_;
  int64_t tokens_trained_ = 0;
};

}  // namespace

bool train(const TrainConfig& config, const TrainPaths& paths, bool resume) {
  check(config);
  at::set_num_threads(1);
  auto& comm = distributed::Communicator::get(config.distributed, model::resolve_device(config.device).is_cuda());
  try {
    return Trainer(config, paths, comm).run(resume);
  } catch (const distributed::CollectiveFailure&) {
    throw;  // its message names the rank that is gone
  } catch (const std::exception& e) {
    comm.report_failure(e.what());  // so that the other ranks' errors say why this one stopped
    throw;
  }
}

}  // namespace codealign::training
