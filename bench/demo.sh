#!/usr/bin/env bash
# The demo's quality target (issue 12): `codealign demo` over several seeds, each seed changing
# the on-policy samples (--seed) and the training data order (--train-seed). For each seed: the
# base model's, DPO's and RFT's greedy and sampled pass@1 on builtin:heldout, DPO's gain over the
# base, whether DPO is ahead of RFT, and the demo's wall time. The held-out set and its settings
# are the demo's own, never tuned per seed. Extra arguments go to every demo run.
# Usage: bench/demo.sh [DEMO OPTIONS...]   (env SEEDS, default "1 2 3"; OUT, default a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
seeds=${SEEDS:-1 2 3}
out=${OUT:-$(mktemp -d)}
cmake --build build --target codealign codealign_model_commands >/dev/null
for seed in $seeds; do
  SECONDS=0
  build/src/codealign demo --out "$out/seed-$seed" --seed "$seed" --train-seed "$seed" --execution-cache '' "$@" \
    >"$out/seed-$seed.log" 2>&1 || { cat "$out/seed-$seed.log"; exit 1; }
  echo "$SECONDS" >"$out/seed-$seed.seconds"
done
"$venv_python" - "$out" $seeds <<'PY'
import json, sys
out, seeds = sys.argv[1], sys.argv[2:]
def pass1(record, evaluation):
    report = next(iter(record[evaluation].values()))
    return report["plus" if "plus" in report else "base"]["pass@1"]
print(f"{'seed':>4} {'base g/s':>13} {'DPO g/s':>13} {'RFT g/s':>13} {'DPO-base':>9} {'DPO>RFT':>8} {'wall s':>7}")
gains = []
for seed in seeds:
    rounds = json.load(open(f"{out}/seed-{seed}/summary.json"))["rounds"]
    base, dpo, rft = rounds[0], rounds[1]["methods"]["dpo"], rounds[1]["methods"]["rft"]
    g = {name: (pass1(r, "eval"), pass1(r, "eval_sampled")) for name, r in (("base", base), ("dpo", dpo), ("rft", rft))}
    gain = g["dpo"][1] - g["base"][1]
    gains.append((gain, g["dpo"][1] > g["rft"][1]))
    cell = lambda pair: f"{100 * pair[0]:5.1f}/{100 * pair[1]:5.1f}"
    seconds = float(open(f"{out}/seed-{seed}.seconds").read())
    print(f"{seed:>4} {cell(g['base']):>13} {cell(g['dpo']):>13} {cell(g['rft']):>13} {100 * gain:+9.1f} "
          f"{'yes' if gains[-1][1] else 'no':>8} {seconds:7.0f}")
met = all(gain >= 0.05 and ahead for gain, ahead in gains)
print(f"target (DPO >= +5 points sampled pass@1 over the base and ahead of RFT, every seed): {'met' if met else 'NOT met'}")
print(f"runs: {out}")
PY
