#!/usr/bin/env bash
# The demo's study (issue 27): `codealign demo` per recipe and seed, then bench/demo_study.py's
# table: each row's greedy pass@1, unbiased sampled pass@1 and pass@5, its difference to the base
# and to RFT with paired bootstrap 95% intervals pooled over seeds, the same sliced by the base's
# per-task pass rate, each row's optimizer steps and training examples over all its rounds (its
# compute), and the compute-matched pairs (rft-dpo against rft-2, rpo-3 against rft-3).
# A seed changes the on-policy samples (--seed) and the training data order (--train-seed); the
# same seed gives every recipe the same round-1 samples and the same evaluation draws.
# Recipes (RECIPES picks; each is demo options on top of the demo's defaults):
#   default      the demo as it ships: DPO and RFT on the same samples (the RFT row every row meets)
#   rpo          DPO + NLL on the chosen (alpha 1), beta 0.1, up to 4 pass x fail pairs a task, 2 epochs
#   rpo-near     the same with near-miss rejected (the best of the rest, not the worst)
#   dpop         DPOP's penalty (lambda 50) when the chosen log-prob falls below the reference's
#   dpo-norm     DPO on per-token log-ratios (Tülu 3's dpo_norm)
#   ipo          IPO
#   rft-dpo      RFT in round 1, then DPO on the RFT model's own samples against it (2 rounds)
#   sft-chosen   SFT (RFT's settings) on the chosen side of the default DPO's pairs: DPO without its negative gradient
#   rft-2        2 rounds of RFT: rft-dpo's compute (both train 2 x 60 steps)
#   rpo-3        3 rounds of RPO; rft-3: 3 rounds of RFT, the same compute
#   grpo-coarse  GRPO with CodeRL's coarse reward; grpo-score with the fine score (16 sequences a step)
#   off-policy   the default DPO on pairs of another model's samples (the paper's ablation: on- against
#                off-policy at the same budget); OFF_POLICY names bench/off_policy_samples.sh's directory
# Choose recipes on the validation slice, never on the held-out set:
#   EVAL='builtin:train[19000:19300]' RECIPES="default rpo rpo-near" bench/demo.sh
# Usage: bench/demo.sh [DEMO OPTIONS...]   (extra options go to every run)
#   env SEEDS (default "1 2 3 4 5"), RECIPES (default "default"), EVAL (default builtin:heldout),
#       EVAL_SAMPLES (default 20), OUT (default: a temporary directory; runs already there are reused),
#       OFF_POLICY (the off-policy recipe's samples: bench/off_policy_samples.sh OFF_POLICY),
#       CODEALIGN (a codealign binary to run instead of building build/src/codealign: a long study
#       keeps its binary while the tree changes)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-1 2 3 4 5}
recipes=${RECIPES:-default}
eval_set=${EVAL:-builtin:heldout}
eval_samples=${EVAL_SAMPLES:-20}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
declare -A options=(
  [default]=""
  [rpo]="--method dpo --train-rpo-alpha 1 --train-beta 0.1 --strategy all --max-pairs-per-task 4 --train-epochs 2 --train-max-steps -1"
  [rpo-near]="--method dpo --train-rpo-alpha 1 --train-beta 0.1 --strategy near-miss --max-pairs-per-task 4 --train-epochs 2 --train-max-steps -1"
  [dpop]="--method dpo --train-dpop-lambda 50"
  [dpo-norm]="--method dpo --train-loss-type sigmoid_norm"
  [ipo]="--method dpo --train-loss-type ipo --train-beta 0.5"
  [rft-dpo]="--method rft-dpo --rounds 2"
  [sft-chosen]="--method sft-chosen"
  [rpo-3]="--method dpo --train-rpo-alpha 1 --train-beta 0.1 --rounds 3"
  [rft-2]="--method rft --rounds 2"
  [rft-3]="--method rft --rounds 3"
  [grpo-coarse]="--method grpo --reward coarse --train-gradient-accumulation-steps 2"
  [grpo-score]="--method grpo --reward score --train-gradient-accumulation-steps 2"
  [off-policy]="--method dpo-off-policy --off-policy-samples ${OFF_POLICY:-OFF_POLICY-unset}/samples-seed-{seed}.jsonl"
)
first=${recipes%% *}
if [ "$first" != default ]; then echo "demo study: RECIPES must start with default (its base and RFT rows)" >&2; exit 2; fi
codealign=${CODEALIGN:-build/src/codealign}
[ -n "${CODEALIGN:-}" ] || cmake --build build --target codealign codealign_model_commands >/dev/null
for recipe in $recipes; do
  [ -n "${options[$recipe]+set}" ] || { echo "demo study: unknown recipe '$recipe' (${!options[*]})" >&2; exit 2; }
  for seed in $seeds; do
    run="$out/$recipe-seed-$seed"
    [ -f "$run/summary.json" ] && continue  # done in an earlier invocation with the same OUT
    rm -rf "$run"
    SECONDS=0
    # shellcheck disable=SC2086  # the recipe's options are words
    "$codealign" demo --out "$run" --seed "$seed" --train-seed "$seed" --execution-cache '' \
      --eval "$eval_set" --eval-samples "$eval_samples" --eval-k 1,5 ${options[$recipe]//\{seed\}/$seed} "$@" \
      >"$run.log" 2>&1 || { cat "$run.log"; exit 1; }
    echo "$recipe seed $seed: $SECONDS s" >&2
  done
done
/usr/bin/python3 bench/demo_study.py "$out" "$recipes" $seeds
echo "runs: $out"
