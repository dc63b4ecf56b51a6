#!/usr/bin/env bash
# CPU DPO step time and peak memory of `codealign train dpo` against TRL's DPOTrainer
# (bench/train_step_peer.py), same model, tokens and shapes (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
pairs=${PAIRS:-4} prompt=${PROMPT_TOKENS:-128} completion=${COMPLETION_TOKENS:-128}
cmake --build build --target codealign model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/random20m_pairs.sh
run() {  # steps -> wall seconds, peak RSS (KiB), user + system CPU seconds
  # A fresh run each time, but the reference log-probs it caches in its output directory stay.
  find "$work/out" -mindepth 1 -maxdepth 1 ! -name 'reference-logps-*' -exec rm -rf {} + 2>/dev/null || true
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" build/src/codealign train dpo --model "$work/model" --data "$work/pairs.jsonl" \
    --out "$work/out" --batch-size "$pairs" --max-steps "$1" --epochs 1000 --max-length $((prompt + completion + 8)) 2>/dev/null
  awk '{print $1, $2, $3 + $4}' "$work/time"
}
run 1 >/dev/null  # computes and caches the reference log-probs
read -r t2 m2 c2 < <(run 2)
read -r t12 m12 c12 < <(run 12)
ours=$("$venv_python" -c "
import json; step = ($t12 - $t2) / 10; tokens = 2 * $pairs * ($prompt + $completion)
print(json.dumps({'impl': 'codealign', 'step_s': step, 'tokens_per_s': tokens / step, 'step_cpu_s': ($c12 - $c2) / 10,
                  'peak_rss_mib': $m12 / 1024}))")
echo "$ours"
# TRL as configured to match codealign (no activation recomputation), then with TRL's default
# gradient checkpointing.
for flag in "" --gradient-checkpointing; do
  peer=$("$venv_python" bench/train_step_peer.py "$work/model" "$pairs" "$prompt" "$completion" 6 $flag 2>"$work/peer.log") ||
    { cat "$work/peer.log" >&2; exit 1; }
  echo "$peer"
  "$venv_python" -c "
import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({'peer': b['impl'], 'ratio_tokens_per_s': a['tokens_per_s'] / b['tokens_per_s'],
                  'ratio_cpu_per_step': b['step_cpu_s'] / a['step_cpu_s'],
                  'ratio_peak_rss': a['peak_rss_mib'] / b['peak_rss_mib']}))" "$ours" "$peer"
done
