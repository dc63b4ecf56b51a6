#include "model/own_key_attention.h"

#include <cstring>

#include "common/error.h"

// One build runs well on any x86-64: each loop is compiled for AVX-512, AVX2 and the baseline,
// and the loader picks the best the machine has (GCC's function multi-versioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CODEALIGN_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CODEALIGN_CPU_CLONES
#endif

namespace codealign::model {

namespace {

// The helpers below pass 64-byte vectors by value; they are always inlined into one clone, so
// the ABI that GCC warns about (-Wpsabi) is never crossed.
#pragma GCC diagnostic ignored "-Wpsabi"

constexpr int64_t lanes = 16;
using Lanes = float __attribute__((vector_size(lanes * sizeof(float))));

[[gnu::always_inline]] inline Lanes load(const float* p) {
  Lanes x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

[[gnu::always_inline]] inline void store(float* p, Lanes x) { std::memcpy(p, &x, sizeof x); }

// a . b over n floats: lane-wise partial sums, a fixed tree over the lanes, then the tail.
[[gnu::always_inline]] inline float dot(const float* a, const float* b, int64_t n) {
  Lanes partial{};
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) partial += load(a + i) * load(b + i);
  float half[8], quarter[4];
  for (int j = 0; j < 8; ++j) half[j] = partial[j] + partial[j + 8];
  for (int j = 0; j < 4; ++j) quarter[j] = half[j] + half[j + 4];
  float sum = (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// y[0, n) += a * x[0, n)
[[gnu::always_inline]] inline void add_scaled(float* y, float a, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) store(y + i, load(y + i) + a * load(x + i));
  for (; i < n; ++i) y[i] += a * x[i];
}

// A float tensor [B, H, T or L, X]: its data and its first three strides (the last is 1).
struct Rows {
  float* data;
  int64_t row, head, position;
  float* at(int64_t b, int64_t h, int64_t t) const { return data + b * row + h * head + t * position; }
};

Rows rows_of(const torch::Tensor& t) {
  if (t.dim() != 4 || t.stride(3) != 1) throw Error("model: own-key attention needs 4-d tensors, last dimension contiguous");
  return {t.data_ptr<float>(), t.stride(0), t.stride(1), t.stride(2)};
}

torch::Tensor last_dim_contiguous(const torch::Tensor& t) { return t.stride(-1) == 1 ? t : t.contiguous(); }

struct Shape {
  int64_t rows, heads, group, queries, keys, head_dim;  // group: query heads per key/value head
};

CODEALIGN_CPU_CLONES void scores_loop(Rows q, Rows k, Rows scores, Shape s, float scale) {
  for (int64_t b = 0; b < s.rows; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t t = 0; t < s.queries; ++t) {
        const float* query = q.at(b, h, t);
        float* out = scores.at(b, h, t);
        for (int64_t l = 0; l < s.keys; ++l) out[l] = dot(query, k.at(b, h / s.group, l), s.head_dim) * scale;
      }
}

CODEALIGN_CPU_CLONES void values_loop(Rows p, Rows v, Rows out, Shape s) {
  for (int64_t b = 0; b < s.rows; ++b)
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t t = 0; t < s.queries; ++t) {
        const float* weights = p.at(b, h, t);
        float* sum = out.at(b, h, t);
        for (int64_t l = 0; l < s.keys; ++l) add_scaled(sum, weights[l], v.at(b, h / s.group, l), s.head_dim);
      }
}

}  // namespace

bool own_key_loops_apply(const torch::Tensor& q, const torch::Tensor& k) {
  return q.device().is_cpu() && q.scalar_type() == torch::kFloat32 && k.scalar_type() == torch::kFloat32 &&
         !torch::GradMode::is_enabled();
}

void own_key_scores(const torch::Tensor& q, const torch::Tensor& k, double scale, torch::Tensor& scores) {
  torch::Tensor queries = last_dim_contiguous(q), keys = last_dim_contiguous(k);
  Shape shape{q.size(0), q.size(1), q.size(1) / k.size(1), q.size(2), k.size(2), q.size(3)};
  scores_loop(rows_of(queries), rows_of(keys), rows_of(scores), shape, float(scale));
}

void add_own_values(const torch::Tensor& probabilities, const torch::Tensor& v, torch::Tensor& out) {
  torch::Tensor weights = last_dim_contiguous(probabilities), values = last_dim_contiguous(v);
  Shape shape{out.size(0), out.size(1), out.size(1) / v.size(1), out.size(2), v.size(2), v.size(3)};
  values_loop(rows_of(weights), rows_of(values), rows_of(out), shape);
}

}  // namespace codealign::model
