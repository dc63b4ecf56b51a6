"""codealign's Llama/Qwen2 forward, greedy generation and checkpoints against transformers
(LlamaForCausalLM / Qwen2ForCausalLM, float32, CPU) on random tiny models."""
import json
import os

import pytest
import torch
from safetensors.torch import load_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from conftest import DATA_DIR, probe

GPT2_TOKENIZER = os.path.join(DATA_DIR, "tokenizers", "gpt2", "encoder.json")

SMALL = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
             rms_norm_eps=1e-6, rope_theta=10000.0, initializer_range=0.2,
             tie_word_embeddings=False, bos_token_id=None, eos_token_id=None, pad_token_id=None)

# name -> (model class, config); each exercises one thing codealign must get right.
CONFIGS = {
    "llama_gqa": (LlamaForCausalLM, LlamaConfig(**SMALL)),
    "llama_tied_with_attention_bias": (LlamaForCausalLM, LlamaConfig(**{**SMALL, "tie_word_embeddings": True,
                                                                        "attention_bias": True})),
    "llama_head_dim_override": (LlamaForCausalLM, LlamaConfig(**{**SMALL, "head_dim": 32})),
    "llama_rope_linear": (LlamaForCausalLM, LlamaConfig(**{**SMALL, "rope_scaling": {"rope_type": "linear", "factor": 2.0}})),
    "llama_rope_dynamic": (LlamaForCausalLM, LlamaConfig(**{**SMALL, "max_position_embeddings": 12,
                                                           "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}})),
    "llama_rope_llama3": (LlamaForCausalLM, LlamaConfig(**{**SMALL, "rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16}})),
    "qwen2_biases": (Qwen2ForCausalLM, Qwen2Config(**SMALL)),
    "qwen2_tied": (Qwen2ForCausalLM, Qwen2Config(**{**SMALL, "tie_word_embeddings": True, "num_key_value_heads": 1})),
}

# Rows of different lengths: the batch is left-padded on both sides.
ROWS = [[5, 17, 300, 2, 99, 41, 7, 8, 250, 3, 11, 60, 0, 511, 42, 77, 1, 9, 13, 400],
        [1, 2, 3, 4, 5, 6, 7],
        [100, 200, 300, 400, 500, 10, 20, 30, 40, 50, 60]]


def make_model(name, directory, **overrides):
    """A random model of the named config (with overrides), saved with save_pretrained; biases
    and norm weights are randomised too, so that a forgotten bias or norm shows."""
    model_class, config = CONFIGS[name]
    config = config.__class__(**{**config.to_dict(), **overrides})
    torch.manual_seed(0)
    model = model_class(config).eval()
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if parameter_name.endswith("bias"):
                parameter.normal_(0, 0.1)
            elif "norm" in parameter_name:
                parameter.copy_(1 + 0.1 * torch.randn_like(parameter))
    model.save_pretrained(directory)
    return model


def reference_logits(model, rows):
    """transformers' logits of the left-padded batch, real tokens only."""
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    return [logits[b, width - len(r):] for b, r in enumerate(rows)]


def relative_error(got, expected):
    return ((got - expected).abs().max() / expected.abs().max()).item()


def rows_for(name):
    model_class, config = CONFIGS[name]
    # The dynamic variant only scales beyond max_position_embeddings: make the longest row pass it.
    return ROWS if config.max_position_embeddings > 20 else [ROWS[0][:20], ROWS[1]]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_logits_equal_transformers(name, tmp_path):
    model = make_model(name, tmp_path)
    rows = rows_for(name)
    got = probe("logits", tmp_path, json.dumps(rows))["logits"]
    for b, expected in enumerate(reference_logits(model, rows)):
        error = relative_error(torch.tensor(got[b]), expected)
        assert error <= 1e-5, f"{name} row {b}: relative error {error:.2e}"


@pytest.mark.parametrize("name", ["llama_gqa", "llama_tied_with_attention_bias", "qwen2_biases"])
def test_greedy_tokens_equal_transformers_generate(name, tmp_path):
    model = make_model(name, tmp_path)
    width = max(map(len, ROWS))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in ROWS])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in ROWS])
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    with torch.no_grad():
        expected = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=64,
                                  min_new_tokens=64)[:, width:].tolist()
    got = probe("greedy", tmp_path, json.dumps(ROWS), 64, GPT2_TOKENIZER)["ids"]
    assert got == expected


def test_codealign_checkpoints_load_in_transformers(tmp_path):
    """Sharded float32 and bfloat16 files written by codealign: transformers loads them and
    gets the same weights (and so the same logits)."""
    model = make_model("qwen2_biases", tmp_path / "hf")
    expected = reference_logits(model, ROWS)
    probe("resave", tmp_path / "hf", tmp_path / "f32", "float32", 100_000)
    assert os.path.exists(tmp_path / "f32" / "model.safetensors.index.json")
    reloaded = Qwen2ForCausalLM.from_pretrained(tmp_path / "f32").eval()
    for got, want in zip(reference_logits(reloaded, ROWS), expected):
        assert torch.equal(got, want)

    probe("resave", tmp_path / "hf", tmp_path / "bf16", "bfloat16", 1 << 30)
    reloaded = Qwen2ForCausalLM.from_pretrained(tmp_path / "bf16", dtype=torch.bfloat16)
    for parameter_name, parameter in model.to(torch.bfloat16).state_dict().items():
        assert torch.equal(reloaded.state_dict()[parameter_name], parameter), parameter_name


def test_transformers_sharded_checkpoints_load_in_codealign(tmp_path):
    model = make_model("llama_gqa", tmp_path / "single")
    model.save_pretrained(tmp_path / "sharded", max_shard_size="100KB")
    assert len([f for f in os.listdir(tmp_path / "sharded") if f.endswith(".safetensors")]) > 2
    got = probe("logits", tmp_path / "sharded", json.dumps(ROWS))["logits"]
    for b, expected in enumerate(reference_logits(model, ROWS)):
        assert relative_error(torch.tensor(got[b]), expected) <= 1e-5


def test_codealign_random_model_is_a_transformers_checkpoint(tmp_path):
    """codealign's own random model, saved by codealign, loads in transformers with every tensor."""
    os.makedirs(tmp_path / "config")
    CONFIGS["qwen2_biases"][1].save_pretrained(tmp_path / "config")
    probe("random", tmp_path / "config" / "config.json", tmp_path / "model", 7)
    saved = load_file(tmp_path / "model" / "model.safetensors")
    reloaded = Qwen2ForCausalLM.from_pretrained(tmp_path / "model")
    state = reloaded.state_dict()
    assert set(saved) == set(state)
    for tensor_name, tensor in saved.items():
        assert torch.equal(state[tensor_name], tensor), tensor_name
