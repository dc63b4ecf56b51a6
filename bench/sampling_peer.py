#!/usr/bin/env python3
"""The peer of `model_throughput sample`: a plain PyTorch eager sampling loop over the same
Llama checkpoint, written the way one writes it by hand for speed. One thread, float32, no_grad;
a KV cache preallocated for prompt + new tokens and written in place; one prompt prefilled once
and its cache copied to N rows; then NEW steps of one token per row at temperature 1
(softmax + multinomial), no stop ids, so every row makes exactly NEW tokens.
Timed: the prefill and the whole loop, as codealign's generate() call is timed.
Usage: sampling_peer.py DIR PROMPT_IDS_JSON N NEW  -> one JSON line."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file


class Llama:
    def __init__(self, directory):
        self.c = json.load(open(f"{directory}/config.json"))
        self.w = load_file(f"{directory}/model.safetensors")
        c = self.c
        self.layers = c["num_hidden_layers"]
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]
        d = self.head_dim
        self.inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        self.inv_freq = self.inv_freq.float()
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def p(self, layer, name):
        return self.w[f"model.layers.{layer}.{name}"]

    def norm(self, x, weight):
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), -1)
        return x * cos + rotated * sin

    def forward(self, ids, start, cache_k, cache_v):
        """ids [B, T] at positions start..start+T-1; writes keys/values into the caches."""
        B, T = ids.shape
        x = self.w["model.embed_tokens.weight"][ids]
        angles = torch.arange(start, start + T, dtype=torch.float32)[:, None] * self.inv_freq
        emb = torch.cat((angles, angles), -1)
        cos, sin = emb.cos(), emb.sin()
        end = start + T
        for layer in range(self.layers):
            h = self.norm(x, self.p(layer, "input_layernorm.weight"))
            q = F.linear(h, self.p(layer, "self_attn.q_proj.weight")).view(B, T, self.heads, -1).transpose(1, 2)
            k = F.linear(h, self.p(layer, "self_attn.k_proj.weight")).view(B, T, self.kv_heads, -1).transpose(1, 2)
            v = F.linear(h, self.p(layer, "self_attn.v_proj.weight")).view(B, T, self.kv_heads, -1).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            cache_k[layer][:, :, start:end] = k
            cache_v[layer][:, :, start:end] = v
            out = F.scaled_dot_product_attention(q, cache_k[layer][:, :, :end], cache_v[layer][:, :, :end],
                                                 is_causal=T > 1, enable_gqa=self.heads != self.kv_heads)
            x = x + F.linear(out.transpose(1, 2).reshape(B, T, -1), self.p(layer, "self_attn.o_proj.weight"))
            h = self.norm(x, self.p(layer, "post_attention_layernorm.weight"))
            gate = F.linear(h, self.p(layer, "mlp.gate_proj.weight"))
            up = F.linear(h, self.p(layer, "mlp.up_proj.weight"))
            x = x + F.linear(F.silu(gate) * up, self.p(layer, "mlp.down_proj.weight"))
        return F.linear(self.norm(x[:, -1], self.w["model.norm.weight"]), self.head)


def main():
    directory, prompt, n, new = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Llama(directory)
    T0, total = len(prompt), len(prompt) + new
    shape = (model.kv_heads, total, model.head_dim)
    with torch.no_grad():
        system_before = os.times().system
        start = time.perf_counter()
        one_k = [torch.empty(1, *shape) for _ in range(model.layers)]
        one_v = [torch.empty(1, *shape) for _ in range(model.layers)]
        logits = model.forward(torch.tensor([prompt]), 0, one_k, one_v)
        cache_k = [k.expand(n, *shape).clone() for k in one_k]
        cache_v = [v.expand(n, *shape).clone() for v in one_v]
        logits = logits.expand(n, -1)
        for step in range(new):
            token = torch.multinomial(logits.softmax(-1), 1)
            if step + 1 < new:
                logits = model.forward(token, T0 + step, cache_k, cache_v)
        elapsed = time.perf_counter() - start
        system = os.times().system - system_before
    print(json.dumps({"impl": "pytorch eager loop", "new_tokens": n * new, "seconds": elapsed,
                      "new_tokens_per_s": n * new / elapsed, "system_share": system / elapsed}))


if __name__ == "__main__":
    main()
