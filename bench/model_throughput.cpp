// CPU throughput of codealign's model: prefill (tokens/s over a [B, T] batch, no cache) and
// greedy decode with the KV cache (new tokens/s over B rows), float32, one thread.
// The peer, bench/model_throughput_peer.py, runs transformers' LlamaForCausalLM (forward and
// generate) on the same directory in the same run (bench/model_throughput.sh prints both and
// the ratio).
//
//   model_throughput export SRC DIR        # any model codealign loads -> HF directory
//   model_throughput random20m DIR         # a ~20M-parameter Llama (vocab 32000), seed 0
//   model_throughput run DIR B T N         # prints one JSON line
//   model_throughput demo1m DIR            # the demo-sized Llama (1.9M, vocab 512), seed 0
//   model_throughput sample DIR PROMPT_FILE N NEW
//       # N samples of exactly NEW tokens at temperature 1 from one prompt through
//       # generation::generate (no stop ids); one JSON line with the prompt's ids, for the
//       # peer bench/sampling_peer.py
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "generation/generation.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

using namespace codealign;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run(const std::string& dir, int64_t B, int64_t T, int64_t N) {
  at::set_num_threads(1);
  torch::NoGradGuard no_grad;
  model::CausalLM m = model::CausalLM::load(dir);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::Tensor ids = torch::randint(3, m.config().vocab_size, {B, T}, generator);
  torch::Tensor positions = torch::arange(T).unsqueeze(0).expand({B, T});
  torch::Tensor valid = torch::ones({B, T}, torch::kBool);
  m.forward(ids, positions, valid);  // warm-up
  double prefill = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto start = Clock::now();
    m.forward(ids, positions, valid);
    prefill = std::min(prefill, seconds_since(start));
  }
  double decode = 1e30;
  for (int rep = 0; rep < 2; ++rep) {
    model::KvCache cache;
    torch::Tensor next = m.forward(ids, positions, valid, &cache).select(1, T - 1).argmax(-1);
    auto start = Clock::now();
    for (int64_t step = 0; step < N; ++step)
      next = m.forward(next.view({B, 1}), torch::full({B, 1}, T + step), torch::ones({B, 1}, torch::kBool), &cache)
                 .select(1, 0)
                 .argmax(-1);
    decode = std::min(decode, seconds_since(start));
  }
  std::printf("%s\n", nlohmann::json{{"impl", "codealign"}, {"prefill_tokens_per_s", double(B * T) / prefill},
                                     {"decode_tokens_per_s", double(B * N) / decode}}
                          .dump()
                          .c_str());
  return 0;
}

// CPU time the process spent in the kernel so far (page faults for fresh memory are most of it).
double system_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) * 1e-6;
}

int sample(const std::string& dir, const std::string& prompt_file, int64_t n, int64_t new_tokens) {
  at::set_num_threads(1);
  model::CausalLM m = model::CausalLM::load(dir);
  auto tokenizer = tokenizer::Tokenizer::load(dir);
  std::vector<tokenizer::TokenId> prompt = tokenizer.encode(read_file(prompt_file));
  generation::SamplingConfig config;
  config.max_new_tokens = new_tokens;
  config.temperature = 1.0;
  config.samples_per_prompt = n;
  double system_before = system_seconds();
  auto start = Clock::now();
  auto samples = generation::generate(m, tokenizer, {prompt}, config);
  double elapsed = seconds_since(start);
  double system = system_seconds() - system_before;
  int64_t generated = 0;
  for (const auto& s : samples) generated += int64_t(s.ids.size());
  std::printf("%s\n", nlohmann::json{{"impl", "codealign"}, {"prompt_ids", prompt}, {"new_tokens", generated},
                                     {"seconds", elapsed}, {"new_tokens_per_s", double(generated) / elapsed},
                                     {"system_share", system / elapsed}}
                          .dump()
                          .c_str());
  return 0;
}

model::CausalLM random_llama(const nlohmann::json& shape, const std::string& name) {
  nlohmann::json config = {{"model_type", "llama"}, {"max_position_embeddings", 2048}, {"tie_word_embeddings", true}};
  config.update(shape);
  return model::CausalLM::random(model::parse_config(config.dump(), name), 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "export" && argc == 4) {
    model::CausalLM::load(argv[2]).save(argv[3]);
    return 0;
  }
  if (mode == "random20m" && argc == 3) {
    random_llama({{"vocab_size", 32000}, {"hidden_size", 320}, {"intermediate_size", 864}, {"num_hidden_layers", 8},
                  {"num_attention_heads", 8}, {"num_key_value_heads", 4}},
                 "random20m")
        .save(argv[2]);
    return 0;
  }
  if (mode == "demo1m" && argc == 3) {
    random_llama({{"vocab_size", 512}, {"hidden_size", 192}, {"intermediate_size", 512}, {"num_hidden_layers", 4},
                  {"num_attention_heads", 6}, {"num_key_value_heads", 6}},
                 "demo1m")
        .save(argv[2]);
    return 0;
  }
  if (mode == "sample" && argc == 6) return sample(argv[2], argv[3], std::stoll(argv[4]), std::stoll(argv[5]));
  if (mode == "run" && argc == 6) return run(argv[2], std::stoll(argv[3]), std::stoll(argv[4]), std::stoll(argv[5]));
  std::fprintf(stderr, "usage: model_throughput export SRC DIR | random20m DIR | demo1m DIR | run DIR B T N | sample DIR PROMPT N NEW\n");
  return 2;
}
