"""codealign's trainer against TRL (DPOTrainer, SFTTrainer; float32, CPU) on a tiny random Llama:
the same pairs and settings give the same loss, rewards, log-probs, grad_norm and weights.

Two optimizer steps over one batch that holds every example: step 1 starts from policy ==
reference (rewards are all 0), so the step-2 metrics are the ones that test the rewards; the
weights are compared after each step (codealign's checkpoint-1 and its final model)."""
import json
import math
import os
import subprocess

import pytest
import torch
from datasets import Dataset, disable_progress_bars
from safetensors.torch import load_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import (LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback, TrainingArguments,
                          get_scheduler)
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from conftest import CODEALIGN, DATA_DIR, codealign

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
# at lr 0), weight decay on, clipping active (the grad norm is above 1 here). Adam's first step
# moves each weight by lr * g / (|g| + eps): with the default eps 1e-8, gradients that cancel
# to ~1e-7 (at policy == reference, chosen and rejected share the prompt) turn float32 noise
# into weight changes of a few % of lr. eps 1e-5 on both sides bounds that far below 1e-5.
LEARNING_RATE, WEIGHT_DECAY, MAX_GRAD_NORM, ADAM_EPSILON = 1e-3, 0.1, 1.0, 1e-5
TOLERANCE = 1e-5

# name -> (codealign options, DPOConfig fields). TRL's sigmoid has no label smoothing (codealign's
# --label-smoothing makes it cDPO), so none there. For ipo TRL averages the log-ratios per token
# in the loss only; its rewards stay beta * summed log-ratios.
DPO_CASES = {
    "sigmoid": (["--loss-type", "sigmoid", "--beta", 0.1], dict(loss_type=["sigmoid"], beta=0.1)),
    "ipo": (["--loss-type", "ipo", "--beta", 0.5], dict(loss_type=["ipo"], beta=0.5)),
    "hinge": (["--loss-type", "hinge", "--beta", 0.2], dict(loss_type=["hinge"], beta=0.2)),
    # Tülu 3's dpo_norm: the log-ratios averaged per completion token.
    "sigmoid_norm": (["--loss-type", "sigmoid_norm", "--beta", 0.1], dict(loss_type=["sigmoid_norm"], beta=0.1)),
    "robust": (["--loss-type", "robust", "--beta", 0.1, "--label-smoothing", 0.2],
               dict(loss_type=["robust"], beta=0.1, label_smoothing=0.2)),
    # TRL's DPOConfig has no rpo_alpha: the RPO term is the "sft" loss with that weight, the NLL
    # averaged over every chosen token of the batch.
    "sigmoid_rpo": (["--loss-type", "sigmoid", "--beta", 0.1, "--rpo-alpha", 0.5],
                    dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.5], beta=0.1)),
    # max_length 12 cuts completions from the right (TRL's keep_start: prompts here are 3 and 9
    # tokens with BOS): some lose their EOS and more, short ones keep theirs.
    "sigmoid_max_length": (["--loss-type", "sigmoid", "--beta", 0.1, "--max-length", 12],
                           dict(loss_type=["sigmoid"], beta=0.1, max_length=12)),
}
DPO_METRICS = ["loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
               "rewards/margins", "logps/chosen", "logps/rejected"]


def make_model(directory, pad_token_id, seed=0):
    """A random tiny Llama with the GPT-2 vocabulary and a tokenizer.json that both sides read;
    the post-processor adds BOS, so that "BOS once" is part of what is compared."""
    with open(os.path.join(GPT2, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(GPT2, "vocab.bpe"), encoding="utf-8") as f:
        merges = [tuple(line.split()) for line in f.read().split("\n")[1:] if line.strip()]
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.TemplateProcessing(single="<|endoftext|> $A", pair="<|endoftext|> $A $B",
                                                           special_tokens=[("<|endoftext|>", EOS)])
    special = "<|endoftext|>"
    hf_tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=special, eos_token=special,
                                           pad_token=special, unk_token=special)
    hf_tokenizer.save_pretrained(directory)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         initializer_range=0.2, tie_word_embeddings=False,
                         bos_token_id=EOS, eos_token_id=EOS, pad_token_id=pad_token_id)
    model = LlamaForCausalLM(config)
    if pad_token_id is not None:  # transformers zeroes the padding row at random init; a trained model has one
        with torch.no_grad():
            model.model.embed_tokens.weight[pad_token_id].normal_(0, config.initializer_range)
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    # No pad_token_id in config.json: transformers trains every embedding row (with one it
    # freezes that row, see test_dpo_pad_token_row_stays_frozen_as_in_transformers).
    return make_model(tmp_path_factory.mktemp("model"), pad_token_id=None)


def tokenizer(model_dir):
    return PreTrainedTokenizerFast.from_pretrained(model_dir)


def codealign_tokens(model_dir, texts, bos):
    """codealign's ids of each text (one process for all: --jsonl), untrusted as in training."""
    lines = "".join(json.dumps(text) + "\n" for text in texts)
    out = codealign("tokenize", "--tokenizer", model_dir, "--jsonl", "--json", "--plain",
                    *(["--add-special-tokens"] if bos else []), input_text=lines).stdout
    return [json.loads(line)["ids"] for line in out.splitlines()]


@pytest.fixture(scope="module")
def codealign_ids(model_dir):
    """codealign's training sequences (training/data.h) of every text here: prompt -> ids with
    BOS once, completion -> ids and EOS once. The tokenizer is the same in every model_dir."""
    prompts = sorted({row["prompt"] for row in PAIRS + SFT})
    completions = sorted({row[key] for row in PAIRS for key in ("chosen", "rejected")} |
                         {row["completion"] for row in SFT})
    completion_ids = codealign_tokens(model_dir, completions, bos=False)
    return {"prompt": dict(zip(prompts, codealign_tokens(model_dir, prompts, bos=True))),
            "completion": {text: ids + [EOS] for text, ids in zip(completions, completion_ids)}}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


def start_codealign(mode, model_dir, rows, out, options):
    """Starts `codealign train` on two steps over one batch of every row (two epochs), with
    checkpoint-1 holding the weights after the first step; it runs (one thread) while TRL
    trains. The returned function waits and gives the metrics and the weights after each step."""
    data = out.parent / f"{out.name}.jsonl"
    write_jsonl(data, rows)
    command = [CODEALIGN, "train", mode, "--model", model_dir, "--data", data, "--out", out,
               "--batch-size", len(rows), "--epochs", 2, "--max-steps", 2, "--save-steps", 1,
               "--learning-rate", LEARNING_RATE, "--lr-scheduler-type", "constant", "--warmup-ratio", 0,
               "--weight-decay", WEIGHT_DECAY, "--max-grad-norm", MAX_GRAD_NORM, "--adam-epsilon", ADAM_EPSILON,
               *options]
    command = list(map(str, command))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result():
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {process.returncode}:\n{stderr}{stdout}")
        with open(out / "metrics.jsonl", encoding="utf-8") as f:
            metrics = [json.loads(line) for line in f]
        assert [m["step"] for m in metrics] == [1, 2]
        return metrics, [load_file(out / "checkpoint-1" / "model.safetensors"), load_file(out / "model.safetensors")]
    return result


class WeightsAfterEachStep(TrainerCallback):
    def __init__(self):
        self.weights = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})


def training_args(config_class, out, batch_size, **fields):
    # TRL's configs default to bf16 autocast (on CPU too) and activation checkpointing: float32 here.
    settings = dict(output_dir=str(out), bf16=False, activation_checkpointing=False, use_cpu=True,
                    per_device_train_batch_size=batch_size, max_steps=2, learning_rate=LEARNING_RATE,
                    lr_scheduler_type="constant", warmup_steps=0, weight_decay=WEIGHT_DECAY,
                    max_grad_norm=MAX_GRAD_NORM, optim="adamw_torch", adam_epsilon=ADAM_EPSILON,
                    logging_steps=1, report_to="none", save_strategy="no", disable_tqdm=True,
                    seed=0, max_length=None)
    return config_class(**{**settings, **fields})


def run_trl(trainer, callback, steps=2):
    trainer.train()
    metrics = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert [m["step"] for m in metrics] == list(range(1, steps + 1))
    assert len(callback.weights) == steps
    return metrics, callback.weights


def metric_differences(got, expected, keys, scale):
    """Relative 1e-5; values that cancel (rewards are differences of log-probs) get the same
    tolerance relative to the log-probs they come from (`scale`)."""
    return [f"step {step} {key}: codealign {g[key]!r}, TRL {e[key]!r}"
            for step, (g, e) in enumerate(zip(got, expected), start=1) for key in keys
            if g[key] != pytest.approx(e[key], rel=TOLERANCE, abs=TOLERANCE * scale)]


def weight_differences(got, expected):
    """Per tensor: the largest difference relative to the tensor's largest weight."""
    differences = []
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        assert set(g) == set(e)
        errors = {name: ((g[name] - tensor).abs().max() / tensor.abs().max()).item() for name, tensor in e.items()}
        over = sorted((error, name) for name, error in errors.items() if error > TOLERANCE)
        if over:
            differences.append(f"weights after step {step}: {len(over)} of {len(errors)} tensors differ, "
                               f"worst {over[-1][1]} (relative error {over[-1][0]:.2e})")
    return differences


def assert_equal(differences):
    if differences:
        pytest.fail("codealign differs from TRL:\n" + "\n".join(differences), pytrace=False)


def check_dpo_against_trl(model_dir, codealign_ids, tmp_path, options, fields, reference_dir=None):
    codealign_result = start_codealign("dpo", model_dir, PAIRS, tmp_path / "codealign", options)

    callback = WeightsAfterEachStep()
    trainer = DPOTrainer(model=LlamaForCausalLM.from_pretrained(model_dir),
                         ref_model=LlamaForCausalLM.from_pretrained(reference_dir or model_dir),
                         args=training_args(DPOConfig, tmp_path / "trl", len(PAIRS), **fields),
                         train_dataset=Dataset.from_list(PAIRS), processing_class=tokenizer(model_dir),
                         callbacks=[callback])
    # Both sides must train on the same tokens before anything else is compared.
    assert len(trainer.train_dataset) == len(PAIRS)
    for pair, row in zip(PAIRS, trainer.train_dataset):
        assert row["prompt_ids"] == codealign_ids["prompt"][pair["prompt"]]
        assert row["chosen_ids"] == codealign_ids["completion"][pair["chosen"]]
        assert row["rejected_ids"] == codealign_ids["completion"][pair["rejected"]]
    expected, expected_weights = run_trl(trainer, callback)
    got, got_weights = codealign_result()

    if reference_dir is None:
        assert expected[0]["rewards/margins"] == 0 and expected[1]["rewards/accuracies"] > 0  # step 2 tests the rewards
    else:
        assert expected[0]["rewards/margins"] != 0  # a reference of its own: step 1 has rewards already
    scale = fields["beta"] * max(abs(expected[0]["logps/chosen"]), abs(expected[0]["logps/rejected"]))
    assert_equal(metric_differences(got, expected, DPO_METRICS, scale) +
                 weight_differences(got_weights, expected_weights))


EVAL_PAIRS = [
    {"prompt": "def mul(a, b):\n", "chosen": "    return a * b", "rejected": "    return a + b * 2"},
    {"prompt": "y =", "chosen": " 2", "rejected": " None\nprint(y)"},
]
EVAL_METRICS = ["eval_loss", "eval_rewards/chosen", "eval_rewards/rejected", "eval_rewards/accuracies",
                "eval_rewards/margins", "eval_logps/chosen", "eval_logps/rejected"]


def test_dpo_held_out_pairs_give_trls_eval_metrics_after_every_step(model_dir, tmp_path):
    """TRL's evaluation on held-out pairs (eval_steps 1) against codealign's --eval-data, and the
    metrics TRL lacks checked against their definitions."""
    eval_data = tmp_path / "eval.jsonl"
    write_jsonl(eval_data, EVAL_PAIRS)
    options, fields = DPO_CASES["sigmoid"]
    result = start_codealign("dpo", model_dir, PAIRS, tmp_path / "codealign",
                             [*options, "--eval-data", eval_data, "--eval-steps", 1])
    trainer = DPOTrainer(model=LlamaForCausalLM.from_pretrained(model_dir),
                         ref_model=LlamaForCausalLM.from_pretrained(model_dir),
                         args=training_args(DPOConfig, tmp_path / "trl", len(PAIRS), eval_strategy="steps", eval_steps=1,
                                            per_device_eval_batch_size=len(EVAL_PAIRS), **fields),
                         train_dataset=Dataset.from_list(PAIRS), eval_dataset=Dataset.from_list(EVAL_PAIRS),
                         processing_class=tokenizer(model_dir))
    trainer.train()
    expected = [entry for entry in trainer.state.log_history if "eval_loss" in entry]
    assert [e["step"] for e in expected] == [1, 2]
    got, _ = result()
    scale = fields["beta"] * abs(expected[0]["eval_logps/chosen"])
    assert_equal(metric_differences(got, expected, EVAL_METRICS, scale))
    for step in got:
        beta = fields["beta"]
        assert step["eval_logps/chosen_change"] == pytest.approx(step["eval_rewards/chosen"] / beta, abs=1e-6)
        assert step["eval_logps/rejected_change"] == pytest.approx(step["eval_rewards/rejected"] / beta, abs=1e-6)
        assert 0 <= step["eval_chosen_fell"] <= 1 and step["eval_chosen_fell"] * len(EVAL_PAIRS) % 1 == 0
    # eval_kl: the reference's minus the policy's log-probs of both completions, per completion token.
    completions = [pair[side] for pair in EVAL_PAIRS for side in ("chosen", "rejected")]
    tokens = sum(len(ids) + 1 for ids in codealign_tokens(model_dir, completions, bos=False))  # + EOS
    for step in got:
        changes = (step["eval_logps/chosen_change"] + step["eval_logps/rejected_change"]) * len(EVAL_PAIRS)
        assert step["eval_kl"] == pytest.approx(-changes / tokens, rel=1e-5)
    assert got[-1]["eval_kl"] != 0


@pytest.mark.parametrize("case", list(DPO_CASES))
def test_dpo_steps_equal_trl(case, model_dir, codealign_ids, tmp_path):
    check_dpo_against_trl(model_dir, codealign_ids, tmp_path, *DPO_CASES[case])


def test_dpo_with_a_reference_of_its_own_equals_trl(model_dir, codealign_ids, tmp_path):
    """--reference: TRL's ref_model when it is not the model trained from (align's
    --reference initial from round 2 on)."""
    reference_dir = make_model(tmp_path / "reference", pad_token_id=None, seed=1)
    options, fields = DPO_CASES["sigmoid"]
    check_dpo_against_trl(model_dir, codealign_ids, tmp_path, options + ["--reference", reference_dir], fields,
                          reference_dir)


def test_dpo_pad_token_row_stays_frozen_as_in_transformers(codealign_ids, tmp_path):
    """With pad_token_id in config.json, transformers builds the embedding with padding_idx: that
    row gets no gradient (none in grad_norm either) and never changes, though here the id is also
    the BOS that starts every sequence and the EOS that ends every completion."""
    model_dir = make_model(tmp_path / "model", pad_token_id=EOS)
    check_dpo_against_trl(model_dir, codealign_ids, tmp_path, *DPO_CASES["sigmoid"])


def test_sft_steps_equal_trl(model_dir, codealign_ids, tmp_path):
    """SFTTrainer with completion_only_loss: the NLL of the completion tokens, averaged over
    every completion token of the batch."""
    codealign_result = start_codealign("sft", model_dir, SFT, tmp_path / "codealign", [])

    callback = WeightsAfterEachStep()
    trainer = SFTTrainer(model=LlamaForCausalLM.from_pretrained(model_dir),
                         args=training_args(SFTConfig, tmp_path / "trl", len(SFT), completion_only_loss=True),
                         train_dataset=Dataset.from_list(SFT), processing_class=tokenizer(model_dir),
                         callbacks=[callback])
    assert len(trainer.train_dataset) == len(SFT)
    for example, row in zip(SFT, trainer.train_dataset):
        prompt = codealign_ids["prompt"][example["prompt"]]
        completion = codealign_ids["completion"][example["completion"]]
        assert row["input_ids"] == prompt + completion
        assert row["labels"] == [-100] * len(prompt) + completion
    expected, expected_weights = run_trl(trainer, callback)
    got, got_weights = codealign_result()

    assert_equal(metric_differences(got, expected, ["loss", "grad_norm", "learning_rate"], 0) +
                 weight_differences(got_weights, expected_weights))


@pytest.mark.parametrize("scheduler", ["cosine", "linear"])
def test_max_steps_and_the_schedule_after_warm_up_follow_transformers(scheduler, model_dir, tmp_path):
    """--max-steps ends the run before the epochs would (12 micro-batches, 7 steps) and is the
    schedule's length; every step logs the rate HF's scheduler gives that step (the Trainer logs
    it before scheduler.step()), warm-up of ceil(0.3 * 7) steps included."""
    data, out = tmp_path / "sft.jsonl", tmp_path / "out"
    write_jsonl(data, SFT)
    codealign("train", "sft", "--model", model_dir, "--data", data, "--out", out, "--batch-size", 1, "--epochs", 3,
              "--max-steps", 7, "--learning-rate", LEARNING_RATE, "--lr-scheduler-type", scheduler, "--warmup-ratio", 0.3)
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        metrics = [json.loads(line) for line in f]
    assert [m["step"] for m in metrics] == list(range(1, 8))

    warmup = TrainingArguments(output_dir=str(tmp_path / "hf"), warmup_steps=0.3).get_warmup_steps(7)
    assert warmup == math.ceil(0.3 * 7)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LEARNING_RATE)
    schedule = get_scheduler(scheduler, optimizer, num_warmup_steps=warmup, num_training_steps=7)
    expected = []
    for _ in range(7):
        expected.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    assert 0 < expected[-1] < expected[warmup] == LEARNING_RATE  # decaying after the warm-up
    assert [m["learning_rate"] for m in metrics] == pytest.approx(expected, rel=1e-12, abs=1e-18)


# Gradient accumulation as transformers' Trainer does it: batches of one, three per step, so
# that each epoch of four examples is a step of three micro-batches and a shorter step of one
# (the epoch-end step); two epochs make four steps. Lengths differ, so that SFT's loss,
# normalised by the completion tokens of the whole step (num_items_in_batch), differs from a
# mean of per-micro-batch means; DPO's is the mean over the step's micro-batches. Both sides
# take the examples in the file's order (codealign --no-shuffle, TRL with a SequentialSampler).
ACCUMULATION_SFT = SFT
ACCUMULATION_PAIRS = PAIRS + [{"prompt": "def neg(x):", "chosen": " return -x", "rejected": " return x + x + x"}]
ACCUMULATION_STEPS = 4


def run_codealign_accumulating(mode, model_dir, rows, out, options):
    data = out.parent / f"{out.name}.jsonl"
    write_jsonl(data, rows)
    codealign("train", mode, "--model", model_dir, "--data", data, "--out", out, "--batch-size", 1,
              "--gradient-accumulation-steps", 3, "--epochs", 2, "--no-shuffle", "--save-steps", 1,
              "--learning-rate", LEARNING_RATE, "--lr-scheduler-type", "constant", "--warmup-ratio", 0,
              "--weight-decay", WEIGHT_DECAY, "--max-grad-norm", MAX_GRAD_NORM, "--adam-epsilon", ADAM_EPSILON, *options)
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        metrics = [json.loads(line) for line in f]
    assert [m["step"] for m in metrics] == list(range(1, ACCUMULATION_STEPS + 1))
    weights = [load_file(out / f"checkpoint-{step}" / "model.safetensors") for step in range(1, ACCUMULATION_STEPS)]
    return metrics, weights + [load_file(out / "model.safetensors")]


def accumulating_trl(trainer_class, config_class, model_dir, rows, out, callback, **kwargs):
    fields = kwargs.pop("fields", {})
    args = training_args(config_class, out, 1, max_steps=-1, num_train_epochs=2, gradient_accumulation_steps=3, **fields)
    trainer = trainer_class(model=LlamaForCausalLM.from_pretrained(model_dir), args=args,
                            train_dataset=Dataset.from_list(rows), processing_class=tokenizer(model_dir),
                            callbacks=[callback], **kwargs)
    trainer._get_train_sampler = lambda *args, **kwargs: torch.utils.data.SequentialSampler(trainer.train_dataset)
    return trainer


def test_sft_under_gradient_accumulation_equals_trl(model_dir, tmp_path):
    callback = WeightsAfterEachStep()
    trainer = accumulating_trl(SFTTrainer, SFTConfig, model_dir, ACCUMULATION_SFT, tmp_path / "trl", callback,
                               fields=dict(completion_only_loss=True))
    expected, expected_weights = run_trl(trainer, callback, ACCUMULATION_STEPS)
    got, got_weights = run_codealign_accumulating("sft", model_dir, ACCUMULATION_SFT, tmp_path / "codealign", [])
    assert_equal(metric_differences(got, expected, ["loss", "grad_norm", "learning_rate", "epoch"], 0) +
                 weight_differences(got_weights, expected_weights))


def test_dpo_under_gradient_accumulation_equals_trl(model_dir, tmp_path):
    callback = WeightsAfterEachStep()
    options, fields = DPO_CASES["sigmoid"]
    trainer = accumulating_trl(DPOTrainer, DPOConfig, model_dir, ACCUMULATION_PAIRS, tmp_path / "trl", callback,
                               fields=fields, ref_model=LlamaForCausalLM.from_pretrained(model_dir))
    expected, expected_weights = run_trl(trainer, callback, ACCUMULATION_STEPS)
    got, got_weights = run_codealign_accumulating("dpo", model_dir, ACCUMULATION_PAIRS, tmp_path / "codealign", options)
    scale = fields["beta"] * max(abs(expected[0]["logps/chosen"]), abs(expected[0]["logps/rejected"]))
    assert_equal(metric_differences(got, expected, DPO_METRICS + ["epoch"], scale) +
                 weight_differences(got_weights, expected_weights))
