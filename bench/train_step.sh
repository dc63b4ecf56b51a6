#!/usr/bin/env bash
# CPU DPO step time and peak memory of `codealign train dpo` against a TRL-style PyTorch
# eager step (bench/train_step_peer.py), same model and shapes (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
pairs=${PAIRS:-4} prompt=${PROMPT_TOKENS:-128} completion=${COMPLETION_TOKENS:-128}
cmake --build build --target codealign model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bench/model_throughput random20m "$work/model"
cp "$data/tokenizers/llama2/tokenizer.model" "$work/model/"
# Pairs whose prompt and completions are exactly the requested token counts ("▁x" per word).
/usr/bin/python3 - "$work/pairs.jsonl" "$pairs" "$prompt" "$completion" <<'PY'
import json, sys
path, pairs, prompt, completion = sys.argv[1], *map(int, sys.argv[2:])
with open(path, "w") as f:
    for i in range(pairs):
        f.write(json.dumps({"prompt": " ".join(["x"] * (prompt - 1)), "chosen": " y" * (completion - 1),
                            "rejected": " z" * (completion - 1)}) + "\n")
PY
run() {  # steps -> seconds, peak RSS (KiB)
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/time" build/src/codealign train dpo --model "$work/model" --data "$work/pairs.jsonl" \
    --out "$work/out" --batch-size "$pairs" --max-steps "$1" --epochs 1000 --max-length $((prompt + completion + 8)) 2>/dev/null
  cat "$work/time"
}
run 1 >/dev/null  # computes and caches the reference log-probs
read -r t2 m2 < <(run 2)
read -r t12 m12 < <(run 12)
/usr/bin/python3 -c "
import json; step = ($t12 - $t2) / 10; tokens = 2 * $pairs * ($prompt + $completion)
print(json.dumps({'impl': 'codealign', 'step_s': step, 'tokens_per_s': tokens / step, 'peak_rss_mib': $m12 / 1024}))"
/usr/bin/python3 bench/train_step_peer.py "$work/model" "$pairs" "$prompt" "$completion" 6
