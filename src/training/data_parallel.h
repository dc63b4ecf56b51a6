// The optimizer of a data-parallel run: AdamW over the trained tensors with their gradients
// summed over the ranks, either replicated (every rank holds the whole AdamW state; gradients
// all-reduced in flat buckets) or sharded as ZeRO stage 1 (Rajbhandari et al. 2020): the
// gradients reduce-scattered, each rank keeping AdamW's moments for its 1/N slice of the flat
// weights and stepping that slice, then all-gathering the weights. Both clip on the global
// norm and give the same weights; the state file is the same whatever the world size or
// sharding, so a run resumes with either. World size 1 is the same code with no collective.
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
  DataParallelOptimizer(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed,
                        const AdamWSettings& settings, distributed::Communicator& comm, bool shard_state);
  ~DataParallelOptimizer();

  // Sums the gradients over the ranks and clips them to max_grad_norm (<= 0: no clipping) on
  // their global L2 norm, which it returns (before clipping), as torch's clip_grad_norm_.
  double reduce_and_clip(double max_grad_norm);
  void step(double learning_rate);
  void zero_grad();
  // Collective under sharding (every rank calls it): rank 0 writes the whole state.
  void save(const std::string& path) const;
  void load(const std::string& path);  // errors name the file
  // Bytes of AdamW state (moments and step counts) this rank holds.
  int64_t state_bytes() const;

 private:
  class Sharded;
  void sum_gradients_over_ranks();
  distributed::Communicator& comm_;
  std::vector<torch::Tensor> trained_;
  std::unique_ptr<FusedAdamW> replicated_;
  std::unique_ptr<Sharded> sharded_;
  torch::Tensor bucket_buffer_;  // the replicated mode's bucket, kept from step to step (it grows to the largest)
};

}  // namespace codealign::training
