#!/usr/bin/env python3
"""The peer of bench/model_throughput.cpp: the same Llama/Qwen2 math in PyTorch eager
(float32, one thread, a KV cache for decode), the way a Python sampling loop runs it.
Usage: model_throughput_peer.py DIR B T N  -> one JSON line."""
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "model"))
from reference_forward import read_safetensors, rms_norm, rotate  # noqa: E402


class Model:
    def __init__(self, directory):
        self.c = json.load(open(directory + "/config.json"))
        self.w = {k: v.to(torch.float32) for k, v in read_safetensors(directory + "/model.safetensors").items()}
        c = self.c
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.dim = c.get("head_dim") or c["hidden_size"] // self.heads
        self.bias = c["model_type"] == "qwen2" or c.get("attention_bias", False)
        self.inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, self.dim, 2, dtype=torch.float32) / self.dim))

    def forward(self, ids, start, cache):
        c, w = self.c, self.w
        batch, length = ids.shape
        x = w["model.embed_tokens.weight"][ids]
        angles = torch.arange(start, start + length, dtype=torch.float32)[:, None] * self.inv[None, :]
        emb = torch.cat([angles, angles], -1)
        cos, sin = emb.cos(), emb.sin()
        mask = None
        if length > 1:
            mask = torch.full((length, start + length), float("-inf")).triu(start + 1)
        for layer in range(c["num_hidden_layers"]):
            p = lambda name: w["model.layers.%d.%s" % (layer, name)]
            h = rms_norm(x, p("input_layernorm.weight"), c["rms_norm_eps"])
            proj = lambda name: torch.nn.functional.linear(h, p("self_attn.%s.weight" % name),
                                                           p("self_attn.%s.bias" % name) if self.bias else None)
            q = proj("q_proj").view(batch, length, self.heads, self.dim).transpose(1, 2)
            k = proj("k_proj").view(batch, length, self.kv_heads, self.dim).transpose(1, 2)
            v = proj("v_proj").view(batch, length, self.kv_heads, self.dim).transpose(1, 2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            if layer in cache:
                k, v = torch.cat([cache[layer][0], k], 2), torch.cat([cache[layer][1], v], 2)
            cache[layer] = (k, v)
            group = self.heads // self.kv_heads
            k, v = k.repeat_interleave(group, 1), v.repeat_interleave(group, 1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.dim)
            if mask is not None:
                scores = scores + mask
            out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, -1)
            x = x + torch.nn.functional.linear(out, p("self_attn.o_proj.weight"))
            h = rms_norm(x, p("post_attention_layernorm.weight"), c["rms_norm_eps"])
            up = torch.nn.functional.linear(h, p("mlp.up_proj.weight"))
            gate = torch.nn.functional.linear(h, p("mlp.gate_proj.weight"))
            x = x + torch.nn.functional.linear(torch.nn.functional.silu(gate) * up, p("mlp.down_proj.weight"))
        x = rms_norm(x, w["model.norm.weight"], c["rms_norm_eps"])
        head = w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else w["lm_head.weight"]
        return torch.nn.functional.linear(x, head)


def main():
    directory, batch, length, new = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Model(directory)
    ids = torch.randint(3, model.c["vocab_size"], (batch, length))
    with torch.no_grad():
        model.forward(ids, 0, {})
        prefill = min(timed(lambda: model.forward(ids, 0, {})) for _ in range(3))
        decode = float("inf")
        for _ in range(2):
            cache = {}
            nxt = model.forward(ids, 0, cache)[:, -1].argmax(-1)
            start = time.perf_counter()
            for step in range(new):
                nxt = model.forward(nxt.view(batch, 1), length + step, cache)[:, 0].argmax(-1)
            decode = min(decode, time.perf_counter() - start)
    print(json.dumps({"impl": "pytorch-eager", "prefill_tokens_per_s": batch * length / prefill,
                      "decode_tokens_per_s": batch * new / decode}))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
