#!/usr/bin/env bash
# CPU prefill/decode throughput of codealign's model against transformers' LlamaForCausalLM
# and generate (bench/model_throughput_peer.py), same model, shapes and thread count
# (docs/BENCHMARKS.md). Each pair runs REPEATS times (default 3), alternating codealign and
# the peer; the summary line takes each side's best, which filters out other load on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
repeats=${REPEATS:-3}
cmake --build build --target model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bench/model_throughput export "$data/models/stories260K/stories260K.bin" "$work/stories260K"
build/bench/model_throughput random20m "$work/random20m"
for model in stories260K random20m; do
  for shape in "1 128 128" "8 128 64"; do
    echo "== $model  batch, prompt, new tokens: $shape"
    : >"$work/ours.jsonl"
    : >"$work/peer.jsonl"
    for ((i = 0; i < repeats; i++)); do
      build/bench/model_throughput run "$work/$model" $shape | tee -a "$work/ours.jsonl"
      "$venv_python" bench/model_throughput_peer.py "$work/$model" $shape | tee -a "$work/peer.jsonl"
    done
    "$venv_python" - "$work/ours.jsonl" "$work/peer.jsonl" <<'PY'
import json, sys
best = [{k: max(json.loads(line)[k] for line in open(path)) for k in ("prefill_tokens_per_s", "decode_tokens_per_s")}
        for path in sys.argv[1:]]
print(json.dumps({"best_codealign": best[0], "best_peer": best[1],
                  "ratio_prefill": best[0]["prefill_tokens_per_s"] / best[1]["prefill_tokens_per_s"],
                  "ratio_decode": best[0]["decode_tokens_per_s"] / best[1]["decode_tokens_per_s"]}))
PY
  done
done
