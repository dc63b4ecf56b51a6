#!/usr/bin/env bash
# Tokenizer encode throughput (docs/BENCHMARKS.md): builds the bench and runs every row in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
export CODEALIGN_DATA_DIR="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
scripts/build.sh tokenizer_throughput >/dev/null
build/bench/tokenizer_throughput "$@"
