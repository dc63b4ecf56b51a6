"""codealign's LoRA adapters against PEFT: adapters codealign trains load with
PeftModel.from_pretrained and give the logits of codealign's merged export; adapters PEFT
writes load in codealign and give PEFT's logits."""
import json
import os
import shutil

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaForCausalLM

from conftest import DATA_DIR, codealign, probe
from test_model import ROWS, make_model, reference_logits, relative_error


def with_gpt2_tokenizer(directory):
    """codealign's train reads the model directory's tokenizer; ids < 512 are the model's vocabulary."""
    for name in ("encoder.json", "vocab.bpe"):
        shutil.copy(os.path.join(DATA_DIR, "tokenizers", "gpt2", name), directory / name)


def write_sft(path):
    with open(path, "w") as f:
        for prompt, completion in [("a = ", "1"), ("b = ", "2"), ("if a", ": b"), ("for", " x in a")]:
            f.write(json.dumps({"prompt": prompt, "completion": completion}) + "\n")


def test_ids_outside_the_model_vocabulary_are_refused(tmp_path):
    make_model("llama_gqa", tmp_path / "base")  # vocabulary 512; GPT-2 gives " =" the id 796
    with_gpt2_tokenizer(tmp_path / "base")
    write_sft(tmp_path / "sft.jsonl")
    result = codealign("train", "sft", "--model", tmp_path / "base", "--data", tmp_path / "sft.jsonl",
                       "--out", tmp_path / "out", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f"{tmp_path}/sft.jsonl:1: token id 796 is outside the model's vocabulary (vocab_size 512; "
        "hint: is the tokenizer the model's?)"), result.stderr


def test_codealign_adapters_load_in_peft_and_match_the_merged_export(tmp_path):
    base = make_model("llama_gqa", tmp_path / "base", vocab_size=50257)
    with_gpt2_tokenizer(tmp_path / "base")
    write_sft(tmp_path / "sft.jsonl")
    codealign("train", "sft", "--model", tmp_path / "base", "--data", tmp_path / "sft.jsonl", "--out", tmp_path / "out",
              "--lora-rank", 4, "--lora-alpha", 8, "--lora-target-modules", "q_proj", "v_proj", "down_proj",
              "--learning-rate", 0.05, "--warmup-ratio", 0, "--max-steps", 3, "--epochs", 10)
    adapted = PeftModel.from_pretrained(base, tmp_path / "out" / "adapter").eval()
    lora_b = [p for n, p in adapted.named_parameters() if "lora_B" in n]
    assert lora_b and all(p.abs().max() > 0 for p in lora_b), "training left the adapters at zero"
    merged = LlamaForCausalLM.from_pretrained(tmp_path / "out").eval()
    for got, expected in zip(reference_logits(merged, ROWS), reference_logits(adapted, ROWS)):
        assert relative_error(got, expected) <= 1e-5
    # The adapters change the model: the comparison above is not between two copies of the base.
    with adapted.disable_adapter():
        base_logits = reference_logits(adapted, ROWS)
    assert relative_error(base_logits[0], reference_logits(merged, ROWS)[0]) > 1e-3


def test_peft_adapters_load_in_codealign(tmp_path):
    base = make_model("qwen2_biases", tmp_path / "base")
    config = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "k_proj", "o_proj", "up_proj"],
                        init_lora_weights=False)  # random B, so the adapters do something
    torch.manual_seed(1)
    adapted = get_peft_model(base, config).eval()
    adapted.save_pretrained(tmp_path / "adapter")
    got = probe("logits", tmp_path / "base", json.dumps(ROWS), tmp_path / "adapter")["logits"]
    expected = reference_logits(adapted, ROWS)
    with adapted.disable_adapter():
        assert relative_error(reference_logits(adapted, ROWS)[0], expected[0]) > 1e-3
    for b, want in enumerate(expected):
        assert relative_error(torch.tensor(got[b]), want) <= 1e-5
