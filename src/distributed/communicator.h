// The collectives of a multi-process run on torch's own engine, c10d: a TCPStore rendezvous
// (served by rank 0, or by torchrun's agent) and a ProcessGroupGloo or ProcessGroupNCCL
// backend. One process is the same code path with world size 1: every collective returns its
// input. A collective that fails (a rank died, or did not answer within the timeout) throws
// Error naming the ranks that are gone, found by asking the survivors through the store.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/error.h"
#include "distributed/world.h"

namespace c10d {
class Store;
}

namespace codealign::distributed {

// A collective that failed because another rank is gone or did not answer in time.
class CollectiveFailure : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  // The process's communicator, connected on the first call (later calls return it and ignore
  // `settings`). Without a launcher: one process, no connection.
  static Communicator& get(const Settings& settings, bool on_gpu);
  ~Communicator();

  const World& world() const { return world_; }
  int rank() const { return world_.rank; }
  int size() const { return world_.size; }
  bool is_main() const { return world_.rank == 0; }
  // Where tensors handed to collectives must live: the CPU (gloo) or this rank's GPU (nccl).
  torch::Device device() const { return device_; }

  // In place, on tensors of any device (copied to device() and back when they differ).
  void all_reduce_sum(torch::Tensor& tensor);
  void all_reduce_max(torch::Tensor& tensor);
  void broadcast(torch::Tensor& tensor, int root = 0);
  // Every rank's `local` (same shape on all ranks) stacked in rank order: [size, ...].
  torch::Tensor all_gather(const torch::Tensor& local);
  // ZeRO's pair: `input` ([size * n]) summed over ranks, this rank's n of it into `output`; and
  // every rank's `shard` ([n]) laid out in rank order into `output` ([size * n]).
  void reduce_scatter_sum(torch::Tensor& output, torch::Tensor& input);
  void all_gather_into(torch::Tensor& output, torch::Tensor& shard);
  void barrier();
  // A barrier through the store, without the collectives' time limit, for ranks waiting on work
  // of unknown length (rank 0 alone writing a stage while the others wait): returns once every
  // rank has arrived. Throws CollectiveFailure when a rank reported a failure, when a rank not
  // yet there has given no heartbeat (a thread of every rank beats once a second, whatever the
  // rank is doing) for the collectives' timeout, or when rank 0's store is gone.
  void wait_all();

  // Tells the other ranks (through the store) why this one stops, so that their errors name
  // it and its reason. Best effort: never throws.
  void report_failure(const std::string& message) noexcept;

  struct Connection;  // the store and the backend (communicator.cpp)

 private:
  Communicator(World world, const Settings& settings, bool on_gpu);
  template <typename Collective>
  void run(const char* what, Collective&& collective);
  [[noreturn]] void fail(const char* what, const std::string& cause);

  void check_alive(c10d::Store& store, int rank,
                   std::pair<int64_t, std::chrono::steady_clock::time_point>& last_beat);
  std::string store_gone() const;
  World world_;
  torch::Device device_ = torch::kCPU;
  int64_t stale_after_seconds_ = 0;  // a rank without a heartbeat for this long is gone
  int64_t waits_ = 0;  // wait_all's sequence: every rank passes the same ones in the same order
  std::unique_ptr<Connection> connection_;
};

}  // namespace codealign::distributed
