// AdamW with decoupled weight decay as torch.optim.AdamW computes it, one fused kernel over
// every tensor per step (torch's _fused_adamw_, on the CPU and the GPU) instead of a dozen
// small kernels per tensor. Its state (moments and step counts, float32 like the parameters)
// saves to and loads from one file, for checkpoints that resume bit-identically.
#pragma once
#include <string>
#include <vector>

#include <torch/torch.h>

namespace codealign::training {

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weight_decay = 0.0;
};

class FusedAdamW {
 public:
  // `decayed` get weight decay (matrices), `not_decayed` none (norms, biases).
  FusedAdamW(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed, const AdamWSettings& settings);
  // One update at `learning_rate` from the parameters' gradients (tensors without one are skipped).
  void step(double learning_rate);
  void zero_grad();
  void save(const std::string& path) const;
  void load(const std::string& path);  // errors name the file
  // The state as the file holds it: per tensor (decayed, then not decayed) its exp_avg,
  // exp_avg_sq and step count, as many as state() gives; set_state checks the shapes (errors
  // name `source`).
  std::vector<torch::Tensor> state() const;
  void set_state(const std::vector<torch::Tensor>& state, const std::string& source);
  // The state file's tensors, read and checked to be those of `parameters` tensors (errors name
  // the file).
  static std::vector<torch::Tensor> read_state(const std::string& path, size_t parameters);

 private:
  struct Group {
    std::vector<torch::Tensor> parameters, exp_avgs, exp_avg_sqs, steps;
    double weight_decay;
  };
  void step_group(Group& group, double learning_rate);
  std::vector<Group> groups_;
  AdamWSettings settings_;
};

}  // namespace codealign::training
