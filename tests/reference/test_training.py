"""codealign's trainer against TRL (DPOTrainer, SFTTrainer; float32, CPU) on a tiny random Llama:
the same pairs and settings give the same loss, rewards, log-probs, grad_norm and weights.

Two optimizer steps over one batch that holds every example: step 1 starts from policy ==
reference (rewards are all 0), so the step-2 metrics are the ones that test the rewards; the
weights are compared after each step (codealign's checkpoint-1 and its final model)."""
import json
import os

import pytest
import torch
from datasets import Dataset, disable_progress_bars
from safetensors.torch import load_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from conftest import DATA_DIR, codealign

disable_progress_bars()

GPT2 = os.path.join(DATA_DIR, "tokenizers", "gpt2")
EOS = 50256  # GPT-2's <|endoftext|>: BOS, EOS and padding here

# Completions of different lengths on both sides, so that per-token and per-sequence averages
# (IPO, the SFT/RPO term) differ; every prompt ends on a token boundary (checked below).
PAIRS = [
    {"prompt": "def add(a, b):\n", "chosen": "    return a + b", "rejected": "    return a - b + 1"},
    {"prompt": "# square\ndef sq(x):", "chosen": " return x * x", "rejected": " pass"},
    {"prompt": "x =", "chosen": " 1", "rejected": " [i for i in range(10)]\nprint(x)"},
]
SFT = [{"prompt": p["prompt"], "completion": p["chosen"]} for p in PAIRS] + [
    {"prompt": "import os\n", "completion": "print(os.getcwd())"}]

# One AdamW step per batch at a known rate: constant schedule, no warm-up (HF's warm-up starts
# at lr 0), weight decay on, clipping active (the grad norm is above 1 here).
LEARNING_RATE, WEIGHT_DECAY, MAX_GRAD_NORM = 1e-3, 0.1, 1.0
TOLERANCE = 1e-5

# name -> (codealign options, DPOConfig fields)
DPO_CASES = {
    "sigmoid": (["--loss-type", "sigmoid", "--beta", 0.1], dict(loss_type=["sigmoid"], beta=0.1)),
    "ipo": (["--loss-type", "ipo", "--beta", 0.5], dict(loss_type=["ipo"], beta=0.5)),
    "hinge": (["--loss-type", "hinge", "--beta", 0.2], dict(loss_type=["hinge"], beta=0.2)),
    "robust": (["--loss-type", "robust", "--beta", 0.1, "--label-smoothing", 0.2],
               dict(loss_type=["robust"], beta=0.1, label_smoothing=0.2)),
    # TRL >= 1.0 spells rpo_alpha as an added "sft" loss with that weight.
    "sigmoid_rpo": (["--loss-type", "sigmoid", "--beta", 0.1, "--rpo-alpha", 0.5],
                    dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.5], beta=0.1)),
}
DPO_METRICS = ["loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
               "rewards/margins", "logps/chosen", "logps/rejected"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A random tiny Llama with the GPT-2 vocabulary and a tokenizer.json that both sides read;
    the post-processor adds BOS, so that "BOS once" is part of what is compared."""
    directory = tmp_path_factory.mktemp("model")
    with open(os.path.join(GPT2, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(GPT2, "vocab.bpe"), encoding="utf-8") as f:
        merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line.strip()]
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(single="<|endoftext|> $A", pair="<|endoftext|> $A $B",
                                                           special_tokens=[("<|endoftext|>", EOS)])
    hf_tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                           pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    hf_tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         initializer_range=0.2, tie_word_embeddings=False,
                         bos_token_id=EOS, eos_token_id=EOS, pad_token_id=EOS)
    LlamaForCausalLM(config).save_pretrained(directory)
    return directory


def tokenizer(model_dir):
    return PreTrainedTokenizerFast.from_pretrained(model_dir)


def codealign_ids(model_dir, text, bos):
    args = ["tokenize", "--tokenizer", model_dir, "--text", text, "--json", "--plain"]
    return json.loads(codealign(*args, *(["--add-special-tokens"] if bos else [])).stdout)["ids"]


def codealign_rule(model_dir, prompt, completion):
    """codealign's training sequence (training/data.h): prompt ids with BOS once, then the
    completion's ids and EOS once. Returns (prompt ids, completion ids)."""
    return codealign_ids(model_dir, prompt, bos=True), codealign_ids(model_dir, completion, bos=False) + [EOS]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


def run_codealign(mode, model_dir, rows, out, options):
    """Two steps over one batch of every row (two epochs), checkpoint-1 holding the weights after
    the first step. Returns the metrics per step and the weights after steps 1 and 2."""
    data = out.parent / f"{out.name}.jsonl"
    write_jsonl(data, rows)
    codealign("train", mode, "--model", model_dir, "--data", data, "--out", out, "--batch-size", len(rows),
              "--epochs", 2, "--max-steps", 2, "--save-steps", 1, "--learning-rate", LEARNING_RATE,
              "--lr-scheduler-type", "constant", "--warmup-ratio", 0, "--weight-decay", WEIGHT_DECAY,
              "--max-grad-norm", MAX_GRAD_NORM, *options)
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        metrics = [json.loads(line) for line in f]
    assert [m["step"] for m in metrics] == [1, 2]
    return metrics, [load_file(out / "checkpoint-1" / "model.safetensors"), load_file(out / "model.safetensors")]


class WeightsAfterEachStep(TrainerCallback):
    def __init__(self):
        self.weights = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})


def training_args(config_class, out, batch_size, **fields):
    return config_class(output_dir=str(out), per_device_train_batch_size=batch_size, max_steps=2,
                        learning_rate=LEARNING_RATE, lr_scheduler_type="constant", warmup_steps=0,
                        weight_decay=WEIGHT_DECAY, max_grad_norm=MAX_GRAD_NORM, optim="adamw_torch",
                        logging_steps=1, report_to="none", save_strategy="no", use_cpu=True, disable_tqdm=True,
                        max_length=None, seed=0, **fields)


def run_trl(trainer, callback):
    trainer.train()
    metrics = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert [m["step"] for m in metrics] == [1, 2]
    assert len(callback.weights) == 2
    return metrics, callback.weights


def assert_metrics_equal(got, expected, keys, scale):
    """Relative 1e-5; values that cancel (rewards are differences of log-probs) get the same
    tolerance relative to the log-probs they come from (`scale`)."""
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        for key in keys:
            assert g[key] == pytest.approx(e[key], rel=TOLERANCE, abs=TOLERANCE * scale), \
                f"step {step} {key}: codealign {g[key]!r}, TRL {e[key]!r}"


def assert_weights_equal(got, expected):
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        assert set(g) == set(e)
        for name, tensor in e.items():
            error = ((g[name] - tensor).abs().max() / tensor.abs().max()).item()
            assert error <= TOLERANCE, f"after step {step}, {name}: relative error {error:.2e}"


@pytest.mark.parametrize("case", list(DPO_CASES))
def test_dpo_step_equals_trl(case, model_dir, tmp_path):
    options, fields = DPO_CASES[case]
    got, got_weights = run_codealign("dpo", model_dir, PAIRS, tmp_path / "codealign", options)

    callback = WeightsAfterEachStep()
    trainer = DPOTrainer(model=LlamaForCausalLM.from_pretrained(model_dir),
                         ref_model=LlamaForCausalLM.from_pretrained(model_dir),
                         args=training_args(DPOConfig, tmp_path / "trl", len(PAIRS), **fields),
                         train_dataset=Dataset.from_list(PAIRS), processing_class=tokenizer(model_dir),
                         callbacks=[callback])
    # Both sides must train on the same tokens before anything else is compared.
    for pair, row in zip(PAIRS, trainer.train_dataset):
        prompt, chosen = codealign_rule(model_dir, pair["prompt"], pair["chosen"])
        _, rejected = codealign_rule(model_dir, pair["prompt"], pair["rejected"])
        assert (row["prompt_ids"], row["chosen_ids"], row["rejected_ids"]) == (prompt, chosen, rejected)
    expected, expected_weights = run_trl(trainer, callback)

    assert expected[0]["rewards/margins"] == 0 and expected[1]["rewards/accuracies"] > 0  # step 2 tests the rewards
    scale = fields["beta"] * max(abs(expected[0]["logps/chosen"]), abs(expected[0]["logps/rejected"]))
    assert_metrics_equal(got, expected, DPO_METRICS, scale)
    assert_weights_equal(got_weights, expected_weights)


def test_sft_step_equals_trl(model_dir, tmp_path):
    """SFTTrainer with completion_only_loss: the NLL of the completion tokens, averaged over
    every completion token of the batch."""
    got, got_weights = run_codealign("sft", model_dir, SFT, tmp_path / "codealign", [])

    callback = WeightsAfterEachStep()
    trainer = SFTTrainer(model=LlamaForCausalLM.from_pretrained(model_dir),
                         args=training_args(SFTConfig, tmp_path / "trl", len(SFT), completion_only_loss=True),
                         train_dataset=Dataset.from_list(SFT), processing_class=tokenizer(model_dir),
                         callbacks=[callback])
    for example, row in zip(SFT, trainer.train_dataset):
        prompt, completion = codealign_rule(model_dir, example["prompt"], example["completion"])
        assert row["input_ids"] == prompt + completion
        assert row["labels"] == [-100] * len(prompt) + completion
    expected, expected_weights = run_trl(trainer, callback)

    assert_metrics_equal(got, expected, ["loss", "grad_norm", "learning_rate"], 0)
    assert_weights_equal(got_weights, expected_weights)
