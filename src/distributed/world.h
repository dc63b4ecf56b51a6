// Which process of a multi-process run this is, read from the launcher's environment:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and, when its agent serves
// the rendezvous store, TORCHELASTIC_USE_AGENT_STORE), Slurm's srun (SLURM_PROCID,
// SLURM_NTASKS, SLURM_LOCALID) or Open MPI's mpirun (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK).
// No launcher: one process, rank 0 of 1. Torch-free, so that the torch-free parts (the
// pipeline) can split their work and decide who writes.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/enum_names.h"

namespace codealign::distributed {

enum class Launcher { none, torchrun, slurm, openmpi };

struct World {
  Launcher launcher = Launcher::none;
  int rank = 0, size = 1;
  int local_rank = 0;  // the GPU this process takes
  int local_size = 1;  // ranks on this machine, where the launcher says (they share its cores)
  // The rendezvous store (a TCPStore): served by rank 0, or by torchrun's agent when
  // agent_store is set (every rank then connects as a client, under the prefix torchrun's own
  // workers use: /worker/attempt_<restart_count>).
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;
  int restart_count = 0;
  bool is_main() const { return rank == 0; }

  // This rank's part of `count` items split in equal contiguous slices of `size` (the last ranks'
  // shorter or empty): items [first, last).
  struct Slice {
    size_t size, first, last;
  };
  Slice slice_of(size_t count) const {
    size_t each = (count + size_t(size) - 1) / size_t(size);
    size_t first = std::min(count, each * size_t(rank));
    return {each, first, std::min(count, first + each)};
  }
};

// Reads the launcher's variables through `getenv` (tests pass their own). Throws Error naming
// the variable that is malformed or missing (a multi-process run without MASTER_ADDR and
// MASTER_PORT cannot meet).
World detect_world(const std::function<const char*(const char*)>& getenv);
World detect_world();  // the process's environment

// "rank 1 of 2 (torchrun)"; "one process" without a launcher.
std::string describe(const World& world);

}  // namespace codealign::distributed

namespace codealign::distributed {

// The collective backend: gloo (CPU tensors), nccl (CUDA tensors), or auto (nccl when the
// run trains on a GPU, else gloo).
enum class BackendKind { automatic, gloo, nccl };
inline constexpr EnumNames<BackendKind, 3> backend_kinds{
    {{{BackendKind::automatic, "auto"}, {BackendKind::gloo, "gloo"}, {BackendKind::nccl, "nccl"}}}};

struct Settings {
  BackendKind backend = BackendKind::automatic;
  // How long a collective waits for the other ranks before it fails (torch's default for
  // NCCL is 10 minutes): a rank that died or hangs stops the others with an error, not a hang.
  int64_t timeout_seconds = 600;
};

}  // namespace codealign::distributed
