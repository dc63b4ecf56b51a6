// Internal to model/: decode steps' attention over the keys each row has cached for itself (the
// generated ones after a shared prompt, or the whole cache), by hand for float32 on the CPU.
// There a row has a few dozen to a few hundred keys per head, so torch's batched products make
// one tiny BLAS call per row and head (and copy the cache when it is a view of a larger
// buffer); these loops read each row's keys and values once, in place. Each row is computed
// alone in a fixed order, so its result does not depend on its batch.
#pragma once

#include <torch/torch.h>

namespace codealign::model {

// Whether the loops below apply: float32 tensors on the CPU.
bool own_key_loops_apply(const torch::Tensor& q, const torch::Tensor& k);

// scores [B, heads, T, L] = (q [B, heads, T, D] . k [B, kv_heads, L, D]) * scale, each key/value
// head serving its group of heads / kv_heads query heads. `scores` may be a view (the own-key
// columns of a wider buffer); the last dimension of every tensor must be contiguous.
void own_key_scores(const torch::Tensor& q, const torch::Tensor& k, double scale, torch::Tensor& scores);

// out [B, heads, T, D] += probabilities [B, heads, T, L] . v [B, kv_heads, L, D], in place.
void add_own_values(const torch::Tensor& probabilities, const torch::Tensor& v, torch::Tensor& out);

}  // namespace codealign::model
