// ProcessGroupNCCL, in a file of its own: it needs nccl.h (the pip nvidia-nccl package's) and
// the CUDA toolkit's headers, which a build without them leaves out (nccl_backend_absent.cpp).
#pragma once
#include <chrono>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "distributed/world.h"

namespace codealign::distributed {

// Throws Error when the build has no NCCL.
c10::intrusive_ptr<c10d::Backend> nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                               std::chrono::milliseconds timeout);

}  // namespace codealign::distributed
