// Where a model runs and in what precision: the --device and --dtype options, a scope of
// mixed precision for training, and the GPU's peak memory for benchmarks and logs.
#pragma once
#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace codealign::model {

// "auto" (the first GPU when torch sees one, else the CPU), "cpu", "cuda" or "cuda:N". A GPU
// asked for on a machine without one is an Error that says so, not a crash inside torch.
torch::Device resolve_device(const std::string& spec);
// "auto" (bfloat16 on a GPU, float32 on the CPU), "float32", "bfloat16" or "float16".
torch::Dtype resolve_dtype(const std::string& spec, const torch::Device& device);
std::string dtype_name(torch::Dtype dtype);

// Autocast for the scope: matrix products in `dtype` (bfloat16, float16), reductions and the
// weights in float32. A no-op for float32. Training keeps float32 master weights and optimizer
// state this way while the forward and backward run at the lower precision's speed.
class MixedPrecision {
 public:
  MixedPrecision(const torch::Device& device, torch::Dtype dtype);
  ~MixedPrecision();
  MixedPrecision(const MixedPrecision&) = delete;
  MixedPrecision& operator=(const MixedPrecision&) = delete;

 private:
  at::DeviceType type_;
  bool enabled_ = false, was_enabled_ = false;
  at::ScalarType was_dtype_;
};

// Keeps the memory of freed CPU tensors in the process (glibc's heap) for the next ones of the
// same sizes, instead of returning it to the kernel, which zeroes and maps it again at the next
// allocation: a decode step frees and allocates the same temporaries every step (at 1,024
// rows of a small model most of the system time was those page faults). The process's resident
// size stays at its peak. Idempotent.
void reuse_freed_cpu_memory();

// The most GPU memory torch's allocator has held for tensors since the process began or the
// last reset (as torch.cuda.max_memory_allocated); 0 on the CPU.
int64_t peak_memory_bytes(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

}  // namespace codealign::model
