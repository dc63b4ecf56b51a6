// One decode step of a batch (generation's own): the logits of every row's next position,
// run eagerly, or on a GPU captured once as a CUDA graph and replayed.
//
// A decode step at 1.5B shapes launches about 1,300 small kernels for 32 rows; launching them
// took longer than running them (22.5 ms a step on an H200, docs/BENCHMARKS.md). A graph
// launches them all at once. It needs the same shapes and addresses every step: the static KV
// cache (model.h: KvCache::make_static) gives that, and a graph is captured again whenever
// finished rows leave the batch (new buffers, fewer rows).
#pragma once
#include <memory>

#include "generation/generation.h"

namespace codealign::generation {

class DecodeStep {
 public:
  // `cache` must be prefilled; it is made static unless the mode (or the model) rules it out.
  DecodeStep(const model::CausalLM& model, model::KvCache& cache, DecodeMode mode);
  ~DecodeStep();
  // Logits [B, V] after each row's chosen id [B] at its position [B]; the cache takes them.
  // From a graph, the logits live in the graph's output buffer until the next step. A failed
  // capture is an Error that leaves the GPU's stream mid-capture: the process must not go on
  // using CUDA (no caller catches it).
  torch::Tensor next_logits(const torch::Tensor& chosen, const torch::Tensor& positions);
  // After the cache's rows changed (KvCache::select_rows): the graph is captured again.
  void rows_changed();
  bool uses_graphs() const { return graphs_; }

 private:
  torch::Tensor eager(const torch::Tensor& chosen, const torch::Tensor& positions);
  torch::Tensor capture(const torch::Tensor& chosen, const torch::Tensor& positions);

  const model::CausalLM& model_;
  model::KvCache& cache_;
  bool graphs_ = false;
  struct Graph;  // the captured step and its input and output buffers (CUDA only)
  std::unique_ptr<Graph> graph_;
};

}  // namespace codealign::generation
