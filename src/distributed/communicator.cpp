#include "distributed/communicator.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "common/error.h"
#include "distributed/nccl_backend.h"

namespace codealign::distributed {

struct Communicator::Connection {
  c10::intrusive_ptr<c10d::Store> store;  // codealign's keys, under the run's prefix
  c10::intrusive_ptr<c10d::Backend> backend;
};

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// c10's messages carry a C++ backtrace after their first line.
std::string first_line(const std::exception& e) {
  std::string message = e.what();
  return message.substr(0, message.find('\n'));
}

// The rendezvous store, as a rank's own connection (`joins`: counted in the ranks the server
// waits for) or as a second connection that joins nothing (the heartbeat's).
c10::intrusive_ptr<c10d::Store> rendezvous(const World& world, milliseconds timeout, bool joins = true) {
  c10d::TCPStoreOptions options;
  options.port = uint16_t(world.master_port);
  options.isServer = joins && !world.agent_store && world.rank == 0;
  if (joins) options.numWorkers = size_t(world.size);  // every rank counts itself in; the server waits for all
  options.waitWorkers = joins;
  options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(world.master_addr, options);
  } catch (const std::exception& e) {
    throw Error("distributed: rank " + std::to_string(world.rank) + " of " + std::to_string(world.size) + " could not " +
                (options.isServer ? "serve" : "reach") + " the rendezvous store at " + world.master_addr + ":" +
                std::to_string(world.master_port) + ": " + first_line(e));
  }
  // torchrun's workers share its agent's store under the attempt's prefix (as torch.distributed does).
  if (world.agent_store)
    store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(world.restart_count), store);
  return c10::make_intrusive<c10d::PrefixStore>("codealign", store);
}

c10::intrusive_ptr<c10d::Backend> gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, const World& world,
                                               milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");  // torch's variable for the same choice
  options->devices.push_back(interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                       : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store), world.rank,
                                                     world.size, options);
}

// Every second, this rank's counter alive/<rank> goes up, on a connection of its own (a store
// connection is not shared between threads), from a thread that runs whatever the rank is doing
// (a long sandbox stage included): a rank whose counter stands still is stopped, killed or crashed.
// The thread ends when the store does (rank 0 or the agent gone) or at exit.
class Heartbeat {
 public:
  explicit Heartbeat(const World& world) : store_(rendezvous(world, seconds(5), false)), key_("alive/" + std::to_string(world.rank)) {
    thread_ = std::thread([this] { beat(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void beat() {
    std::unique_lock<std::mutex> lock(mutex_);
    try {
      do store_->add(key_, 1);
      while (!wake_.wait_for(lock, seconds(1), [this] { return stopped_; }));
    } catch (const std::exception&) {
      // the store is gone: the ranks waiting on it say so themselves
    }
  }
  c10::intrusive_ptr<c10d::Store> store_;
  std::string key_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

// Started once, after the rendezvous; stopped by its static's destructor at exit, before
// the store's own statics go.
void start_heartbeat(const World& world) { static Heartbeat heartbeat(world); }

}  // namespace

Communicator& Communicator::get(const Settings& settings, bool on_gpu) {
  // Never destroyed: the backend's threads and sockets go with the process, after the last
  // collective (a destructor at exit would race the other ranks' own exits).
  static Communicator* communicator = new Communicator(detect_world(), settings, on_gpu);
  return *communicator;
}

Communicator::Communicator(World world, const Settings& settings, bool on_gpu) : world_(std::move(world)) {
  if (world_.size == 1) return;
  bool nccl = settings.backend == BackendKind::nccl || (settings.backend == BackendKind::automatic && on_gpu);
  milliseconds timeout = seconds(settings.timeout_seconds);
  stale_after_seconds_ = settings.timeout_seconds;
  connection_ = std::make_unique<Connection>();
  connection_->store = rendezvous(world_, timeout);
  start_heartbeat(world_);
  try {
    if (nccl) {
      device_ = torch::Device(torch::kCUDA, int8_t(world_.local_rank));
      connection_->backend = nccl_backend(c10::make_intrusive<c10d::PrefixStore>("nccl", connection_->store), world_,
                                          timeout);
    } else {
      connection_->backend = gloo_backend(connection_->store, world_, timeout);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("distributed: " + describe(world_) + " could not connect its " + (nccl ? "nccl" : "gloo") +
                " backend to the other ranks: " + first_line(e));
  }
}

Communicator::~Communicator() = default;

template <typename Collective>
void Communicator::run(const char* what, Collective&& collective) {
  if (world_.size == 1) return;
  try {
    c10::intrusive_ptr<c10d::Work> work = collective(*connection_->backend);
    work->wait();
  } catch (const std::exception& e) {
    fail(what, first_line(e));
  }
}

namespace {

// The same data on the communicator's device, contiguous (a copy only when needed).
torch::Tensor on_device(const torch::Tensor& tensor, torch::Device device) {
  return tensor.to(device).contiguous();
}

void copy_back(torch::Tensor& tensor, const torch::Tensor& result) {
  if (!result.is_same(tensor)) tensor.copy_(result);
}

}  // namespace

void Communicator::all_reduce_sum(torch::Tensor& tensor) {
  if (world_.size == 1) return;
  std::vector<torch::Tensor> tensors{on_device(tensor, device_)};
  run("all-reduce", [&](c10d::Backend& b) { return b.allreduce(tensors, c10d::AllreduceOptions{c10d::ReduceOp::SUM}); });
  copy_back(tensor, tensors[0]);
}

void Communicator::all_reduce_max(torch::Tensor& tensor) {
  if (world_.size == 1) return;
  std::vector<torch::Tensor> tensors{on_device(tensor, device_)};
  run("all-reduce", [&](c10d::Backend& b) { return b.allreduce(tensors, c10d::AllreduceOptions{c10d::ReduceOp::MAX}); });
  copy_back(tensor, tensors[0]);
}

void Communicator::broadcast(torch::Tensor& tensor, int root) {
  if (world_.size == 1) return;
  std::vector<torch::Tensor> tensors{on_device(tensor, device_)};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  run("broadcast", [&](c10d::Backend& b) { return b.broadcast(tensors, options); });
  copy_back(tensor, tensors[0]);
}

torch::Tensor Communicator::all_gather(const torch::Tensor& local) {
  torch::Tensor shard = on_device(local, device_).reshape({-1});
  std::vector<int64_t> shape{world_.size};
  for (int64_t d : local.sizes()) shape.push_back(d);
  torch::Tensor output = torch::empty({world_.size * shard.numel()}, shard.options());
  all_gather_into(output, shard);
  return output.reshape(shape).to(local.device());
}

void Communicator::reduce_scatter_sum(torch::Tensor& output, torch::Tensor& input) {
  if (world_.size == 1) return output.copy_(input), void();
  run("reduce-scatter", [&](c10d::Backend& b) { return b._reduce_scatter_base(output, input); });
}

void Communicator::all_gather_into(torch::Tensor& output, torch::Tensor& shard) {
  if (world_.size == 1) return output.copy_(shard), void();
  run("all-gather", [&](c10d::Backend& b) { return b._allgather_base(output, shard); });
}

void Communicator::barrier() {
  if (world_.size == 1) return;
  torch::Tensor token = torch::zeros({1}, torch::TensorOptions(device_));
  all_reduce_sum(token);
}

void Communicator::wait_all() {
  if (world_.size == 1) return;
  std::string key = "wait-all/" + std::to_string(waits_++);
  try {
    c10d::Store& store = *connection_->store;
    store.set(key + "/" + std::to_string(world_.rank), "");
    std::map<int, std::pair<int64_t, std::chrono::steady_clock::time_point>> last_beat;  // rank -> (count, when it moved)
    for (;;) {
      std::vector<int> waiting;
      for (int r = 0; r < world_.size; ++r)
        if (!store.check({key + "/" + std::to_string(r)})) waiting.push_back(r);
      if (waiting.empty()) return;
      for (int r : waiting) check_alive(store, r, last_beat[r]);
      std::this_thread::sleep_for(milliseconds(200));
    }
  } catch (const CollectiveFailure&) {
    throw;
  } catch (const std::exception& e) {
    throw CollectiveFailure("distributed: " + describe(world_) + ": waiting for the other ranks failed: " + store_gone() +
                            " (" + first_line(e) + ")");
  }
}

// Throws CollectiveFailure when rank `r` reported a failure, or when its heartbeat has stood
// still for the collectives' timeout. `last` is what an earlier look saw: (count, when it moved).
void Communicator::check_alive(c10d::Store& store, int r, std::pair<int64_t, std::chrono::steady_clock::time_point>& last) {
  std::string rank = std::to_string(r);
  if (store.check({"failed/" + rank})) {
    std::vector<uint8_t> message = store.get("failed/" + rank);
    throw CollectiveFailure("distributed: " + describe(world_) + ": rank " + rank + " stopped: " +
                            std::string(message.begin(), message.end()));
  }
  auto now = std::chrono::steady_clock::now();
  int64_t beats = store.add("alive/" + rank, 0);
  if (beats != last.first || last.second == std::chrono::steady_clock::time_point{}) last = {beats, now};
  if (now - last.second > seconds(stale_after_seconds_))
    throw CollectiveFailure("distributed: " + describe(world_) + ": rank " + rank + " is gone (no heartbeat for " +
                            std::to_string(stale_after_seconds_) + " s: killed, crashed or stopped)");
}

std::string Communicator::store_gone() const {
  return world_.agent_store ? "torchrun's agent, which serves the rendezvous store, is gone"
                            : "rank 0, which serves the rendezvous store, is gone";
}

void Communicator::report_failure(const std::string& message) noexcept {
  if (world_.size == 1) return;
  try {
    connection_->store->setTimeout(seconds(2));
    connection_->store->set("failed/" + std::to_string(world_.rank), message);
  } catch (...) {
    // the store is gone too: the others will say so
  }
}

// Every rank whose collective failed says so in the store and looks, for a few seconds, for
// the others' word: a rank that stopped with an error left its message; one that says nothing
// was killed, crashed or hangs.
void Communicator::fail(const char* what, const std::string& cause) {
  std::string me = "distributed: rank " + std::to_string(world_.rank) + " of " + std::to_string(world_.size);
  std::string gone;
  try {
    c10d::Store& store = *connection_->store;
    store.setTimeout(seconds(2));
    store.set("survived/" + std::to_string(world_.rank), "");
    std::vector<std::string> missing;
    auto deadline = std::chrono::steady_clock::now() + seconds(5);
    do {
      missing.clear();
      gone.clear();
      for (int r = 0; r < world_.size; ++r) {
        if (r == world_.rank) continue;
        std::string key = std::to_string(r);
        if (store.check({"failed/" + key})) {
          std::vector<uint8_t> message = store.get("failed/" + key);
          gone += (gone.empty() ? "" : "; ") + ("rank " + key + " stopped: " + std::string(message.begin(), message.end()));
        } else if (!store.check({"survived/" + key})) {
          missing.push_back(key);
        }
      }
      if (missing.empty()) break;
      std::this_thread::sleep_for(milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    for (const std::string& r : missing)
      gone += (gone.empty() ? "" : "; ") + ("rank " + r + " is gone (killed, crashed, or stuck past the timeout)");
  } catch (const std::exception&) {
    gone = store_gone();
  }
  if (gone.empty()) gone = "every rank is still there";
  throw CollectiveFailure(me + ": the " + what + " failed: " + gone + " (" + cause + ")");
}

}  // namespace codealign::distributed
