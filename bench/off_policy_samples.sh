#!/usr/bin/env bash
# Another model's samples of the demo's training tasks, for the paper's off-policy ablation
# (bench/demo.sh's off-policy recipe, issue 27): a second demo model made by
# scripts/make_demo_model.sh with another seed (other random weights, another 20% of buggy
# answers, another data order; the same size, data and steps), then, per seed, 8 samples of each of
# builtin:train[:600] at the demo's sampling settings (T = 0.8, 128 new tokens): the same sampling
# budget as the on-policy round it is compared with.
# Usage: bench/off_policy_samples.sh OUT   (env SEEDS, default "1 2 3 4 5"; MODEL_SEED, default 1;
#   CODEALIGN as in bench/demo.sh)
#   writes OUT/model/ and OUT/samples-seed-S.jsonl; then OFF_POLICY=OUT RECIPES="default off-policy" bench/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/off_policy_samples.sh OUT}
seeds=${SEEDS:-1 2 3 4 5}
mkdir -p "$out"
codealign=${CODEALIGN:-build/src/codealign}  # as in bench/demo.sh
[ -n "${CODEALIGN:-}" ] || cmake --build build --target codealign codealign_model_commands >/dev/null
[ -f "$out/model/model.safetensors" ] || SEED=${MODEL_SEED:-1} CODEALIGN=$codealign scripts/make_demo_model.sh "$out/model"
for seed in $seeds; do
  samples="$out/samples-seed-$seed.jsonl"
  [ -f "$samples" ] && continue
  "$codealign" sample -m "$out/model" --tasks 'builtin:train[:600]' -n 8 -t 0.8 --max-new-tokens 128 \
    --batch 64 --seed "$seed" -o "$samples.tmp"
  mv "$samples.tmp" "$samples"
done
echo "off-policy samples: $out"
