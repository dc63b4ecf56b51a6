// Activation checkpointing: a decoder layer whose forward runs without recording a graph,
// keeping only its input, and runs again with one in the backward pass.
#include <ATen/autocast_mode.h>

#include "model/device.h"
#include "model/model.h"

namespace codealign::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
  // `weights` are passed so that autograd returns their gradients; the layer reads them itself.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, at::TensorList weights,
                               const CausalLM* model, int64_t layer, const torch::Tensor& cos, const torch::Tensor& sin,
                               const std::optional<torch::Tensor>& allowed, bool causal) {
    torch::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = model->decoder_layer(layer, x, {cos, sin, allowed, causal}, nullptr);
    }
    ctx->save_for_backward({x, cos, sin});
    ctx->saved_data["model"] = int64_t(reinterpret_cast<intptr_t>(model));
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["weights"] = int64_t(weights.size());
    ctx->saved_data["causal"] = causal;
    if (allowed) ctx->saved_data["allowed"] = *allowed;
    // The backward runs where autocast is off (another thread on a GPU): it is set again there.
    at::DeviceType type = x.device().type();
    bool autocast = at::autocast::is_autocast_enabled(type);
    ctx->saved_data["autocast"] = int64_t(autocast ? at::autocast::get_autocast_dtype(type) : torch::kFloat32);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto* model = reinterpret_cast<const CausalLM*>(intptr_t(ctx->saved_data["model"].toInt()));
    int64_t layer = ctx->saved_data["layer"].toInt();
    std::optional<torch::Tensor> allowed;
    if (ctx->saved_data.count("allowed")) allowed = ctx->saved_data["allowed"].toTensor();
    torch::Tensor x = saved[0].detach().requires_grad_(true);
    std::vector<torch::Tensor> weights = model->layer_tensors(layer), inputs = {x};
    for (const torch::Tensor& w : weights)
      if (w.requires_grad()) inputs.push_back(w);
    torch::Tensor out;
    {
      torch::AutoGradMode enabled(true);
      MixedPrecision precision(x.device(), torch::ScalarType(ctx->saved_data["autocast"].toInt()));
      out = model->decoder_layer(layer, x, {saved[1], saved[2], allowed, ctx->saved_data["causal"].toBool()}, nullptr);
    }
    variable_list found = torch::autograd::grad({out}, inputs, {grads[0]}, false, false, true);
    // One gradient per forward argument: x, each weight, then model, layer, cos, sin, allowed, causal.
    variable_list result = {found[0]};
    size_t next = 1;
    for (const torch::Tensor& w : weights) result.push_back(w.requires_grad() ? found[next++] : torch::Tensor());
    result.resize(result.size() + 6);
    return result;
  }
};

}  // namespace

torch::Tensor checkpointed_layer(const CausalLM& model, int64_t layer, const torch::Tensor& x,
                                 const CausalLM::LayerContext& context) {
  std::vector<torch::Tensor> weights = model.layer_tensors(layer);
  return CheckpointedLayer::apply(x, at::TensorList(weights), &model, layer, context.cos, context.sin, context.allowed,
                                  context.causal);
}

}  // namespace codealign::model
