#include "training/optimizer.h"

#include "common/error.h"

namespace codealign::training {

FusedAdamW::FusedAdamW(std::vector<torch::Tensor> decayed, std::vector<torch::Tensor> not_decayed,
                       const AdamWSettings& settings)
    : settings_(settings) {
  for (auto [parameters, decay] : {std::pair{&decayed, settings.weight_decay}, std::pair{&not_decayed, 0.0}}) {
    Group group{*parameters, {}, {}, {}, decay};
    for (const torch::Tensor& p : group.parameters) {
      group.exp_avgs.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      group.exp_avg_sqs.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      group.steps.push_back(torch::zeros({}, p.options().dtype(torch::kFloat32)));
    }
    groups_.push_back(std::move(group));
  }
}

void FusedAdamW::step_group(Group& group, double learning_rate) {
  std::vector<torch::Tensor> parameters, grads, exp_avgs, exp_avg_sqs, steps;
  for (size_t i = 0; i < group.parameters.size(); ++i) {
    const torch::Tensor& grad = group.parameters[i].grad();
    if (!grad.defined()) continue;
    parameters.push_back(group.parameters[i]);
    grads.push_back(grad);
    exp_avgs.push_back(group.exp_avgs[i]);
    exp_avg_sqs.push_back(group.exp_avg_sqs[i]);
    steps.push_back(group.steps[i]);
  }
  if (parameters.empty()) return;
  torch::NoGradGuard no_grad;
  at::_foreach_add_(steps, 1);  // the kernel reads the count of the step it takes (as torch.optim does)
  at::_fused_adamw_(parameters, grads, exp_avgs, exp_avg_sqs, {}, steps, learning_rate, settings_.beta1, settings_.beta2,
                    group.weight_decay, settings_.epsilon, /*amsgrad=*/false, /*maximize=*/false);
}

void FusedAdamW::step(double learning_rate) {
  for (Group& group : groups_) step_group(group, learning_rate);
}

void FusedAdamW::zero_grad() {
  for (Group& group : groups_)
    for (torch::Tensor& p : group.parameters)
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();  // freed, as set_to_none=True
}

std::vector<torch::Tensor> FusedAdamW::state() const {
  std::vector<torch::Tensor> state;
  for (const Group& group : groups_)
    for (size_t i = 0; i < group.parameters.size(); ++i)
      for (const torch::Tensor* t : {&group.exp_avgs[i], &group.exp_avg_sqs[i], &group.steps[i]}) state.push_back(*t);
  return state;
}

void FusedAdamW::save(const std::string& path) const {
  std::vector<torch::Tensor> cpu;
  for (const torch::Tensor& t : state()) cpu.push_back(t.cpu());
  torch::save(cpu, path);
}

std::vector<torch::Tensor> FusedAdamW::read_state(const std::string& path, size_t parameters) {
  std::vector<torch::Tensor> state;
  try {
    torch::load(state, path);
  } catch (const c10::Error& e) {
    throw Error("training: cannot read the optimizer state '" + path + "': " + e.what_without_backtrace());
  }
  if (state.size() != 3 * parameters)
    throw Error("training: the optimizer state '" + path + "' holds " + std::to_string(state.size()) + " tensors, " +
                std::to_string(3 * parameters) + " expected (is it from another model, or from an older codealign?)");
  return state;
}

void FusedAdamW::load(const std::string& path) {
  size_t parameters = 0;
  for (const Group& group : groups_) parameters += group.parameters.size();
  set_state(read_state(path, parameters), path);
}

void FusedAdamW::set_state(const std::vector<torch::Tensor>& state, const std::string& source) {
  size_t next = 0;
  for (Group& group : groups_)
    for (size_t i = 0; i < group.parameters.size(); ++i)
      for (torch::Tensor* t : {&group.exp_avgs[i], &group.exp_avg_sqs[i], &group.steps[i]}) {
        if (state.at(next).sizes() != t->sizes())
          throw Error("training: the optimizer state '" + source + "' does not fit this model (tensor " +
                      std::to_string(next) + " has another shape)");
        t->copy_(state[next++]);
      }
}

}  // namespace codealign::training
