#!/usr/bin/env bash
# CPU prefill/decode throughput of codealign's model against PyTorch eager (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
cmake --build build --target model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bench/model_throughput export "$data/models/stories260K/stories260K.bin" "$work/stories260K"
build/bench/model_throughput random20m "$work/random20m"
for model in stories260K random20m; do
  for shape in "1 128 128" "8 128 64"; do
    echo "== $model  batch, prompt, new tokens: $shape"
    build/bench/model_throughput run "$work/$model" $shape
    /usr/bin/python3 bench/model_throughput_peer.py "$work/$model" $shape
  done
done
