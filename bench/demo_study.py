"""The statistics of bench/demo.sh: every row (the base, then each recipe's methods) on the
evaluation set, pooled over seeds, with paired bootstrap 95% intervals that can decide.

Per seed and row: greedy pass@1 and unbiased sampled pass@1 and pass@5 (Chen et al. 2021, from
the n samples of each task). Pooled over seeds: each row's difference to the base and to RFT
(the default recipe's), per task within a seed, tasks resampled with replacement within each
seed (the same tasks for both rows of a difference), 2,000 draws. Then the same differences
sliced by the base's per-task sampled pass rate (0, low: at most 1/2, high: above 1/2, 1), and
each row's compute (optimizer steps and training examples) beside it.

    python3 bench/demo_study.py OUT RECIPES SEEDS...   (OUT holds <recipe>-seed-<seed>/ runs)
"""
import glob
import json
import math
import os
import random
import sys

DRAWS = 2000
SLICES = [("0", lambda r: r == 0), ("low", lambda r: 0 < r <= 0.5), ("high", lambda r: 0.5 < r < 1),
          ("1", lambda r: r == 1)]


def pass_at_k(n, c, k):
    """Chen et al.'s unbiased estimator: 1 - C(n - c, k) / C(n, k)."""
    if n < k:
        return float("nan")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def per_task_counts(path):
    """{task: (samples, passed)} of an evaluation's results.jsonl."""
    counts = {}
    with open(path) as results:
        for line in results:
            r = json.loads(line)
            n, c = counts.get(r["task_id"], (0, 0))
            counts[r["task_id"]] = (n + 1, c + bool(r["passed"]))
    return counts


# Rows that train the same optimizer steps, compared directly: RFT then DPO against two rounds
# of RFT, three rounds of RPO against three of RFT, SFT on DPO's chosen samples against DPO, DPO
# on its own samples against DPO on another model's (the same sampling budget and steps).
MATCHED = [("rft-dpo/rft-dpo", "rft-2/rft"), ("rpo-3/dpo", "rft-3/rft"), ("default/dpo", "sft-chosen/sft-chosen"),
           ("default/dpo", "off-policy/dpo-off-policy")]


def one_file(pattern):
    found = glob.glob(pattern)
    if len(found) != 1:
        raise SystemExit(f"demo study: expected one file for {pattern}, found {len(found)}")
    return found[0]


def rows_of_run(run):
    """(row name suffix, group directory, summary record) of each method of a run's last round."""
    summary = json.load(open(os.path.join(run, "summary.json")))["rounds"]
    last = summary[-1]
    return [(method, f"round-{last['round']}/{method}", record) for method, record in last["methods"].items()
            if "model" in record]


def steps_of(run, method):
    """Optimizer steps of `method` summed over every round it trained in (a multi-round recipe's compute)."""
    total = 0
    for path in glob.glob(os.path.join(run, "round-*", method, "train", "metrics.jsonl")):
        metrics = [json.loads(line) for line in open(path)]
        total += metrics[-1]["step"] if metrics else 0
    return total


def examples_of(run, method):
    """Training examples of `method` summed over its rounds."""
    rounds = json.load(open(os.path.join(run, "summary.json")))["rounds"]
    return sum(r.get("methods", {}).get(method, {}).get("examples", 0) for r in rounds)


def greedy_pass1(run, group):
    counts = per_task_counts(one_file(os.path.join(run, group, "eval", "*", "results.jsonl")))
    return sum(c for _, c in counts.values()) / len(counts)


def collect(out, recipes, seeds):
    """rows: name -> {"counts": {seed: {task: (n, c)}}, "greedy": {seed: x}, "steps", "examples"}."""
    rows = {}
    for recipe in recipes:
        for seed in seeds:
            run = os.path.join(out, f"{recipe}-seed-{seed}")
            entries = [("base", "round-0", None)] if recipe == recipes[0] else []
            entries += [(f"{recipe}/{method}", group, record) for method, group, record in rows_of_run(run)]
            for name, group, record in entries:
                row = rows.setdefault(name, {"counts": {}, "greedy": {}, "steps": set(), "examples": set()})
                row["counts"][seed] = per_task_counts(one_file(os.path.join(run, group, "eval-sampled", "*", "results.jsonl")))
                row["greedy"][seed] = greedy_pass1(run, group)
                if record is not None:
                    method = name.split("/", 1)[1]
                    row["steps"].add(steps_of(run, method))
                    row["examples"].add(examples_of(run, method))
    return rows


def task_values(row, seed, k):
    return {task: pass_at_k(n, c, k) for task, (n, c) in row["counts"][seed].items()}


def pooled(rows, name, seeds, k):
    values = [v for seed in seeds for v in task_values(rows[name], seed, k).values()]
    return sum(values) / len(values)


def difference(rows, a, b, seeds, k, keep=lambda task, seed: True, seed_rng=0):
    """Mean of a - b over the kept tasks of every seed, and its paired bootstrap 95% interval."""
    per_seed = []
    for seed in seeds:
        va, vb = task_values(rows[a], seed, k), task_values(rows[b], seed, k)
        per_seed.append([va[t] - vb[t] for t in sorted(va) if keep(t, seed)])
    total = sum(len(d) for d in per_seed)
    if total == 0:
        return None
    mean = sum(sum(d) for d in per_seed) / total
    rng = random.Random(seed_rng)
    means = sorted(sum(sum(rng.choice(d) for _ in d) for d in per_seed if d) / total for _ in range(DRAWS))
    return mean, means[int(0.025 * DRAWS)], means[int(0.975 * DRAWS) - 1], total


def shown(result):
    if result is None:
        return "-"
    mean, low, high, _ = result
    decided = "" if low <= 0 <= high else " *"
    return f"{100 * mean:+5.1f} [{100 * low:+5.1f}, {100 * high:+5.1f}]{decided}"


def main():
    out, recipes, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
    rows = collect(out, recipes, seeds)
    rft = f"{recipes[0]}/rft" if f"{recipes[0]}/rft" in rows else None
    samples = min(n for row in rows.values() for seed in seeds for n, _ in row["counts"][seed].values())
    ks = [k for k in (1, 5) if k <= samples]
    print(f"seeds {' '.join(seeds)}; {samples} samples per task; pooled over seeds; '*': the 95% interval excludes 0")
    header = f"{'row':<24} {'greedy':>6} " + " ".join(f"{'pass@' + str(k):>6}" for k in ks)
    header += f" {'- base (pass@1)':>25} {'- rft (pass@1)':>25} {'steps':>6} {'examples':>9}"
    print(header)
    for name, row in rows.items():
        greedy = sum(row["greedy"].values()) / len(row["greedy"])
        line = f"{name:<24} {100 * greedy:6.1f} " + " ".join(f"{100 * pooled(rows, name, seeds, k):6.1f}" for k in ks)
        to_base = difference(rows, name, "base", seeds, 1) if name != "base" else None
        to_rft = difference(rows, name, rft, seeds, 1) if rft and name not in (rft, "base") else None
        line += f" {shown(to_base):>25} {shown(to_rft):>25}"
        line += f" {'/'.join(map(str, sorted(row['steps']))) or '-':>6} {'/'.join(map(str, sorted(row['examples']))) or '-':>9}"
        print(line)
    if 5 in ks:
        print("\npass@5 differences")
        for name in rows:
            if name != "base":
                print(f"{name:<24} - base {shown(difference(rows, name, 'base', seeds, 5)):>25}"
                      + (f"   - rft {shown(difference(rows, name, rft, seeds, 5)):>25}" if rft and name != rft else ""))
    base_rate = {seed: task_values(rows["base"], seed, 1) for seed in seeds}
    print("\npass@1 differences by the base's per-task pass rate (tasks: per slice, all seeds)")
    for slice_name, test in SLICES:
        keep = lambda task, seed, test=test: test(base_rate[seed][task])
        count = sum(1 for seed in seeds for task in base_rate[seed] if keep(task, seed))
        print(f"  base rate {slice_name} ({count} tasks)")
        for name in rows:
            if name != "base":
                line = f"    {name:<22} - base {shown(difference(rows, name, 'base', seeds, 1, keep)):>25}"
                if rft and name != rft:
                    line += f"   - rft {shown(difference(rows, name, rft, seeds, 1, keep)):>25}"
                print(line)
    compute_matched = [(a, b) for a, b in MATCHED if a in rows and b in rows]
    if compute_matched:
        print("\ncompute-matched pairs (the same optimizer steps): pass@1 and pass@5 differences")
        for a, b in compute_matched:
            print(f"  {a} - {b}: pass@1 {shown(difference(rows, a, b, seeds, 1))}"
                  + (f"   pass@5 {shown(difference(rows, a, b, seeds, 5))}" if 5 in ks else ""))


if __name__ == "__main__":
    main()
