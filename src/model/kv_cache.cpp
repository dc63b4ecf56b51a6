// The KV cache's buffers: written in place, grown by doubling, compacted when rows leave.
#include <algorithm>

#include "common/error.h"
#include "model/model.h"

namespace codealign::model {

namespace {

// A buffer like `old` with room for `capacity` positions along `dim`, holding its first `used`
// and zeros after them (the static mode attends over positions not yet written).
torch::Tensor regrown(const torch::Tensor& old, int64_t dim, int64_t capacity, int64_t used) {
  std::vector<int64_t> shape = old.sizes().vec();
  shape[size_t(dim)] = capacity;
  torch::Tensor grown = torch::zeros(shape, old.options());
  grown.narrow(dim, 0, used).copy_(old.narrow(dim, 0, used));
  return grown;
}

}  // namespace

void KvCache::grow(int64_t needed) {
  int64_t capacity = std::max({needed, reserve_, 2 * capacity_});
  for (auto& k : keys_) k = regrown(k, 2, capacity, length_);
  for (auto& v : values_) v = regrown(v, 2, capacity, length_);
  valid_ = regrown(valid_, 1, capacity, length_);
  capacity_ = capacity;
}

torch::Tensor KvCache::begin(const torch::Tensor& valid_now) {
  int64_t B = valid_now.size(0), T = valid_now.size(1);
  if (!valid_.defined()) {
    capacity_ = std::max(T, reserve_);
    valid_ = torch::zeros({B, capacity_}, valid_now.options());
  } else if (valid_.size(0) != B) {
    throw Error("model: a forward over " + std::to_string(B) + " rows with a KV cache of " +
                std::to_string(valid_.size(0)) + " rows");
  }
  if (is_static()) {
    if (T != 1 || length_ + 1 > capacity_)
      throw Error("model: a static KV cache takes one position per forward, up to its " + std::to_string(capacity_));
    valid_.index_copy_(1, write_position_, valid_now);
    pending_ = 1;
    return valid_;
  }
  if (length_ + T > capacity_) grow(length_ + T);
  valid_.narrow(1, length_, T).copy_(valid_now);
  pending_ = T;
  return valid_.narrow(1, 0, length_ + T);
}

std::pair<torch::Tensor, torch::Tensor> KvCache::append(size_t layer, const torch::Tensor& keys,
                                                        const torch::Tensor& values) {
  if (keys_.size() <= layer) {
    keys_.resize(layer + 1);
    values_.resize(layer + 1);
  }
  torch::Tensor& k = keys_[layer];
  torch::Tensor& v = values_[layer];
  if (!k.defined()) {  // the first forward: [B, kv_heads, capacity, D]
    k = torch::empty({keys.size(0), keys.size(1), capacity_, keys.size(3)}, keys.options());
    v = torch::empty({values.size(0), values.size(1), capacity_, values.size(3)}, values.options());
  }
  if (is_static()) {
    k.index_copy_(2, write_position_, keys);
    v.index_copy_(2, write_position_, values);
    return {k, v};
  }
  int64_t T = keys.size(2);
  k.narrow(2, length_, T).copy_(keys);
  v.narrow(2, length_, T).copy_(values);
  return {k.narrow(2, 0, length_ + T), v.narrow(2, 0, length_ + T)};
}

void KvCache::end() {
  if (is_static()) write_position_.add_(pending_);  // on the device: a graph replays it
  length_ += pending_;
  pending_ = 0;
}

void KvCache::make_static() {
  if (!valid_.defined() || is_static()) throw Error("model: make_static needs a prefilled cache, once");
  capacity_ = std::max(capacity_, reserve_);
  for (auto& k : keys_) k = regrown(k, 2, capacity_, length_);
  for (auto& v : values_) v = regrown(v, 2, capacity_, length_);
  valid_ = regrown(valid_, 1, capacity_, length_);
  write_position_ = torch::full({1}, length_, torch::TensorOptions().dtype(torch::kInt64).device(valid_.device()));
}

void KvCache::select_rows(const torch::Tensor& rows) {
  if (!valid_.defined()) return;
  torch::Tensor index = rows.to(valid_.device());
  for (auto& k : keys_) k = k.index_select(0, index);
  for (auto& v : values_) v = v.index_select(0, index);
  valid_ = valid_.index_select(0, index);
  if (prefix_.prompts) {
    prefix_.slots = prefix_.slots.index_select(0, index);
    prefix_.every_slot = false;
  }
}

void KvCache::share_prefix(int64_t n) {
  if (!valid_.defined() || prefix_.prompts) throw Error("model: share_prefix needs a prefilled cache, once");
  int64_t P = valid_.size(0);
  for (auto& k : keys_) prefix_.keys.push_back(k.narrow(2, 0, length_));
  for (auto& v : values_) prefix_.values.push_back(v.narrow(2, 0, length_));
  prefix_.valid = valid_.narrow(1, 0, length_);
  prefix_.no_padding = prefix_.valid.all().item<bool>();  // read once, not at every step
  prefix_.slots = torch::arange(P * n, torch::TensorOptions().dtype(torch::kInt64).device(valid_.device()));
  prefix_.prompts = P;
  prefix_.copies = n;
  // What follows the prompts, per row: room for what reserve_ left after the prompt.
  capacity_ = std::max<int64_t>(1, reserve_ - length_);
  for (auto& k : keys_) k = torch::empty({P * n, k.size(1), capacity_, k.size(3)}, k.options());
  for (auto& v : values_) v = torch::empty({P * n, v.size(1), capacity_, v.size(3)}, v.options());
  valid_ = torch::zeros({P * n, capacity_}, valid_.options());
  reserve_ = capacity_;
  length_ = 0;
}


}  // namespace codealign::model
