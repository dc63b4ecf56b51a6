#include "training/data_parallel.h"

#include <cmath>

#include "common/error.h"

namespace codealign::training {
namespace {

constexpr int64_t bucket_bytes = int64_t(32) << 20;

// The elements [first, first + out.numel()) of the tensors laid end to end, copied into `out`
// (zeros past their end): a rank's slice without a copy of the whole.
void copy_range(const std::vector<torch::Tensor>& tensors, int64_t first, torch::Tensor& out) {
  out.zero_();
  int64_t offset = 0, last = first + out.numel();
  for (const torch::Tensor& t : tensors) {
    int64_t begin = std::max(first, offset), end = std::min(last, offset + t.numel());
    if (begin < end) out.narrow(0, begin - first, end - begin).copy_(t.detach().reshape({-1}).narrow(0, begin - offset, end - begin));
    offset += t.numel();
  }
}

// The tensors' gradients copied end to end into `flat`'s leading elements: the step's
// collectives reuse a buffer allocated once, not fresh pages every step.
void gradients_into(const std::vector<torch::Tensor>& tensors, torch::Tensor& flat) {
  int64_t offset = 0;
  for (const torch::Tensor& p : tensors) {
    flat.narrow(0, offset, p.numel()).copy_(p.grad().reshape({-1}));
    offset += p.numel();
  }
}

// `flat`'s leading elements copied into the tensors, in order.
void unflatten_into(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
  int64_t offset = 0;
  for (torch::Tensor& t : tensors) {
    t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
    offset += t.numel();
  }
}

int64_t bytes_of(const torch::Tensor& t) { return t.defined() ? t.numel() * int64_t(t.element_size()) : 0; }

}  // namespace

// ZeRO-1: per group (decayed, not decayed) the trained tensors live end to end in one flat
// buffer, padded to a multiple of the world size, and their gradients in another: the
// parameters and their gradients are views into them, so that the collectives read and write
// them in place. This rank's slice of the weights, in float32, is its master copy, which an
// inner FusedAdamW steps. With bfloat16 weights the buffers are bfloat16 (the model computes in
// them) and the float32 master exists only as the ranks' slices: 2 + 2 bytes a weight on every
// rank, 4 + 8 of master and moments divided among them. Every trained tensor takes part in
// every step (one without any gradient counts as zeros), where the replicated optimizer skips
// a tensor no rank gave a gradient.
class DataParallelOptimizer::Sharded {
 public:
  Sharded(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed, const AdamWSettings& settings,
          distributed::Communicator& comm, torch::Dtype weights_dtype)
      : comm_(comm) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> masters[2];
    int index = 0;
    for (std::vector<torch::Tensor>* tensors : {&decayed, &not_decayed}) {
      Group group{*tensors, 0, 0, {}, {}, {}, {}};
      for (const torch::Tensor& p : group.parameters) group.numel += p.numel();
      group.shard = (group.numel + comm.size() - 1) / comm.size();
      if (group.numel > 0) {
        torch::TensorOptions options = group.parameters.front().options().requires_grad(false);
        group.master = torch::empty({group.shard}, options.dtype(torch::kFloat32));
        copy_range(group.parameters, group.shard * comm.rank(), group.master);
        group.weights = torch::zeros({padded(group)}, options.dtype(weights_dtype));
        group.gradients = torch::zeros({padded(group)}, options.dtype(weights_dtype));
        int64_t offset = 0;
        for (torch::Tensor& p : group.parameters) {
          group.weights.narrow(0, offset, p.numel()).copy_(p.detach().reshape({-1}));
          p.set_data(group.weights.narrow(0, offset, p.numel()).view(p.sizes()));  // frees the float32 tensor
          offset += p.numel();
        }
        view_gradients(group);
        group.shard_gradient = torch::empty({group.shard}, group.gradients.options());
        masters[index].push_back(group.master);
        groups_.push_back(std::move(group));
      }
      ++index;
    }
    inner_ = std::make_unique<FusedAdamW>(masters[0], masters[1], settings);
  }

  double reduce_and_clip(double max_grad_norm) {
    torch::NoGradGuard no_grad;
    torch::Tensor squares = torch::zeros({1}, torch::kFloat64);
    for (Group& group : groups_) {
      comm_.reduce_scatter_sum(group.shard_gradient, group.gradients);
      group.master.mutable_grad() = group.shard_gradient.to(torch::kFloat32);  // itself when float32
      squares += group.master.grad().to(torch::kFloat64).square().sum().cpu();
    }
    comm_.all_reduce_sum(squares);
    double norm = std::sqrt(squares.item<double>());
    if (max_grad_norm > 0) {
      double coefficient = std::min(1.0, max_grad_norm / (norm + 1e-6));  // torch's clip_grad_norm_
      for (Group& group : groups_) group.master.mutable_grad().mul_(coefficient);
    }
    return norm;
  }

  // The master slices step; every rank's slice, in the weights' dtype, is gathered into the
  // flat weights, which the parameters view.
  void step(double learning_rate) {
    inner_->step(learning_rate);
    torch::NoGradGuard no_grad;
    for (Group& group : groups_) {
      torch::Tensor shard = group.master.to(group.weights.scalar_type());
      comm_.all_gather_into(group.weights, shard);
    }
  }

  // The gradients zeroed in place (a collective may have used them as its scratch, and a
  // parameter whose gradient was replaced gets its view back).
  void zero_grad() {
    for (Group& group : groups_) {
      group.master.mutable_grad() = torch::Tensor();
      group.gradients.zero_();
      view_gradients(group);
    }
  }

  // The weights in float32, per trained tensor (decayed, then not decayed): the master slices
  // gathered on rank 0's CPU (the other ranks get none). Collective.
  std::vector<torch::Tensor> full_precision_weights() const {
    std::vector<torch::Tensor> weights;
    for (const Group& group : groups_) {
      torch::Tensor flat = gather_on_main(group.master.detach());
      if (!comm_.is_main()) continue;
      int64_t offset = 0;
      for (const torch::Tensor& p : group.parameters) {
        weights.push_back(flat.narrow(0, offset, p.numel()).view(p.sizes()));
        offset += p.numel();
      }
    }
    return weights;
  }

  // The whole state gathered into the replicated optimizer's layout, on rank 0's CPU: per
  // tensor its moments and step count. Collective; rank 0 writes.
  void save(const std::string& path) const {
    std::vector<torch::Tensor> inner = inner_->state(), state;
    for (size_t g = 0; g < groups_.size(); ++g) {
      const Group& group = groups_[g];
      torch::Tensor moments[2] = {gather_on_main(inner[3 * g]), gather_on_main(inner[3 * g + 1])};
      if (!comm_.is_main()) continue;
      int64_t offset = 0;
      for (const torch::Tensor& p : group.parameters) {
        for (const torch::Tensor& moment : moments) state.push_back(moment.narrow(0, offset, p.numel()).view(p.sizes()));
        state.push_back(inner[3 * g + 2].cpu().clone());
        offset += p.numel();
      }
    }
    if (comm_.is_main()) torch::save(state, path);
  }

  void load(const std::string& path) {
    size_t parameters = 0;
    for (const Group& group : groups_) parameters += group.parameters.size();
    std::vector<torch::Tensor> state = FusedAdamW::read_state(path, parameters), inner;
    size_t next = 0;
    for (const Group& group : groups_) {
      std::vector<torch::Tensor> moments[2];
      torch::Tensor step;
      for (const torch::Tensor& p : group.parameters) {
        for (int m = 0; m < 2; ++m) {
          const torch::Tensor& saved = state[next + size_t(m)];
          if (saved.numel() != p.numel())
            throw Error("training: the optimizer state '" + path + "' does not fit this model (tensor " +
                        std::to_string(next + size_t(m)) + " has another shape)");
          moments[m].push_back(saved.to(p.device()));
        }
        if (!step.defined()) step = state[next + 2].to(p.device());
        next += 3;
      }
      for (auto& moment : moments) {
        inner.push_back(torch::empty({group.shard}, moment.front().options()));
        copy_range(moment, group.shard * comm_.rank(), inner.back());
      }
      inner.push_back(step);
    }
    inner_->set_state(inner, path);
  }

  int64_t state_bytes() const {
    int64_t bytes = 0;
    for (const torch::Tensor& t : inner_->state()) bytes += bytes_of(t);
    return bytes;
  }

  // The flat weights and gradients every rank holds whole, and this rank's master slices.
  int64_t weights_bytes() const {
    int64_t bytes = 0;
    for (const Group& group : groups_) bytes += bytes_of(group.weights) + bytes_of(group.gradients) + bytes_of(group.master);
    return bytes;
  }

 private:
  struct Group {
    std::vector<torch::Tensor> parameters;
    int64_t numel, shard;
    torch::Tensor master;              // this rank's slice of the weights, float32
    torch::Tensor weights, gradients;  // every rank's, end to end and padded: the parameters' and gradients' storage
    torch::Tensor shard_gradient;      // this rank's slice of the summed gradients
  };
  int64_t padded(const Group& group) const { return group.shard * comm_.size(); }

  // Every rank's slice laid end to end in rank 0's memory (CPU), one slice at a time, so that
  // no rank ever holds more than a slice of it on its device (a checkpoint of a 7B model's
  // moments would otherwise take 56 GB on every GPU); undefined on the other ranks.
  torch::Tensor gather_on_main(const torch::Tensor& slice) const {
    torch::Tensor whole = comm_.is_main() ? torch::empty({slice.numel() * comm_.size()}, slice.options().device(torch::kCPU))
                                          : torch::Tensor();
    for (int r = 0; r < comm_.size(); ++r) {
      torch::Tensor piece = r == comm_.rank() ? slice.clone() : torch::empty_like(slice);
      comm_.broadcast(piece, r);
      if (comm_.is_main()) whole.narrow(0, r * slice.numel(), slice.numel()).copy_(piece);
    }
    return whole;
  }

  static void view_gradients(Group& group) {
    int64_t offset = 0;
    for (torch::Tensor& p : group.parameters) {
      p.mutable_grad() = group.gradients.narrow(0, offset, p.numel()).view(p.sizes());
      offset += p.numel();
    }
  }

  distributed::Communicator& comm_;
  std::vector<Group> groups_;
  std::unique_ptr<FusedAdamW> inner_;
};

DataParallelOptimizer::DataParallelOptimizer(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed,
                                             const AdamWSettings& settings, distributed::Communicator& comm,
                                             bool shard_state, torch::Dtype weights_dtype)
    : comm_(comm), low_precision_weights_(weights_dtype != torch::kFloat32) {
  if (low_precision_weights_ && !shard_state)
    throw Error("training: weights below float32 need their float32 master sharded (ZeRO stage 1)");
  trained_ = decayed;
  trained_.insert(trained_.end(), not_decayed.begin(), not_decayed.end());
  if (shard_state)
    sharded_ = std::make_unique<Sharded>(std::move(decayed), std::move(not_decayed), settings, comm, weights_dtype);
  else
    replicated_ = std::make_unique<FusedAdamW>(std::move(decayed), std::move(not_decayed), settings);
}

DataParallelOptimizer::~DataParallelOptimizer() = default;

double DataParallelOptimizer::reduce_and_clip(double max_grad_norm) {
  if (sharded_) return sharded_->reduce_and_clip(max_grad_norm);
  sum_gradients_over_ranks();
  // The norm is logged either way; max_grad_norm <= 0 means no clipping (as in HF).
  return torch::nn::utils::clip_grad_norm_(trained_, max_grad_norm > 0 ? max_grad_norm : INFINITY);
}

void DataParallelOptimizer::step(double learning_rate) {
  sharded_ ? sharded_->step(learning_rate) : replicated_->step(learning_rate);
}

void DataParallelOptimizer::zero_grad() { sharded_ ? sharded_->zero_grad() : replicated_->zero_grad(); }

void DataParallelOptimizer::save(const std::string& path) const {
  if (sharded_) return sharded_->save(path);
  if (comm_.is_main()) replicated_->save(path);
}

void DataParallelOptimizer::load(const std::string& path) { sharded_ ? sharded_->load(path) : replicated_->load(path); }

std::vector<torch::Tensor> DataParallelOptimizer::full_precision_weights() const {
  if (low_precision_weights_) return sharded_->full_precision_weights();
  return trained_;
}

int64_t DataParallelOptimizer::state_bytes() const {
  if (sharded_) return sharded_->state_bytes();
  int64_t bytes = 0;
  for (const torch::Tensor& t : replicated_->state()) bytes += bytes_of(t);
  return bytes;
}

int64_t DataParallelOptimizer::model_state_bytes() const {
  if (sharded_) return sharded_->weights_bytes() + sharded_->state_bytes();
  int64_t bytes = 0;
  for (const torch::Tensor& t : trained_) bytes += 2 * bytes_of(t);  // the weights and their gradients
  return bytes + state_bytes();
}

// Flat buckets of about 32 MiB: one collective per bucket, not per tensor. A tensor without a
// gradient on some rank (its share was empty) gets zeros there; one without a gradient on
// every rank keeps none, as in one process.
void DataParallelOptimizer::sum_gradients_over_ranks() {
  if (comm_.size() == 1) return;
  torch::Tensor has_gradient = torch::empty({int64_t(trained_.size())}, torch::kFloat32);
  for (size_t k = 0; k < trained_.size(); ++k) has_gradient[int64_t(k)] = trained_[k].grad().defined() ? 1.0f : 0.0f;
  comm_.all_reduce_max(has_gradient);
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0, numel = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    if (!bucket_buffer_.defined() || bucket_buffer_.numel() < numel)
      bucket_buffer_ = torch::empty({numel}, bucket.front().options().requires_grad(false));
    torch::Tensor flat = bucket_buffer_.narrow(0, 0, numel);
    gradients_into(bucket, flat);
    comm_.all_reduce_sum(flat);
    std::vector<torch::Tensor> gradients;
    for (const torch::Tensor& p : bucket) gradients.push_back(p.grad());
    unflatten_into(flat, gradients);
    bucket.clear();
    bytes = numel = 0;
  };
  for (size_t k = 0; k < trained_.size(); ++k) {
    torch::Tensor& p = trained_[k];
    if (has_gradient[int64_t(k)].item<float>() == 0) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    bucket.push_back(p);
    bytes += p.numel() * int64_t(p.element_size());
    numel += p.numel();
    if (bytes >= bucket_bytes) flush();
  }
  flush();
}

}  // namespace codealign::training
