#!/usr/bin/env bash
# Tokenizer encode throughput (docs/BENCHMARKS.md). Builds the bench, rebuilds a clean
# llama-spm GGUF from the damaged shared one, and runs everything in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
cmake --build build --target tokenizer_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tools/repair_gguf.py "$data/tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf" \
  "$work/llama-spm.gguf" --scores-from "$data/tokenizers/llama2/tokenizer.model" 2>/dev/null
CODEALIGN_DATA_DIR="$data" CODEALIGN_LLAMA_GGUF="$work/llama-spm.gguf" build/bench/tokenizer_throughput "$@"
