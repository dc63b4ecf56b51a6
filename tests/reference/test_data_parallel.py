"""Data-parallel training (issue 29) on c10d's Gloo backend, two processes on the CPU: launched
by torchrun, or with Slurm's or Open MPI's variables set by hand, `train dpo|sft` equals one
process with twice the batch size (metrics and weights after every step, 1e-5), with uneven
sequence lengths across ranks, gradient accumulation and a short last micro-batch in each epoch;
so does ZeRO stage 1, each rank holding half of AdamW's state. Checkpoints resume across world
sizes and sharding; a killed rank makes the other stop naming it, in a collective or while the
other waits for rank 0's stage."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from conftest import CODEALIGN
from test_training import make_model, metric_differences, weight_differences, write_jsonl

TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")

# 11 examples of uneven lengths: micro-batches of 4 (2 per rank), 2 per step, so each epoch
# has a full step and a short one whose last micro-batch holds 3 (ranks take 2 and 1).
PAIRS = [{"prompt": f"def f{i}(x):\n" + "    # step\n" * (i % 4),
          "chosen": "    return x" + " + 1" * (i % 5 + 1),
          "rejected": "    pass" + "\n    x = 0" * (i % 3)} for i in range(11)]
SFT = [{"prompt": p["prompt"], "completion": p["chosen"]} for p in PAIRS]
# 6 groups of 4 completions of uneven lengths, one cut at the sampler's limit, rewards that
# differ within each group; with batch 2 a rank, a micro-batch is one group and a step two.
GROUPS = [{"prompt": f"def g{g}(x):\n",
           "completions": [{"completion": "    return x" + " * 2" * ((g + c) % 4), "reward": float((g * 3 + c * 5) % 7) / 7,
                            "truncated": c == 3 and g % 2 == 0} for c in range(4)]} for g in range(6)]
OPTIONS = ["--epochs", "2", "--gradient-accumulation-steps", "2", "--save-steps", "1", "--learning-rate", "1e-3",
           "--lr-scheduler-type", "constant", "--warmup-ratio", "0", "--weight-decay", "0.1", "--adam-epsilon", "1e-5",
           "--dist-timeout", "60"]
STEPS = 4
GRPO_METRICS = ["loss", "grad_norm", "learning_rate", "epoch", "reward", "reward_std", "frac_reward_zero_std", "entropy",
                "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "clip_ratio/low_min",
                "clip_ratio/high_max", "completions/mean_length", "completions/clipped_ratio"]
METRICS = {"sft": ["loss", "grad_norm", "learning_rate", "epoch"],
           "dpo": ["loss", "grad_norm", "learning_rate", "epoch", "rewards/chosen", "rewards/rejected",
                   "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"]}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("model"), pad_token_id=None)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    write_jsonl(directory / "dpo.jsonl", PAIRS)
    write_jsonl(directory / "sft.jsonl", SFT)
    write_jsonl(directory / "grpo.jsonl", GROUPS)
    return directory


def train_command(mode, model_dir, data, out, batch_size, *extra):
    return [CODEALIGN, "train", mode, "--model", str(model_dir), "--data", str(data / f"{mode}.jsonl"),
            "--out", str(out), "--batch-size", str(batch_size), *OPTIONS, *extra]


def finish(process, command):
    stdout, stderr = process.communicate(timeout=300)
    if process.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {process.returncode}:\n{stderr}{stdout}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAUNCHER_VARIABLES = {"slurm": ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"),
                      "openmpi": ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK")}


def start_by_hand(launcher, command, environment=None, rank_environment=None):
    """Two processes with the launcher's variables set by hand, as srun or mpirun would
    (`rank_environment`: rank -> variables for that rank only)."""
    rank, size, local_rank = LAUNCHER_VARIABLES[launcher]
    port = str(free_port())
    processes = []
    for r in range(2):
        env = {**os.environ, **(environment or {}), **(rank_environment or {}).get(r, {}), rank: str(r), size: "2",
               local_rank: str(r), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return processes


def train_two_ranks(launcher, mode, model_dir, data, out, *extra):
    command = train_command(mode, model_dir, data, out, 2, *extra)
    if launcher == "torchrun":
        command = [TORCHRUN, "--standalone", "--nproc-per-node", "2", "--no-python", *command]
        finish(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), command)
        return
    for process in start_by_hand(launcher, command):
        finish(process, command)


def train_one_process(mode, model_dir, data, out, *extra):
    command = train_command(mode, model_dir, data, out, 4, *extra)
    finish(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), command)


def results(out, steps=STEPS):
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        metrics = [json.loads(line) for line in f]
    assert [m["step"] for m in metrics] == list(range(1, steps + 1))
    weights = [load_file(out / f"checkpoint-{step}" / "model.safetensors") for step in range(1, steps)]
    return metrics, weights + [load_file(out / "model.safetensors")]


def assert_same_training(mode, got_dir, expected_dir, steps=STEPS):
    got, got_weights = results(got_dir, steps)
    expected, expected_weights = results(expected_dir, steps)
    scale = 0.1 * max(abs(expected[0].get("logps/chosen", 0)), abs(expected[0].get("logps/rejected", 0)))
    differences = metric_differences(got, expected, METRICS[mode], scale) + weight_differences(got_weights,
                                                                                               expected_weights)
    if differences:
        pytest.fail("two ranks differ from one process:\n" + "\n".join(differences), pytrace=False)


@pytest.fixture(scope="module")
def one_process_runs(model_dir, data, tmp_path_factory):
    runs = {}
    for mode in ("dpo", "sft"):
        runs[mode] = tmp_path_factory.mktemp(f"one-{mode}")
        train_one_process(mode, model_dir, data, runs[mode])
    return runs


# GRPO's loss types normalise over the micro-batch's completions (grpo, dr_grpo), its tokens
# (bnpo) or the step's tokens (dapo); with masking, two iterations, a KL to the reference.
GRPO_CASES = {"dapo": [], "grpo_masked": ["--grpo-loss-type", "grpo", "--mask-truncated-completions"],
              "bnpo_masked": ["--grpo-loss-type", "bnpo", "--mask-truncated-completions"],
              "dr_grpo": ["--grpo-loss-type", "dr_grpo"],
              "two_iterations_with_kl": ["--num-iterations", "2", "--epsilon", "0.02", "--grpo-beta", "0.2"]}


@pytest.mark.parametrize("case", list(GRPO_CASES))
def test_grpo_with_two_ranks_trains_as_one_process(case, model_dir, data, tmp_path):
    options = ["--max-completion-length", "16", *GRPO_CASES[case]]
    steps = 6 * (2 if "--num-iterations" in options else 1)  # 3 steps of 2 groups an epoch, 2 epochs
    train_one_process("grpo", model_dir, data, tmp_path / "one", *options)
    train_two_ranks("torchrun", "grpo", model_dir, data, tmp_path / "two", *options)
    got, got_weights = results(tmp_path / "two", steps)
    expected, expected_weights = results(tmp_path / "one", steps)
    assert expected[0]["clip_ratio/low_min"] == expected[0]["clip_ratio/low_min"]  # a number, not NaN
    differences = metric_differences(got, expected, [m for m in GRPO_METRICS if m in expected[0]], 1) + \
        weight_differences(got_weights, expected_weights)
    if differences:
        pytest.fail("two ranks differ from one process:\n" + "\n".join(differences), pytrace=False)


def optimizer_state_bytes(out):
    with open(out / "train_results.json", encoding="utf-8") as f:
        return json.load(f)["optimizer_state_bytes"]


@pytest.mark.parametrize("mode", ["dpo", "sft"])
def test_zero_1_trains_as_one_process_holding_half_the_state(mode, model_dir, data, one_process_runs, tmp_path):
    train_two_ranks("torchrun", mode, model_dir, data, tmp_path / "zero", "--zero-stage", "1")
    assert_same_training(mode, tmp_path / "zero", one_process_runs[mode])
    # Replicated: two float32 moments per weight and a step count per tensor. Sharded: the
    # matrices and the vectors (no weight decay) each laid end to end and halved (rounded up),
    # one step count per group.
    weights = load_file(one_process_runs[mode] / "model.safetensors")
    matrices = sum(t.numel() for t in weights.values() if t.dim() >= 2)
    vectors = sum(t.numel() for t in weights.values() if t.dim() < 2)
    assert optimizer_state_bytes(one_process_runs[mode]) == 8 * (matrices + vectors) + 4 * len(weights)
    assert optimizer_state_bytes(tmp_path / "zero") == 8 * (-(-matrices // 2) + -(-vectors // 2)) + 4 * 2


def test_zero_1_in_bfloat16_keeps_a_float32_master_slice_per_rank(model_dir, data, tmp_path):
    """--dtype bfloat16 --zero-stage 1: the weights and gradients in bfloat16 (what the model
    computes in), their float32 master only as each rank's slice beside its moments. Two ranks
    train as one process in the same mode up to bfloat16's rounding of the summed gradients;
    checkpoints hold the float32 master, so a run cut back and resumed continues exactly as the
    uninterrupted one; each rank holds 2 + 2 bytes a weight and 4 + 8 of its slice."""
    bf16 = ["--dtype", "bfloat16", "--zero-stage", "1"]
    one, two = tmp_path / "one", tmp_path / "two"
    train_one_process("dpo", model_dir, data, one, *bf16)
    train_two_ranks("torchrun", "dpo", model_dir, data, two, *bf16)
    got, got_weights = results(two)
    expected, _ = results(one)
    assert [g["loss"] for g in got] == pytest.approx([e["loss"] for e in expected], rel=1e-2)
    assert all(t.dtype == torch.float32 for weights in got_weights for t in weights.values())
    # Not the bfloat16 weights: the master keeps bits that bfloat16 cannot hold.
    assert any((t != t.to(torch.bfloat16).float()).any() for t in got_weights[-1].values())

    weights = load_file(one / "model.safetensors")
    matrices = sum(t.numel() for t in weights.values() if t.dim() >= 2)
    vectors = sum(t.numel() for t in weights.values() if t.dim() < 2)
    state = lambda out: json.loads((out / "train_results.json").read_text())
    assert state(one)["model_state_bytes"] == 16 * (matrices + vectors) + 4 * 2
    half = -(-matrices // 2), -(-vectors // 2)
    assert state(two)["model_state_bytes"] == sum((2 + 2) * 2 * n + (4 + 8) * n for n in half) + 4 * 2
    # 7.0B weights at 8 ranks in this layout: 4 bytes a weight whole, 12 divided among the 8.
    assert (4 + 12 / 8) * 7.0e9 / 1e9 == pytest.approx(38.5) and 38.5 <= 40

    resumed = tmp_path / "resumed"
    shutil.copytree(two, resumed)
    cut_back_to(resumed, 2)
    train_two_ranks("slurm", "dpo", model_dir, data, resumed, "--resume", *bf16)
    assert_same_training("dpo", resumed, two)


def test_lora_dropout_draws_other_masks_on_each_rank(model_dir, tmp_path):
    """Two ranks, each given the same example: with the same dropout masks on both (the seed of
    the micro-batch alone) their summed gradient would be rank 0's alone, and the second step's
    loss (LoRA's B starts at zero, so the first step's does not see dropout) that of one process
    training that example alone with the same seed; other masks on rank 1 give another."""
    write_jsonl(tmp_path / "twice.jsonl", [SFT[5], SFT[5]])
    write_jsonl(tmp_path / "once.jsonl", [SFT[5]])
    def second_loss(dropout, ranks):
        out = tmp_path / f"{ranks}-{dropout}"
        command = [CODEALIGN, "train", "sft", "--model", str(model_dir), "--out", str(out), "--batch-size", "1",
                   "--data", str(tmp_path / ("once.jsonl" if ranks == 1 else "twice.jsonl")), "--lora-rank", "4",
                   "--lora-dropout", dropout, "--epochs", "2", "--learning-rate", "1e-2", "--warmup-ratio", "0",
                   "--dist-timeout", "60"]
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)] \
            if ranks == 1 else start_by_hand("slurm", command)
        for process in processes:
            finish(process, command)
        return json.loads((out / "metrics.jsonl").read_text().splitlines()[1])["loss"]
    assert second_loss("0.5", 2) != pytest.approx(second_loss("0.5", 1), rel=1e-6)
    assert second_loss("0", 2) == pytest.approx(second_loss("0", 1), rel=1e-5)  # without dropout, the same


@pytest.mark.parametrize("launcher", ["torchrun", "slurm", "openmpi"])
@pytest.mark.parametrize("mode", ["dpo", "sft"])
def test_two_ranks_train_as_one_process_with_twice_the_batch(mode, launcher, model_dir, data, one_process_runs,
                                                             tmp_path):
    train_two_ranks(launcher, mode, model_dir, data, tmp_path / "two")
    assert_same_training(mode, tmp_path / "two", one_process_runs[mode])
    # Only rank 0 writes: one log line per step (checked above), no stray files from rank 1.
    assert not list((tmp_path / "two").glob("*.tmp"))


def cut_back_to(out, step):
    """The run directory as a run stopped after `step` would have left it."""
    for checkpoint in out.glob("checkpoint-*"):
        if int(checkpoint.name.split("-")[1]) > step:
            shutil.rmtree(checkpoint)
    for name in ("model.safetensors", "config.json", "train_results.json"):
        (out / name).unlink(missing_ok=True)


@pytest.mark.parametrize("first, then", [("two", "one"), ("one", "two"), ("two-zero", "one"), ("one", "two-zero")])
def test_checkpoints_resume_across_world_sizes_and_sharding(first, then, model_dir, data, one_process_runs, tmp_path):
    out = tmp_path / "run"
    zero = ["--zero-stage", "1"]
    if first == "one":
        shutil.copytree(one_process_runs["dpo"], out)
    else:
        train_two_ranks("slurm", "dpo", model_dir, data, out, *(zero if first == "two-zero" else []))
    cut_back_to(out, 2)
    if then == "one":
        train_one_process("dpo", model_dir, data, out, "--resume")
    else:
        train_two_ranks("slurm", "dpo", model_dir, data, out, "--resume", *(zero if then == "two-zero" else []))
    assert_same_training("dpo", out, one_process_runs["dpo"])


def wait_until_stopped(process):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open(f"/proc/{process.pid}/stat", encoding="utf-8") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return
        if process.poll() is not None:
            pytest.fail(f"exited {process.returncode} before its pause:\n{process.stderr.read()}")
        time.sleep(0.05)
    pytest.fail("did not reach its pause after step 1")


@pytest.mark.parametrize("killed", [1, 0])
def test_a_killed_rank_stops_the_other_naming_it_and_the_run_resumes(killed, model_dir, data, one_process_runs,
                                                                     tmp_path):
    out = tmp_path / "run"
    command = train_command("dpo", model_dir, data, out, 2)
    processes = start_by_hand("slurm", command, {"CODEALIGN_TEST_PAUSE_AFTER_STEP": "1"})
    for process in processes:
        wait_until_stopped(process)  # both after step 1, checkpoint-1 written
    processes[killed].kill()
    processes[killed].wait()
    survivor = processes[1 - killed]
    survivor.send_signal(signal.SIGCONT)
    _, stderr = survivor.communicate(timeout=120)  # well within --dist-timeout 60 plus start-up
    assert survivor.returncode != 0
    expected = ("rank 1 is gone" if killed == 1 else "rank 0, which serves the rendezvous store, is gone")
    assert f"distributed: rank {1 - killed} of 2" in stderr and expected in stderr, stderr
    train_one_process("dpo", model_dir, data, out, "--resume")
    assert_same_training("dpo", out, one_process_runs["dpo"])


def test_a_rank_killed_while_rank_0_works_alone_stops_rank_0_naming_it(tmp_path):
    """align's rank-0 stages leave the other ranks waiting outside any collective. Rank 1 killed
    there, with no launcher to end the job, makes rank 0 stop naming it once rank 1's heartbeat
    has stood still for --dist-timeout, instead of waiting for it forever."""
    command = [CODEALIGN, "demo", "--train-tasks", "builtin:train[:12]", "--eval", "builtin:heldout[:10]",
               "--samples-per-task", "2", "--eval-samples", "0", "--train-max-steps", "1", "-j", "2",
               "--execution-cache", "", "--dist-timeout", "10", "--out", str(tmp_path / "run")]
    processes = start_by_hand("slurm", command, rank_environment={1: {"CODEALIGN_TEST_PAUSE_AT": "wait-for-rank-0"}})
    wait_until_stopped(processes[1])
    processes[1].kill()
    processes[1].wait()
    try:
        _, stderr = processes[0].communicate(timeout=120)
    finally:
        processes[0].kill()  # a rank 0 that waits forever fails the test, and goes
    assert processes[0].returncode != 0
    assert "distributed: rank 0 of 2" in stderr and "rank 1 is gone (no heartbeat for 10 s" in stderr, stderr


def numbers_differ(got, expected, where=""):
    """Paths where two JSON values differ: numbers beyond 1e-5 (relative), anything else at all."""
    if isinstance(expected, dict):
        if set(got) != set(expected):
            return [f"{where}: keys {sorted(set(got) ^ set(expected))}"]
        return [d for key in expected for d in numbers_differ(got[key], expected[key], f"{where}/{key}")]
    if isinstance(expected, list):
        if len(got) != len(expected):
            return [f"{where}: {len(got)} items, {len(expected)} expected"]
        return [d for i, (g, e) in enumerate(zip(got, expected)) for d in numbers_differ(g, e, f"{where}[{i}]")]
    if isinstance(expected, float) and not isinstance(expected, bool):
        return [] if got == pytest.approx(expected, rel=1e-5, abs=1e-5) else [f"{where}: {got} != {expected}"]
    return [] if got == expected else [f"{where}: {got!r} != {expected!r}"]


def test_align_with_two_ranks_equals_one_process(tmp_path):
    """The demo's loop, small: each rank samples half of every task set and runs half of the
    samples in its sandbox, rank 0 makes the pairs, DPO and RFT train data parallel. Samples,
    outcomes, pairs and evaluations are the same files; training metrics and the summary the
    same numbers."""
    command = [CODEALIGN, "demo", "--train-tasks", "builtin:train[:12]", "--eval", "builtin:heldout[:10]",
               "--samples-per-task", "4", "--eval-samples", "2", "--train-max-steps", "2", "-j", "2",
               "--execution-cache", "", "--dist-timeout", "120",
               # Plain DPO: DPOP's penalty (the demo's default) multiplies the log-probs' last-bit
               # differences between one and two processes by its lambda of 50, past 1e-5.
               "--train-dpop-lambda", "0"]
    one, two = tmp_path / "one", tmp_path / "two"
    finish(subprocess.Popen([*command, "--out", str(one), "--train-batch-size", "8"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True), command)
    ranks = [TORCHRUN, "--standalone", "--nproc-per-node", "2", "--no-python", *command, "--out", str(two),
             "--train-batch-size", "4"]
    finish(subprocess.Popen(ranks, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), ranks)
    files = sorted(path.relative_to(one) for path in one.rglob("*.jsonl"))
    same_lines = [f for f in files if f.name in ("samples.jsonl", "results.jsonl", "pairs.jsonl", "rft.jsonl",
                                                 "groups.jsonl")]
    assert len(same_lines) >= 8 and any(f.name == "pairs.jsonl" for f in same_lines)
    def lines(path):  # results carry each job's wall time, which no two runs share
        return [{k: v for k, v in json.loads(line).items() if k != "wall_time"} for line in path.read_text().splitlines()]
    assert [f for f in same_lines if lines(one / f) != lines(two / f)] == []
    assert sorted(path.relative_to(two) for path in two.rglob("*.jsonl")) == files  # no part files left
    differences = numbers_differ(json.loads((two / "summary.json").read_text()),
                                 json.loads((one / "summary.json").read_text()))
    for metrics in (f for f in files if f.name == "metrics.jsonl"):
        read = lambda run: [json.loads(line) for line in (run / metrics).read_text().splitlines()]
        differences += numbers_differ(read(two), read(one), str(metrics))
    assert differences == []
    assert (two / "report.html").exists()
    executions = [e for e in map(json.loads, (two / "timeline.jsonl").read_text().splitlines()) if e["event"] == "execute"]
    assert len(executions) >= 4 and all(min(e["samples_by_rank"]) > 0 for e in executions), executions  # both ran samples
