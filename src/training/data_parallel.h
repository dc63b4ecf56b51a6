// The optimizer of a data-parallel run: AdamW over the trained tensors with their gradients
// summed over the ranks, either replicated (every rank holds the whole AdamW state; gradients
// all-reduced in flat buckets) or sharded as ZeRO stage 1 (Rajbhandari et al. 2020): the
// gradients reduce-scattered, each rank keeping the float32 master weights and AdamW's moments
// of its 1/N slice of the flat weights and stepping that slice, then all-gathering the weights.
// Sharded, the weights may be held in bfloat16 (the model computes in them), the float32
// master existing only as the ranks' slices. Both clip on the global norm; the state file is
// the same whatever the world size or sharding, and checkpoints hold float32 weights
// (full_precision_weights), so a run resumes with either. World size 1 is the same code with
// no collective.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "distributed/communicator.h"
#include "training/optimizer.h"

namespace codealign::training {

class DataParallelOptimizer {
 public:
  // `weights_dtype` below float32 (bfloat16) needs `shard_state`: the trained tensors are cast
  // to it, and their float32 values live on as the ranks' master slices.
  DataParallelOptimizer(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed,
                        const AdamWSettings& settings, distributed::Communicator& comm, bool shard_state,
                        torch::Dtype weights_dtype = torch::kFloat32);
  ~DataParallelOptimizer();

  // Sums the gradients over the ranks and clips them to max_grad_norm (<= 0: no clipping) on
  // their global L2 norm, which it returns (before clipping), as torch's clip_grad_norm_.
  double reduce_and_clip(double max_grad_norm);
  void step(double learning_rate);
  void zero_grad();
  // Collective under sharding (every rank calls it): the state gathered slice by slice on rank
  // 0's CPU, which writes it.
  void save(const std::string& path) const;
  void load(const std::string& path);  // errors name the file
  // The trained tensors in float32 (decayed, then not decayed), what a checkpoint holds: with
  // bfloat16 weights the master slices gathered on rank 0's CPU (collective: every rank calls
  // it; the others get none), else the tensors themselves.
  std::vector<torch::Tensor> full_precision_weights() const;
  bool low_precision_weights() const { return low_precision_weights_; }
  const std::vector<torch::Tensor>& trained() const { return trained_; }
  // Bytes of AdamW state (moments and step counts) this rank holds.
  int64_t state_bytes() const;
  // Bytes of model state this rank holds: weights, gradients, master slices and AdamW state.
  int64_t model_state_bytes() const;

 private:
  class Sharded;
  void sum_gradients_over_ranks();
  distributed::Communicator& comm_;
  bool low_precision_weights_ = false;
  std::vector<torch::Tensor> trained_;
  std::unique_ptr<FusedAdamW> replicated_;
  std::unique_ptr<Sharded> sharded_;
  torch::Tensor bucket_buffer_;  // the replicated mode's bucket, kept from step to step (it grows to the largest)
};

}  // namespace codealign::training
