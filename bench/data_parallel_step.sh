#!/usr/bin/env bash
# Data-parallel scaling of a DPO step (issue 29): the random 19.4M-parameter Llama of
# bench/train_step.sh, one global batch of PAIRS pairs (prompt and completions of the given
# token counts) trained by one process and by NPROC processes under torchrun (Gloo), each
# process one thread. Step time is (12 steps - 2 steps) / 10, so start-up and the reference
# log-probs drop out; prints tokens/s of each and their ratio (docs/BENCHMARKS.md).
# Usage: bench/data_parallel_step.sh   (env PAIRS=8, PROMPT_TOKENS=128, COMPLETION_TOKENS=128, NPROC=2, ZERO=0)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
pairs=${PAIRS:-8} prompt=${PROMPT_TOKENS:-128} completion=${COMPLETION_TOKENS:-128} nproc=${NPROC:-2} zero=${ZERO:-0}
(( pairs % nproc == 0 )) || { echo "data_parallel_step: PAIRS must divide by NPROC" >&2; exit 2; }
cmake --build build --target codealign codealign_model_commands model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/random20m_pairs.sh
torchrun="$(dirname "$venv_python")/torchrun"
run() {  # processes steps -> wall seconds
  find "$work/out-$1" -mindepth 1 -maxdepth 1 ! -name 'reference-logps-*' -exec rm -rf {} + 2>/dev/null || true
  local train=(build/src/codealign train dpo --model "$work/model" --data "$work/pairs.jsonl" --out "$work/out-$1"
               --batch-size $((pairs / $1)) --max-steps "$2" --epochs 1000 --max-length $((prompt + completion + 8))
               --zero-stage "$zero")
  local start=$EPOCHREALTIME
  if [ "$1" = 1 ]; then "${train[@]}" 2>/dev/null; else
    OMP_NUM_THREADS=1 "$torchrun" --standalone --nproc-per-node "$1" --no-python "${train[@]}" >/dev/null 2>&1; fi
  awk "BEGIN { print $EPOCHREALTIME - $start }"
}
tokens=$((2 * pairs * (prompt + completion)))
for processes in 1 "$nproc"; do
  run "$processes" 1 >/dev/null  # computes and caches the reference log-probs
  t2=$(run "$processes" 2)
  t12=$(run "$processes" 12)
  "$venv_python" -c "
import json; step = ($t12 - $t2) / 10
print(json.dumps({'processes': $processes, 'step_s': round(step, 4), 'tokens_per_s': round($tokens / step, 1)}))"
done | tee "$work/results"
"$venv_python" -c "
import json, sys; one, many = (json.loads(line) for line in open(sys.argv[1]))
print(json.dumps({'ratio_tokens_per_s': round(many['tokens_per_s'] / one['tokens_per_s'], 3), 'processes': many['processes']}))" "$work/results"
