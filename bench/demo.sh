#!/usr/bin/env bash
# The demo's study: `codealign demo` over several seeds, each seed changing the on-policy samples
# (--seed) and the training data order (--train-seed). Rows: the base model, DPO and RFT trained
# on the same samples (one demo run), and GRPO with each reward in $GRPO_REWARDS (one demo run
# each with --method grpo: the same seed gives the same round-1 samples, so GRPO meets the very
# draws DPO and RFT met). Compute matched to DPO: DPO's step is 8 pairs (16 sequences); GRPO's is
# 2 groups of 8 completions (16 sequences); both take the demo's 60 steps at its learning rate.
# Per seed: greedy and sampled pass@1 on builtin:heldout and wall time. Pooled over seeds: each
# row's sampled pass@1 and its difference to the base, to DPO and to RFT, with a paired bootstrap
# 95% interval (tasks resampled within each seed, the same tasks for both rows of a difference).
# The held-out set and its settings are the demo's own, never tuned per seed. Extra arguments go
# to every demo run.
# Usage: bench/demo.sh [DEMO OPTIONS...]
#   env SEEDS (default "1 2 3"), GRPO_REWARDS (default "coarse score"; "" for none), OUT (a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
seeds=${SEEDS:-1 2 3}
grpo_rewards=${GRPO_REWARDS-coarse score}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
cmake --build build --target codealign codealign_model_commands >/dev/null
demo() {  # run name, seed, options...
  local name=$1 seed=$2
  shift 2
  SECONDS=0
  build/src/codealign demo --out "$out/$name" --seed "$seed" --train-seed "$seed" --execution-cache '' "$@" \
    >"$out/$name.log" 2>&1 || { cat "$out/$name.log"; exit 1; }
  echo "$SECONDS" >"$out/$name.seconds"
}
for seed in $seeds; do
  demo "seed-$seed" "$seed" "$@"
  for reward in $grpo_rewards; do
    demo "seed-$seed-grpo-$reward" "$seed" --method grpo --reward "$reward" --train-gradient-accumulation-steps 2 "$@"
  done
done
"$venv_python" - "$out" "$grpo_rewards" $seeds <<'PY'
import glob, json, random, sys
out, rewards, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3:]

def pass1(record, evaluation):
    report = next(iter(record[evaluation].values()))
    return report["plus" if "plus" in report else "base"]["pass@1"]

def per_task(run, group):
    """Sampled pass rate per task of round-R/<group>'s evaluation, by task id."""
    path, = glob.glob(f"{out}/{run}/{group}/eval-sampled/*/results.jsonl")
    counts = {}
    for line in open(path):
        r = json.loads(line)
        passed, total = counts.get(r["task_id"], (0, 0))
        counts[r["task_id"]] = (passed + bool(r["passed"]), total + 1)
    return {task: passed / total for task, (passed, total) in counts.items()}

rows = ["base", "dpo", "rft"] + [f"grpo-{r}" for r in rewards]
where = {"base": ("", "round-0"), "dpo": ("", "round-1/dpo"), "rft": ("", "round-1/rft")}
where.update({f"grpo-{r}": (f"-grpo-{r}", "round-1/grpo") for r in rewards})
rates = {row: {} for row in rows}  # row -> seed -> task -> pass rate
print(f"{'seed':>4} " + " ".join(f"{row + ' g/s':>17}" for row in rows) + f" {'demo s':>9}")
for seed in seeds:
    cells, wall = [], 0.0
    for row in rows:
        suffix, group = where[row]
        run = f"seed-{seed}{suffix}"
        summary = json.load(open(f"{out}/{run}/summary.json"))["rounds"]
        record = summary[0] if row == "base" else summary[1]["methods"][row.split("-")[0]]
        cells.append(f"{100 * pass1(record, 'eval'):7.1f}/{100 * pass1(record, 'eval_sampled'):5.1f}")
        rates[row][seed] = per_task(run, group)
        if row == "base":  # the demo's own run (base, DPO, RFT): its wall time is the demo's budget
            wall = float(open(f"{out}/{run}.seconds").read())
    print(f"{seed:>4} " + " ".join(f"{c:>17}" for c in cells) + f" {wall:9.0f}")

def pooled(row):
    values = [rate for seed in seeds for rate in rates[row][seed].values()]
    return sum(values) / len(values)

def difference_interval(a, b, draws=2000):
    """Mean over seeds' tasks of a - b, and its paired bootstrap 95% interval."""
    rng = random.Random(0)
    per_seed = [[rates[a][seed][t] - rates[b][seed][t] for t in sorted(rates[a][seed])] for seed in seeds]
    total = sum(len(d) for d in per_seed)
    mean = sum(sum(d) for d in per_seed) / total
    means = []
    for _ in range(draws):
        means.append(sum(sum(rng.choice(d) for _ in d) for d in per_seed) / total)
    means.sort()
    return mean, means[int(0.025 * draws)], means[int(0.975 * draws) - 1]

print(f"\npooled over seeds {' '.join(seeds)}: sampled pass@1, and differences with paired bootstrap 95% intervals")
for row in rows:
    line = f"{row:>12} {100 * pooled(row):5.1f}"
    for other in ("base", "dpo", "rft"):
        if other != row:
            mean, low, high = difference_interval(row, other)
            line += f"   - {other}: {100 * mean:+5.1f} [{100 * low:+5.1f}, {100 * high:+5.1f}]"
    print(line)
print(f"runs: {out}")
PY
