#include "training/logprobs.h"

#include <algorithm>

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

TokenBatch make_batch(const std::vector<const Sequence*>& sequences) {
  size_t T = 0;
  for (const Sequence* s : sequences) T = std::max(T, s->ids.size());
  int64_t B = int64_t(sequences.size());
  TokenBatch batch{torch::zeros({B, int64_t(T)}, torch::kInt64), torch::zeros({B, int64_t(T)}, torch::kBool),
                   torch::zeros({B, int64_t(T)}, torch::kBool)};
  for (int64_t b = 0; b < B; ++b) {
    const Sequence& s = *sequences[size_t(b)];
    batch.ids[b].slice(0, 0, int64_t(s.ids.size())).copy_(torch::tensor(std::vector<int64_t>(s.ids.begin(), s.ids.end())));
    batch.valid[b].slice(0, 0, int64_t(s.ids.size())).fill_(true);
    batch.loss_mask[b].slice(0, int64_t(s.prompt_length), int64_t(s.ids.size())).fill_(true);
  }
  return batch;
}

namespace {

// The entropy of softmax(hidden W^T) per row, chunked, without gradients (a metric).
torch::Tensor chunked_entropy(const torch::Tensor& hidden, const torch::Tensor& weight, int64_t chunk_tokens) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  torch::Tensor w = weight.to(torch::kFloat32);
  for (int64_t start = 0; start < hidden.size(0); start += chunk_tokens) {
    torch::Tensor logits = torch::matmul(hidden.slice(0, start, start + chunk_tokens).to(torch::kFloat32), w.t());
    torch::Tensor logp = torch::log_softmax(logits, -1);
    parts.push_back(-(logp.exp() * logp).sum(-1));
  }
  return parts.empty() ? torch::zeros({0}, hidden.options().dtype(torch::kFloat32)) : torch::cat(parts);
}

}  // namespace

TokenLogps token_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens, double temperature,
                       bool with_entropy) {
  torch::Device device = model.device();
  torch::Tensor ids = batch.ids.to(device), valid = batch.valid.to(device).to(torch::kBool);
  torch::Tensor positions = (valid.to(torch::kInt64).cumsum(1) - 1).clamp_min(0);
  torch::Tensor hidden = model.hidden_states(ids, positions, valid, nullptr, /*right_padded=*/true);  // [B, T, H]
  // Position t predicts token t + 1: keep the pairs whose target is a loss token.
  torch::Tensor predicts = batch.loss_mask.to(device).to(torch::kBool).slice(1, 1);  // [B, T-1]
  torch::Tensor where = predicts.nonzero();                                          // [N, 2]
  torch::Tensor rows = where.select(1, 0), columns = where.select(1, 1);
  torch::Tensor selected = hidden.index({rows, columns});  // [N, H]
  // (h / t) W^T = (h W^T) / t: the tempered logits without a second pass over them.
  if (temperature != 1.0) selected = selected / temperature;
  torch::Tensor targets = ids.index({rows, columns + 1});
  TokenLogps out{chunked_token_logps(selected, model.output_weight(), targets, chunk_tokens), rows, {}};
  if (with_entropy) out.entropy = chunked_entropy(selected.detach(), model.output_weight(), chunk_tokens);
  return out;
}

SequenceLogps sequence_logps(const model::CausalLM& model, const TokenBatch& batch, int64_t chunk_tokens) {
  TokenLogps tokens = token_logps(model, batch, chunk_tokens);
  int64_t B = batch.ids.size(0);
  torch::Tensor sums = torch::zeros({B}, tokens.logps.options()).index_add(0, tokens.rows, tokens.logps);
  return {sums, batch.loss_mask.slice(1, 1).sum(1).to(tokens.logps.device(), torch::kFloat32)};
}

// ---------------------------------------------------------------------------------------------
// Pairs packed as one row each: [prompt p | chosen completion c | rejected completion r]

namespace {

enum Segment : int64_t { kPrompt, kChosen, kRejected, kPadding };

// The packed rows and, for each loss token, the hidden state that predicts it.
struct PackedPairs {
  torch::Tensor ids, positions, segments;  // [B, T]
  // [N]: hidden[rows, columns] predicts targets; slots say whose sum it joins (b: chosen, B + b: rejected).
  torch::Tensor rows, columns, targets, slots;
  torch::Tensor tokens;  // [2B] float32: chosen counts, then rejected
};

// Packing needs the prompt ids equal, and at least one of them to predict the first
// completion token.
bool prompts_shared(const SequencePairs& pairs) {
  for (const auto& [chosen, rejected] : pairs) {
    size_t p = chosen->prompt_length;
    if (p == 0 || rejected->prompt_length != p ||
        !std::equal(chosen->ids.begin(), chosen->ids.begin() + ptrdiff_t(p), rejected->ids.begin()))
      return false;
  }
  return true;
}

PackedPairs pack_pairs(const SequencePairs& pairs) {
  int64_t B = int64_t(pairs.size()), T = 0;
  for (const auto& [chosen, rejected] : pairs)
    T = std::max(T, int64_t(chosen->ids.size() + rejected->completion_tokens()));
  std::vector<int64_t> ids(size_t(B * T), 0), positions(size_t(B * T), 0), segments(size_t(B * T), kPadding);
  std::vector<int64_t> rows, columns, targets, slots;
  std::vector<float> tokens(size_t(2 * B));
  for (int64_t b = 0; b < B; ++b) {
    const Sequence &chosen = *pairs[size_t(b)].first, &rejected = *pairs[size_t(b)].second;
    int64_t p = int64_t(chosen.prompt_length), c = int64_t(chosen.completion_tokens()),
            r = int64_t(rejected.completion_tokens());
    auto place = [&](int64_t column, int64_t id, int64_t position, Segment segment) {
      size_t at = size_t(b * T + column);
      ids[at] = id, positions[at] = position, segments[at] = segment;
    };
    auto predict = [&](int64_t column, int64_t target, int64_t slot) {
      rows.push_back(b), columns.push_back(column), targets.push_back(target), slots.push_back(slot);
    };
    for (int64_t i = 0; i < p + c; ++i) place(i, chosen.ids[size_t(i)], i, i < p ? kPrompt : kChosen);
    // The rejected completion continues the prompt, so its positions restart after it.
    for (int64_t j = 0; j < r; ++j) place(p + c + j, rejected.ids[size_t(p + j)], p + j, kRejected);
    for (int64_t i = 0; i < c; ++i) predict(p - 1 + i, chosen.ids[size_t(p + i)], b);
    // Its first token is predicted by the prompt's last position, the others by the rejected token before.
    for (int64_t j = 0; j < r; ++j) predict(j == 0 ? p - 1 : p + c + j - 1, rejected.ids[size_t(p + j)], B + b);
    tokens[size_t(b)] = float(c), tokens[size_t(B + b)] = float(r);
  }
  auto tensor = [](const std::vector<int64_t>& values) { return torch::tensor(values, torch::kInt64); };
  return {tensor(ids).view({B, T}), tensor(positions).view({B, T}), tensor(segments).view({B, T}), tensor(rows),
          tensor(columns), tensor(targets), tensor(slots), torch::tensor(tokens, torch::kFloat32)};
}

// allowed [B, T, T] (query, key): causal, except that rejected tokens do not see the chosen
// ones; padding sees only itself (every query needs one key for its softmax to stay finite).
torch::Tensor packed_attention(const torch::Tensor& segments) {
  int64_t T = segments.size(1);
  auto options = torch::TensorOptions().dtype(torch::kBool).device(segments.device());
  torch::Tensor query = segments.unsqueeze(2), key = segments.unsqueeze(1);
  torch::Tensor allowed = torch::ones({T, T}, options).tril() & (query != kPadding) & (key != kPadding) &
                          ~((query == kRejected) & (key == kChosen));
  return allowed | torch::eye(T, options);
}

PairSequenceLogps unpacked_pair_logps(const model::CausalLM& model, const SequencePairs& pairs, int64_t chunk_tokens) {
  std::vector<const Sequence*> sequences;
  for (const auto& pair : pairs) sequences.push_back(pair.first);
  for (const auto& pair : pairs) sequences.push_back(pair.second);
  SequenceLogps all = sequence_logps(model, make_batch(sequences), chunk_tokens);
  int64_t B = int64_t(pairs.size());
  return {{all.sums.slice(0, 0, B), all.tokens.slice(0, 0, B)}, {all.sums.slice(0, B), all.tokens.slice(0, B)}, false};
}

}  // namespace

PairSequenceLogps pair_logps(const model::CausalLM& model, const SequencePairs& pairs, int64_t chunk_tokens,
                             bool share_prompt) {
  if (!share_prompt || !prompts_shared(pairs)) return unpacked_pair_logps(model, pairs, chunk_tokens);
  torch::Device device = model.device();
  PackedPairs packed = pack_pairs(pairs);
  torch::Tensor allowed = packed_attention(packed.segments.to(device));
  torch::Tensor hidden = model.masked_hidden_states(packed.ids.to(device), packed.positions.to(device), allowed);  // [B, T, H]
  torch::Tensor selected = hidden.index({packed.rows.to(device), packed.columns.to(device)});                   // [N, H]
  torch::Tensor logps = chunked_token_logps(selected, model.output_weight(), packed.targets.to(device), chunk_tokens);
  int64_t B = int64_t(pairs.size());
  torch::Tensor sums = torch::zeros({2 * B}, logps.options()).index_add(0, packed.slots.to(device), logps);
  torch::Tensor tokens = packed.tokens.to(device);
  return {{sums.slice(0, 0, B), tokens.slice(0, 0, B)}, {sums.slice(0, B), tokens.slice(0, B)}, true};
}

}  // namespace codealign::training
