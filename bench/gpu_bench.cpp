// codealign's side of bench/gpu.sh (the GPU checks of docs/BENCHMARKS.md), on any device:
//
//   gpu_bench logits DIR DEVICE DTYPE IDS_JSON OUT   # forward of the [B, T] ids in IDS_JSON;
//       # writes the logits as raw float32 [B, T, V] to OUT
//   gpu_bench greedy DIR DEVICE DTYPE IDS_JSON NEW   # greedy ids of every prompt row (JSON)
//   gpu_bench graphs DIR DEVICE DTYPE IDS_JSON NEW   # 3 samples of every prompt row with decode
//       # steps as CUDA graphs and eager, rows stopping at different steps: how many agree (JSON)
//   gpu_bench sample DIR DEVICE DTYPE B PROMPT NEW   # B random prompts of PROMPT tokens, NEW new
//       # tokens each at temperature 1 through generation::generate, with decode steps as CUDA
//       # graphs (the default) and then eager (--no-cuda-graphs): new tokens/s of each (JSON
//       # lines), the second with the model's eager decode steps alone (forward + argmax, no
//       # sampler) for comparison
//   gpu_bench profile DIR DEVICE DTYPE B PROMPT NEW OUT   # the same sampling under torch's
//       # profiler (CPU ops and GPU kernels): a Chrome trace in OUT
// DIR holds a model and a tokenizer; DTYPE is one of --dtype's values.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include <torch/csrc/autograd/profiler_kineto.h>

#include "common/files.h"
#include "generation/generation.h"
#include "model/device.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

using namespace codealign;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::vector<tokenizer::TokenId>> read_ids(const std::string& path) {
  return nlohmann::json::parse(read_file(path)).get<std::vector<std::vector<tokenizer::TokenId>>>();
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

int logits(const model::CausalLM& m, const std::string& ids_path, const std::string& out_path) {
  torch::NoGradGuard no_grad;
  auto rows = read_ids(ids_path);
  int64_t B = int64_t(rows.size()), T = int64_t(rows[0].size());
  torch::Tensor ids = torch::empty({B, T}, torch::kInt64);
  for (int64_t b = 0; b < B; ++b)
    ids[b].copy_(torch::tensor(std::vector<int64_t>(rows[size_t(b)].begin(), rows[size_t(b)].end())));
  torch::Tensor positions = torch::arange(T).unsqueeze(0).expand({B, T});
  torch::Tensor out = m.forward(ids, positions, torch::ones({B, T}, torch::kBool)).to(torch::kCPU, torch::kFloat32).contiguous();
  std::ofstream file(out_path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(out.data_ptr<float>()), std::streamsize(out.numel() * sizeof(float)));
  std::cout << nlohmann::json{{"shape", out.sizes().vec()}}.dump() << "\n";
  return file ? 0 : 1;
}

int greedy(const model::CausalLM& m, const tokenizer::Tokenizer& tok, const std::string& ids_path, int64_t new_tokens) {
  generation::SamplingConfig config;
  config.temperature = 0;
  config.max_new_tokens = new_tokens;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sample : generation::generate(m, tok, read_ids(ids_path), config)) out.push_back(sample.ids);
  std::cout << out.dump() << "\n";
  return 0;
}

// What real sampling does and the sampling check does not: several samples per prompt (the
// shared prompt) and rows that stop at different steps (captures at smaller batches), with
// graphs and eager. Both compute the same products over other shapes, so rounding may part a
// sample after a while; a broken graph parts them at once.
int graphs_against_eager(const model::CausalLM& m, const tokenizer::Tokenizer& tok, const std::string& ids_path,
                         int64_t new_tokens) {
  generation::SamplingConfig config;
  config.temperature = 1.0;
  config.max_new_tokens = new_tokens;
  config.samples_per_prompt = 3;
  for (int64_t id = 0; id < int64_t(tok.vocab_size()); id += 40) config.stop_ids.push_back(tokenizer::TokenId(id));
  auto prompts = read_ids(ids_path);
  config.decode = generation::DecodeMode::eager;
  auto expected = generation::generate(m, tok, prompts, config);
  config.decode = generation::DecodeMode::automatic;
  auto got = generation::generate(m, tok, prompts, config);
  size_t identical = 0, stopped = 0, agreeing = 0, tokens = 0;
  std::set<size_t> lengths;
  for (size_t i = 0; i < got.size(); ++i) {
    const auto &a = expected[i].ids, &b = got[i].ids;
    identical += a == b;
    stopped += got[i].finish_reason == "stop";
    lengths.insert(b.size());
    size_t k = 0;
    while (k < std::min(a.size(), b.size()) && a[k] == b[k]) ++k;
    agreeing += k, tokens += std::min(a.size(), b.size());
  }
  std::cout << nlohmann::json{{"samples", got.size()}, {"identical_samples", identical}, {"stopped_early", stopped},
                              {"distinct_lengths", lengths.size()},
                              {"tokens_agreeing_before_first_difference", double(agreeing) / double(std::max<size_t>(tokens, 1))}}
                   .dump()
            << "\n";
  return 0;
}

std::vector<std::vector<tokenizer::TokenId>> random_prompts(const tokenizer::Tokenizer& tok, int64_t B, int64_t prompt) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Tensor random = torch::randint(0, int64_t(tok.vocab_size()), {B, prompt}, generator);
  std::vector<std::vector<tokenizer::TokenId>> prompts{size_t(B)};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < prompt; ++t) prompts[size_t(b)].push_back(tokenizer::TokenId(random[b][t].item<int64_t>()));
  return prompts;
}

// Seconds per decode step of the bare model: B rows, a cache reserved for the whole run.
double decode_step_seconds(const model::CausalLM& m, int64_t B, int64_t prompt, int64_t steps) {
  torch::NoGradGuard no_grad;
  auto on_device = torch::TensorOptions().device(m.device());
  torch::Tensor ids = torch::randint(3, 1000, {B, prompt}, on_device.dtype(torch::kInt64));
  torch::Tensor positions = torch::arange(prompt, on_device.dtype(torch::kInt64)).unsqueeze(0).expand({B, prompt});
  model::KvCache cache(prompt + steps);
  torch::Tensor next = m.forward(ids, positions, torch::ones({B, prompt}, on_device.dtype(torch::kBool)), &cache)
                           .select(1, prompt - 1)
                           .argmax(-1);
  torch::Tensor one = torch::ones({B, 1}, on_device.dtype(torch::kBool));
  synchronize(m.device());
  auto start = Clock::now();
  for (int64_t step = 0; step < steps; ++step)
    next = m.forward(next.view({B, 1}), torch::full({B, 1}, prompt + step, on_device.dtype(torch::kInt64)), one, &cache)
               .select(1, 0)
               .argmax(-1);
  synchronize(m.device());
  return std::chrono::duration<double>(Clock::now() - start).count() / double(steps);
}

int sample(const model::CausalLM& m, const tokenizer::Tokenizer& tok, int64_t B, int64_t prompt, int64_t new_tokens,
           generation::DecodeMode decode, const std::string& trace = "") {
  auto prompts = random_prompts(tok, B, prompt);
  generation::SamplingConfig config;
  config.decode = decode;
  config.temperature = 1.0;
  config.max_new_tokens = new_tokens;  // no stop ids: every row makes exactly new_tokens
  generation::SamplingConfig warm = config;
  warm.max_new_tokens = 8;
  generation::generate(m, tok, prompts, warm);
  synchronize(m.device());
  model::reset_peak_memory(m.device());
  namespace profiler = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const profiler::ProfilerConfig profiling(torch::profiler::impl::ProfilerState::KINETO);
  const std::set<ActivityType> activities{ActivityType::CPU, ActivityType::CUDA};
  if (!trace.empty()) {
    profiler::prepareProfiler(profiling, activities);
    profiler::enableProfiler(profiling, activities);
  }
  auto start = Clock::now();
  auto samples = generation::generate(m, tok, prompts, config);
  synchronize(m.device());
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!trace.empty()) {
    profiler::disableProfiler()->save(trace);
    return 0;
  }
  size_t made = 0;
  for (const auto& s : samples) made += s.ids.size();
  bool eager = decode == generation::DecodeMode::eager;
  nlohmann::json line{{"impl", eager ? "codealign eager" : "codealign"}, {"new_tokens", made}, {"seconds", seconds},
                      {"tokens_per_s", double(made) / seconds}, {"step_ms", 1000 * seconds / double(new_tokens)},
                      {"peak_memory_gib", double(model::peak_memory_bytes(m.device())) / double(1 << 30)}};
  if (eager) line["bare_decode_step_ms"] = 1000 * decode_step_seconds(m, B, prompt, new_tokens);
  std::cout << line.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() < 4) {
    std::cerr << "usage: gpu_bench logits|greedy|sample DIR DEVICE DTYPE ... (see bench/gpu_bench.cpp)\n";
    return 2;
  }
  try {
    torch::Device device = model::resolve_device(a[2]);
    model::CausalLM m = model::CausalLM::load(a[1], model::resolve_dtype(a[3], device), device);
    if (a[0] == "logits" && a.size() == 6) return logits(m, a[4], a[5]);
    auto tok = tokenizer::Tokenizer::load(a[1]);
    if (a[0] == "greedy" && a.size() == 6) return greedy(m, tok, a[4], std::stoll(a[5]));
    if (a[0] == "graphs" && a.size() == 6) return graphs_against_eager(m, tok, a[4], std::stoll(a[5]));
    if (a[0] == "sample" && a.size() == 7) {
      for (auto decode : {generation::DecodeMode::automatic, generation::DecodeMode::eager})
        if (int failed = sample(m, tok, std::stoll(a[4]), std::stoll(a[5]), std::stoll(a[6]), decode)) return failed;
      return 0;
    }
    if (a[0] == "profile" && a.size() == 8)
      return sample(m, tok, std::stoll(a[4]), std::stoll(a[5]), std::stoll(a[6]), generation::DecodeMode::automatic, a[7]);
  } catch (const std::exception& e) {
    std::cerr << "gpu_bench: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "gpu_bench: bad arguments (see bench/gpu_bench.cpp)\n";
  return 2;
}
