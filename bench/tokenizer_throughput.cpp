// Encode throughput of codealign's tokenizers on code: HumanEval and MBPP (prompts,
// canonical solutions and tests). Peer in the same run: libsentencepiece's encoder on the
// Llama-2 vocabulary, against codealign's own BPE on the same vocabulary (llama.cpp's
// ggml-vocab-llama-spm.gguf from the shared data).
//
//   build/bench/tokenizer_throughput [--benchmark_filter=...]
// Google Benchmark reports bytes_per_second; "threads:2" rows use both cores on one shared
// Tokenizer. "warm" rows have seen the corpus once (HF tokenizers keeps a word cache too);
// "cold" rows load a fresh tokenizer each iteration (untimed), so the word cache starts empty.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <sentencepiece_processor.h>

#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"

namespace {

using codealign::tokenizer::Tokenizer;

std::string data_dir() {
  const char* dir = std::getenv("CODEALIGN_DATA_DIR");
  return dir ? dir : CODEALIGN_DEFAULT_DATA_DIR;
}

// One text per task part; encoded one by one, as a data loader would.
const std::vector<std::string>& corpus() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    for (const char* name : {"humaneval", "mbpp"}) {
      for (const auto& task : codealign::tasks::load_benchmark(name, data_dir()).tasks) {
        out.push_back(task.prompt);
        out.push_back(task.canonical_solution);
        for (const auto& test : task.tests) out.push_back(test);
      }
    }
    return out;
  }();
  return texts;
}

int64_t corpus_bytes() {
  int64_t bytes = 0;
  for (const auto& text : corpus()) bytes += int64_t(text.size());
  return bytes;
}

std::string tokenizer_path(const std::string& name) {
  static const std::map<std::string, std::string> paths = {
      {"qwen", "/tokenizers/qwen/tokenizer.json"},
      {"gpt2", "/tokenizers/gpt2/encoder.json"},
      {"llama-spm", "/tokenizers/llama2/tokenizer.model"},
      {"llama-gguf", "/tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf"},
  };
  return data_dir() + paths.at(name);
}

const Tokenizer& shared(const std::string& name) {
  static std::map<std::string, Tokenizer> loaded;
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  auto found = loaded.find(name);
  if (found == loaded.end()) found = loaded.emplace(name, Tokenizer::load(tokenizer_path(name))).first;
  return found->second;
}

// Encodes the whole corpus per iteration, split over `threads` threads sharing one
// Tokenizer (the texts are dealt round-robin).
void encode_warm(benchmark::State& state, const std::string& name) {
  const Tokenizer& tok = shared(name);
  codealign::tokenizer::EncodeOptions plain;
  plain.parse_special = false;
  const auto& texts = corpus();
  for (const auto& text : texts) benchmark::DoNotOptimize(tok.encode(text, plain));  // warm up
  size_t threads = size_t(state.range(0));
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (size_t i = t; i < texts.size(); i += threads) benchmark::DoNotOptimize(tok.encode(texts[i], plain));
      });
    for (auto& thread : pool) thread.join();
  }
  state.SetBytesProcessed(state.iterations() * corpus_bytes());
}

void encode_cold(benchmark::State& state, const std::string& name) {
  codealign::tokenizer::EncodeOptions plain;
  plain.parse_special = false;
  for (auto _ : state) {
    state.PauseTiming();
    Tokenizer tok = Tokenizer::load(tokenizer_path(name));
    state.ResumeTiming();
    for (const auto& text : corpus()) benchmark::DoNotOptimize(tok.encode(text, plain));
  }
  state.SetBytesProcessed(state.iterations() * corpus_bytes());
}

// The peer: SentencePiece's own C++ encoder on the same texts.
void sentencepiece_peer(benchmark::State& state) {
  sentencepiece::SentencePieceProcessor sp;
  if (!sp.Load(tokenizer_path("llama-spm")).ok()) state.SkipWithError("cannot load tokenizer.model");
  std::vector<int> ids;
  for (auto _ : state)
    for (const auto& text : corpus()) {
      sp.Encode(text, &ids);
      benchmark::DoNotOptimize(ids);
    }
  state.SetBytesProcessed(state.iterations() * corpus_bytes());
}

BENCHMARK_CAPTURE(encode_warm, qwen, std::string("qwen"))->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(encode_warm, gpt2, std::string("gpt2"))->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(encode_cold, qwen, std::string("qwen"))->Iterations(3);
BENCHMARK_CAPTURE(encode_cold, gpt2, std::string("gpt2"))->Iterations(3);
BENCHMARK_CAPTURE(encode_warm, llama_gguf, std::string("llama-gguf"))->ArgName("threads")->Arg(1)->UseRealTime();
BENCHMARK(sentencepiece_peer)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
