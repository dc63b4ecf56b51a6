#include "generation/decode_step.h"

#include <ATen/autocast_mode.h>

#include <map>
#include <mutex>

#include "common/error.h"

#ifdef CODEALIGN_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace codealign::generation {

#ifdef CODEALIGN_CUDA_GRAPHS
struct DecodeStep::Graph {
  at::cuda::CUDAGraph graph;
  torch::Tensor ids, positions;  // [B, 1] inputs, copied in before each replay
  torch::Tensor logits;          // [B, V] output, written by each replay
};
#else
struct DecodeStep::Graph {};
#endif

namespace {

bool graphs_possible(const model::CausalLM& model) {
#ifdef CODEALIGN_CUDA_GRAPHS
  torch::Device device = model.device();
  // Dynamic rope scaling reads the longest position on the host every step; autocast would
  // cache its weight casts inside the graph's memory.
  return device.is_cuda() && model.config().rope_scaling.type != "dynamic" &&
         !at::autocast::is_autocast_enabled(device.type());
#else
  (void)model;
  return false;
#endif
}

}  // namespace

DecodeStep::DecodeStep(const model::CausalLM& model, model::KvCache& cache, DecodeMode mode)
    : model_(model), cache_(cache), graphs_(mode == DecodeMode::automatic && graphs_possible(model)) {
  if (graphs_ || mode == DecodeMode::static_cache) cache_.make_static();
}

DecodeStep::~DecodeStep() = default;

torch::Tensor DecodeStep::eager(const torch::Tensor& chosen, const torch::Tensor& positions) {
  int64_t B = chosen.size(0);
  torch::Tensor one = torch::ones({B, 1}, torch::TensorOptions().dtype(torch::kBool).device(chosen.device()));
  return model_.forward(chosen.view({B, 1}), positions.view({B, 1}), one, &cache_).select(1, 0);
}

void DecodeStep::rows_changed() { graph_.reset(); }

#ifdef CODEALIGN_CUDA_GRAPHS
namespace {

// One side stream per device for the whole process: each stream keeps cuBLAS workspaces of its
// own, so a new one per capture would pile them up.
c10::cuda::CUDAStream side_stream(c10::DeviceIndex device) {
  static std::mutex mutex;
  static std::map<c10::DeviceIndex, c10::cuda::CUDAStream> streams;
  std::lock_guard lock(mutex);
  auto found = streams.find(device);
  if (found == streams.end()) found = streams.emplace(device, c10::cuda::getStreamFromPool(false, device)).first;
  return found->second;
}

}  // namespace

torch::Tensor DecodeStep::next_logits(const torch::Tensor& chosen, const torch::Tensor& positions) {
  if (!graphs_) return eager(chosen, positions);
  c10::cuda::CUDAGuard on_device(chosen.device());  // streams are per device
  if (!graph_) return capture(chosen, positions);
  int64_t B = chosen.size(0);
  graph_->ids.copy_(chosen.view({B, 1}));
  graph_->positions.copy_(positions.view({B, 1}));
  graph_->graph.replay();
  cache_.set_length(cache_.length() + 1);
  return graph_->logits;
}

// Captures on a side stream (a graph cannot be captured on the default one), after a real step
// there that sets up what a capture cannot (cuBLAS workspaces, the rotary table); that step's
// logits are this step's.
torch::Tensor DecodeStep::capture(const torch::Tensor& chosen, const torch::Tensor& positions) {
  int64_t B = chosen.size(0);
  auto graph = std::make_unique<Graph>();
  graph->ids = chosen.view({B, 1}).clone();
  graph->positions = positions.view({B, 1}).clone();
  c10::cuda::CUDAStream side = side_stream(chosen.device().index());
  c10::cuda::getCurrentCUDAStream().synchronize();
  torch::Tensor logits;
  {
    c10::cuda::CUDAStreamGuard on_side(side);
    logits = eager(graph->ids, graph->positions).clone();
    int64_t length = cache_.length();
    // A capture allocates only from its own pool and cannot free what others cache meanwhile.
    c10::cuda::CUDACachingAllocator::emptyCache();
    try {
      // Thread-local: another thread of the process may use CUDA during the capture.
      graph->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
      graph->logits = eager(graph->ids, graph->positions);
      graph->graph.capture_end();
    } catch (const std::exception& e) {
      const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
      throw Error(std::string("generation: capturing a decode step as a CUDA graph failed (hint: --no-cuda-graphs "
                              "runs the steps one by one): ") + (torch_error ? torch_error->what_without_backtrace() : e.what()));
    }
    cache_.set_length(length);  // the capture ran the host side only: nothing was cached
    side.synchronize();
  }
  graph_ = std::move(graph);
  return logits;
}
#else
torch::Tensor DecodeStep::next_logits(const torch::Tensor& chosen, const torch::Tensor& positions) {
  return eager(chosen, positions);
}
#endif

}  // namespace codealign::generation
