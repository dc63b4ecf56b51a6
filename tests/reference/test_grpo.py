"""`codealign train grpo` against TRL's GRPOTrainer (float32, CPU) on a tiny random Llama.

Generation is bypassed on the TRL side: its rollout_func returns fixed prompt and completion ids
(codealign's own ids of the same texts), and the reward function looks rewards up by completion
ids; codealign reads the same groups from a file. Two optimizer steps, one group (or two) per
step, batch = the step's completions. With one iteration the loss value does not depend on the
model and AdamW's first step is about lr x sign(g): what is compared first is each parameter's
gradient (after clipping, where the optimizer sees it) and grad_norm, at relative 1e-5; then the
metrics under TRL's names; then the weights after each step."""
import json
import os
import subprocess

import pytest
import torch
from datasets import Dataset, disable_progress_bars
from safetensors.torch import load_file
from transformers import LlamaForCausalLM, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from conftest import CODEALIGN
from test_training import (ADAM_EPSILON, EOS, LEARNING_RATE, TOLERANCE, WEIGHT_DECAY, assert_equal, codealign_tokens,
                           make_model, weight_differences, write_jsonl)

disable_progress_bars()
os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"  # rollout_func is "experimental" in TRL 1.16

PROMPT = "def add(a, b):\n"
# Four completions of different lengths; the last is cut by the sampler (no end token).
COMPLETIONS = ["    return a + b", "    return a - b", "    pass", "    return sum([a, b, 0, 0])"]
TRUNCATED = [False, False, False, True]
REWARDS = [1.0, -0.3, -0.6, -1.0]
EQUAL_REWARDS = [0.5, 0.5, 0.5, 0.5]  # a group with nothing to learn (advantages 0)
G = len(COMPLETIONS)
# No clipping: a clipped gradient has norm 1 whatever its scale, which would hide a wrong one.
MAX_GRAD_NORM = 1e6


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("model"), pad_token_id=None)


@pytest.fixture(scope="module")
def ids(model_dir):
    """codealign's ids: the prompt with BOS once, each completion with EOS unless truncated."""
    prompt = codealign_tokens(model_dir, [PROMPT], bos=True)[0]
    completions = codealign_tokens(model_dir, COMPLETIONS, bos=False)
    return prompt, completions, [c + ([] if cut else [EOS]) for c, cut in zip(completions, TRUNCATED)]


def group_line(ids, rewards):
    _, completions, _ = ids
    return {"prompt": PROMPT,
            "completions": [{"completion": text, "completion_ids": c, "reward": r, "truncated": cut}
                            for text, c, r, cut in zip(COMPLETIONS, completions, rewards, TRUNCATED)]}


# name -> (codealign options, GRPOConfig fields, reward groups per step). Every loss type under
# every reward scaling; then masking of the truncated completion, a step with a group of equal
# rewards beside another, two iterations (ratios move, clipping live), the KL to a reference of
# its own, and a sampling temperature.
CASES = {f"{loss}_{scale}": (["--grpo-loss-type", loss, "--scale-rewards", scale],
                             dict(loss_type=loss, scale_rewards=scale), [REWARDS])
         for loss in ["grpo", "bnpo", "dr_grpo", "dapo"] for scale in ["group", "batch", "none"]}
CASES["dapo_masked"] = (["--mask-truncated-completions"], dict(mask_truncated_completions=True), [REWARDS])
CASES["grpo_masked"] = (["--grpo-loss-type", "grpo", "--mask-truncated-completions"],
                        dict(loss_type="grpo", mask_truncated_completions=True), [REWARDS])
CASES["equal_group_beside_another"] = ([], {}, [REWARDS, EQUAL_REWARDS])
CASES["equal_group_batch_scaled"] = (["--scale-rewards", "batch"], dict(scale_rewards="batch"),
                                     [EQUAL_REWARDS, REWARDS])
CASES["two_iterations"] = (["--num-iterations", 2, "--epsilon", 0.02, "--epsilon-high", 0.03],
                           dict(num_iterations=2, epsilon=0.02, epsilon_high=0.03), [REWARDS])
CASES["kl_to_a_reference"] = (["--grpo-beta", 0.2], dict(beta=0.2), [REWARDS])
CASES["temperature"] = (["--temperature", 0.7, "--grpo-loss-type", "bnpo"], dict(temperature=0.7, loss_type="bnpo"),
                        [REWARDS])

METRICS = ["loss", "grad_norm", "learning_rate", "reward", "reward_std", "rewards/reward/mean", "rewards/reward/std",
           "frac_reward_zero_std", "entropy", "kl", "clip_ratio/low_mean", "clip_ratio/high_mean",
           "clip_ratio/region_mean", "clip_ratio/low_min", "clip_ratio/high_max", "completions/mean_length",
           "completions/min_length", "completions/max_length", "completions/clipped_ratio",
           "completions/mean_terminated_length", "completions/min_terminated_length",
           "completions/max_terminated_length"]


class GradientsAndWeights(TrainerCallback):
    def __init__(self):
        self.gradients, self.weights = [], []

    def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.gradients.append({n: p.grad.detach().clone() for n, p in model.named_parameters()})

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.weights.append({k: v.detach().clone() for k, v in model.state_dict().items()})


def run_codealign(model_dir, ids, groups, out, options, steps, reference_dir):
    data = out.parent / "groups.jsonl"
    write_jsonl(data, [group_line(ids, rewards) for rewards in groups] * steps)
    command = [CODEALIGN, "train", "grpo", "--model", model_dir, "--data", data, "--out", out,
               "--batch-size", G * len(groups), "--no-shuffle", "--max-steps", steps, "--save-steps", 1,
               "--learning-rate", LEARNING_RATE, "--lr-scheduler-type", "constant", "--warmup-ratio", 0,
               "--weight-decay", WEIGHT_DECAY, "--max-grad-norm", MAX_GRAD_NORM, "--adam-epsilon", ADAM_EPSILON,
               "--max-completion-length", 16, *(["--reference", reference_dir] if reference_dir else []), *options]
    environment = dict(os.environ, CODEALIGN_TEST_SAVE_GRADIENTS=str(out.parent / "gradients"))
    result = subprocess.run(list(map(str, command)), capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stderr}")
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        metrics = [json.loads(line) for line in f]
    assert [m["step"] for m in metrics] == list(range(1, steps + 1))
    gradients = [load_file(out.parent / "gradients" / f"step-{s}" / "model.safetensors") for s in range(1, steps + 1)]
    weights = [load_file(out / f"checkpoint-{s}" / "model.safetensors") for s in range(1, steps)]
    return metrics, gradients, weights + [load_file(out / "model.safetensors")]


def run_trl(model_dir, ids, groups, out, fields, steps, reference_dir):
    prompt, _, completion_ids = ids
    rewards = [r for group in groups for r in group]

    def rollout(prompts, trainer):
        # Each step's prompts are the groups' prompts, each repeated G times, in order.
        return {"prompt_ids": [prompt] * len(prompts),
                "completion_ids": [completion_ids[i % G] for i in range(len(prompts))], "logprobs": None}

    def reward(completion_ids, **kwargs):
        # The k-th completion of the step: rewards by position (each group's completions are the same ids).
        return [rewards[i] for i in range(len(completion_ids))]

    settings = dict(output_dir=str(out), bf16=False, activation_checkpointing=False, use_cpu=True,
                    per_device_train_batch_size=G * len(groups), num_generations=G, gradient_accumulation_steps=1,
                    max_steps=steps, learning_rate=LEARNING_RATE, lr_scheduler_type="constant", warmup_steps=0,
                    weight_decay=WEIGHT_DECAY, max_grad_norm=MAX_GRAD_NORM, optim="adamw_torch",
                    adam_epsilon=ADAM_EPSILON, logging_steps=1, report_to="none", save_strategy="no",
                    disable_tqdm=True, seed=0, shuffle_dataset=False, max_completion_length=16, disable_dropout=True)
    callback = GradientsAndWeights()
    trainer = GRPOTrainer(model=LlamaForCausalLM.from_pretrained(model_dir), reward_funcs=reward,
                          args=GRPOConfig(**{**settings, **fields}),
                          train_dataset=Dataset.from_list([{"prompt": PROMPT}] * (len(groups) * steps)),
                          rollout_func=rollout, callbacks=[callback])
    if reference_dir:
        trainer.ref_model.load_state_dict(LlamaForCausalLM.from_pretrained(reference_dir).state_dict())
    trainer.train()
    metrics = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert [m["step"] for m in metrics] == list(range(1, steps + 1))
    return metrics, callback.gradients, callback.weights


def gradient_differences(got, expected):
    """Per tensor: the largest difference relative to the tensor's largest gradient."""
    differences = []
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        assert set(g) == set(e)
        assert any(t.abs().max() > 0 for t in e.values()), f"step {step}: TRL's gradients are all zero"
        errors = {name: ((g[name] - t).abs().max() / t.abs().max().clamp_min(1e-30)).item() for name, t in e.items()}
        over = sorted((error, name) for name, error in errors.items() if error > TOLERANCE)
        if over:
            differences.append(f"gradients of step {step}: {len(over)} of {len(errors)} tensors differ, "
                               f"worst {over[-1][1]} (relative error {over[-1][0]:.2e})")
    return differences


def metric_differences(got, expected):
    differences = []
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        for key in METRICS:
            if key not in e:
                continue  # TRL logs a step's completion metrics at the step that generated them only
            if key not in g:
                differences.append(f"step {step} {key}: missing (TRL {e[key]!r})")
            elif g[key] != pytest.approx(e[key], rel=TOLERANCE, abs=1e-7, nan_ok=True):
                differences.append(f"step {step} {key}: codealign {g[key]!r}, TRL {e[key]!r}")
    return differences


@pytest.mark.parametrize("case", list(CASES))
def test_grpo_steps_equal_trl(case, model_dir, ids, tmp_path):
    options, fields, groups = CASES[case]
    steps = 2
    reference_dir = make_model(tmp_path / "reference", pad_token_id=None, seed=1) if fields.get("beta") else None
    got, got_gradients, got_weights = run_codealign(model_dir, ids, groups, tmp_path / "codealign", options, steps,
                                                    reference_dir)
    expected, expected_gradients, expected_weights = run_trl(model_dir, ids, groups, tmp_path / "trl", fields, steps,
                                                             reference_dir)
    if case == "two_iterations":
        assert expected[1]["clip_ratio/region_mean"] > 0  # the second pass clips
    if fields.get("beta"):
        assert expected[0]["kl"] > 0  # the reference differs from the policy from the start
    assert_equal(gradient_differences(got_gradients, expected_gradients) + metric_differences(got, expected) +
                 weight_differences(got_weights, expected_weights))


def test_a_run_resumed_between_two_iterations_of_a_step_continues_as_it_would_have(model_dir, ids, tmp_path):
    """The ratios of a step's second iteration are taken against the policy of its first: a run
    stopped after the first (checkpoint-1) and resumed must find those log-probs in the
    checkpoint, and end with the very weights of a run that never stopped."""
    data = tmp_path / "groups.jsonl"
    write_jsonl(data, [group_line(ids, REWARDS)])
    common = ["train", "grpo", "--model", model_dir, "--data", data, "--batch-size", G, "--no-shuffle",
              "--num-iterations", 2, "--epsilon", 0.02, "--learning-rate", LEARNING_RATE,
              "--lr-scheduler-type", "constant", "--warmup-ratio", 0]

    def train(out, *options):
        subprocess.run(list(map(str, [CODEALIGN, *common, "--out", out, *options])), check=True, capture_output=True)

    train(tmp_path / "straight")
    train(tmp_path / "resumed", "--max-steps", 1)
    assert (tmp_path / "resumed" / "checkpoint-1" / "old-logps.pt").exists()
    train(tmp_path / "resumed", "--resume")
    straight, resumed = (load_file(tmp_path / run / "model.safetensors") for run in ("straight", "resumed"))
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[name], resumed[name]) for name in straight)
    initial = load_file(model_dir / "model.safetensors")
    assert not all(torch.equal(straight[name], initial[name]) for name in straight)  # it trained
