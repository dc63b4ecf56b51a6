#!/usr/bin/env python3
"""Independent reference forward for codealign's model tests, written from the Llama/Qwen2
formulas with plain torch ops (no transformers): reads config.json and model.safetensors from
MODEL_DIR, runs the token ids given as JSON on argv[2] ([[...], ...], equal lengths, no
padding), and prints the logits as JSON. Run with /usr/bin/python3 (python3-torch)."""
import json
import math
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + size + begin:8 + size + end])
        tensor = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = tensor.to(torch.float64)
    return tensors


def rms_norm(x, weight, eps):
    return weight * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def forward(config, w, ids):
    batch, length = ids.shape
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    dim = config.get("head_dim") or config["hidden_size"] // heads
    eps = config["rms_norm_eps"]
    bias = config["model_type"] == "qwen2" or config.get("attention_bias", False)
    x = w["model.embed_tokens.weight"][ids]
    inv = 1.0 / (config["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    angles = torch.arange(length, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()
    causal = torch.tril(torch.ones(length, length, dtype=torch.bool))
    for layer in range(config["num_hidden_layers"]):
        p = lambda name: w["model.layers.%d.%s" % (layer, name)]
        h = rms_norm(x, p("input_layernorm.weight"), eps)
        proj = lambda name: h @ p("self_attn.%s.weight" % name).T + (p("self_attn.%s.bias" % name) if bias else 0)
        q = proj("q_proj").view(batch, length, heads, dim).transpose(1, 2)
        k = proj("k_proj").view(batch, length, kv_heads, dim).transpose(1, 2)
        v = proj("v_proj").view(batch, length, kv_heads, dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dim)
        scores = scores.masked_fill(~causal, float("-inf"))
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, heads * dim)
        x = x + out @ p("self_attn.o_proj.weight").T
        h = rms_norm(x, p("post_attention_layernorm.weight"), eps)
        gate, up = h @ p("mlp.gate_proj.weight").T, h @ p("mlp.up_proj.weight").T
        x = x + (torch.nn.functional.silu(gate) * up) @ p("mlp.down_proj.weight").T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else w["lm_head.weight"]
    return x @ head.T


def main():
    directory, ids = sys.argv[1], torch.tensor(json.loads(sys.argv[2]))
    config = json.load(open(directory + "/config.json"))
    weights = read_safetensors(directory + "/model.safetensors")
    json.dump(forward(config, weights, ids).tolist(), sys.stdout)


if __name__ == "__main__":
    main()
