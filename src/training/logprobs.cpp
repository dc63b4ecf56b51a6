#include "training/logprobs.h"

#include <ATen/autocast_mode.h>

namespace codealign::training {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// d log_softmax(z)[t] / dz = onehot(t) - softmax(z): per chunk, never the whole [N, V]. The
// products run in `product_dtype` (bfloat16 under mixed precision, in the backward too, which
// autocast does not reach); softmax and the sums in float32.
struct ChunkedTokenLogps : public torch::autograd::Function<ChunkedTokenLogps> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& weight,
                               const torch::Tensor& targets, int64_t chunk, int64_t product_dtype) {
    auto dtype = torch::ScalarType(product_dtype);
    torch::Tensor out = torch::empty({hidden.size(0)}, hidden.options().dtype(torch::kFloat32));
    torch::Tensor w = weight.to(dtype);
    for (int64_t start = 0; start < hidden.size(0); start += chunk) {
      int64_t end = std::min(hidden.size(0), start + chunk);
      torch::Tensor logits = torch::matmul(hidden.slice(0, start, end).to(dtype), w.t()).to(torch::kFloat32);
      torch::Tensor target = targets.slice(0, start, end).unsqueeze(1);
      out.slice(0, start, end).copy_((logits.gather(1, target) - logits.logsumexp(1, true)).squeeze(1));
    }
    ctx->save_for_backward({hidden, weight, targets});
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["dtype"] = product_dtype;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &hidden = saved[0], &weight = saved[1], &targets = saved[2];
    int64_t chunk = ctx->saved_data["chunk"].toInt();
    auto dtype = torch::ScalarType(ctx->saved_data["dtype"].toInt());
    torch::Tensor g = grads[0].to(torch::kFloat32);
    torch::Tensor w = weight.to(dtype);
    torch::Tensor grad_hidden = torch::empty(hidden.sizes(), hidden.options().dtype(torch::kFloat32));
    torch::Tensor grad_weight = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat32));
    for (int64_t start = 0; start < hidden.size(0); start += chunk) {
      int64_t end = std::min(hidden.size(0), start + chunk);
      torch::Tensor h = hidden.slice(0, start, end).to(dtype);
      torch::Tensor gc = g.slice(0, start, end).unsqueeze(1);
      torch::Tensor d = -torch::softmax(torch::matmul(h, w.t()).to(torch::kFloat32), 1) * gc;
      d.scatter_add_(1, targets.slice(0, start, end).unsqueeze(1), gc);
      torch::Tensor d_low = d.to(dtype);
      grad_hidden.slice(0, start, end).copy_(torch::matmul(d_low, w));
      grad_weight.add_(torch::matmul(d_low.t(), h));
    }
    return {grad_hidden.to(hidden.scalar_type()), grad_weight.to(weight.scalar_type()), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunked_token_logps(const torch::Tensor& hidden, const torch::Tensor& weight,
                                  const torch::Tensor& targets, int64_t chunk_tokens) {
  at::DeviceType type = hidden.device().type();
  torch::ScalarType dtype = at::autocast::is_autocast_enabled(type) ? at::autocast::get_autocast_dtype(type) : torch::kFloat32;
  return ChunkedTokenLogps::apply(hidden, weight, targets, chunk_tokens, int64_t(dtype));
}

SequenceLogps sequence_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens) {
  torch::Device device = model.device();
  torch::Tensor ids = batch.ids.to(device), valid = batch.valid.to(device).to(torch::kBool);
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  torch::Tensor hidden = model.hidden_states(ids, positions, valid, nullptr, /*right_padded=*/true);  // [B, T, H]
  // Position t predicts token t + 1: keep the pairs whose target is a loss token.
  torch::Tensor predicts = batch.loss_mask.to(device).to(torch::kBool).slice(1, 1);  // [B, T-1]
  torch::Tensor where = predicts.nonzero();                                          // [N, 2]
  torch::Tensor rows = where.select(1, 0), columns = where.select(1, 1);
  torch::Tensor selected = hidden.index({rows, columns});                            // [N, H]
  torch::Tensor targets = ids.index({rows, columns + 1});
  torch::Tensor logps = chunked_token_logps(selected, model.output_weight(), targets, chunk_tokens);
  int64_t B = ids.size(0);
  torch::Tensor sums = torch::zeros({B}, logps.options()).index_add(0, rows, logps);
  torch::Tensor tokens = predicts.sum(1).to(torch::kFloat32);
  return {sums, tokens};
}

}  // namespace codealign::training
