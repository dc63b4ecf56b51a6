#!/usr/bin/env bash
# Fuzzing of the parsers of untrusted input (issue 30): builds the libFuzzer harnesses of
# tests/fuzz with clang, AddressSanitizer and UndefinedBehaviorSanitizer (-DCODEALIGN_FUZZ=ON, no
# torch) and runs each for SECONDS on a copy of its seed corpus (tests/fuzz/corpus/NAME, which
# also holds every past finding as a regression input). A crash, leak, sanitizer report, hang
# (over 10 s an input) or memory blow-up (over 2 GiB) is saved under OUT/NAME/findings and makes
# the script fail; add it to the corpus with its fix. Prints per harness: runs, coverage, CPU seconds.
# Usage: bench/fuzz.sh [SECONDS]   (default 300; env FUZZERS to choose, JOBS harnesses at a time
#                                   (default 1), OUT to keep the work directory, CODEALIGN_FUZZ_BUILD_DIR
#                                   (default build-fuzz), FUZZ_SEED to fix libFuzzer's seed (default: a
#                                   random one))
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
build=${CODEALIGN_FUZZ_BUILD_DIR:-build-fuzz}
out=${OUT:-$(mktemp -d)}
# Every harness has a seed corpus of its own: tests/fuzz/corpus/NAME for tests/fuzz/fuzz_NAME.cpp.
fuzzers=${FUZZERS:-$(ls tests/fuzz/corpus | sed 's/^/fuzz_/')}
launcher=""  # ccache as scripts/build.sh uses it: a rebuild of an unchanged tree compiles nothing
if command -v ccache >/dev/null; then
  launcher="env;CCACHE_DIR=${CODEALIGN_CCACHE_DIR:-$HOME/.cache/codealign/ccache};CCACHE_BASEDIR=$(pwd);ccache"
fi
CC=${FUZZ_CC:-clang-14} CXX=${FUZZ_CXX:-clang++-14} cmake -S . -B "$build" -G Ninja -DCODEALIGN_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
run() {  # one harness; prints its JSON line; fails on a finding
  local fuzzer=$1 work="$out/$1"
  mkdir -p "$work/corpus" "$work/findings"
  cp tests/fuzz/corpus/"${fuzzer#fuzz_}"/* "$work/corpus/"
  local status=0 inputs  # the harness writes each input to a file: in memory where there is a tmpfs
  inputs=$(mktemp -d -p "$([ -w /dev/shm ] && echo /dev/shm || echo /tmp)" codealign-fuzz.XXXXXX)
  CODEALIGN_FUZZ_INPUT_DIR=$inputs /usr/bin/time -f "%U %S" -o "$work/cpu" "$build/tests/fuzz/$fuzzer" "$work/corpus" \
    -max_total_time="$seconds" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/findings/" \
    >"$work/log" 2>&1 || status=1
  rm -rf "$inputs"
  local runs coverage findings
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo 0)
  coverage=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*' || echo 0)
  findings=$(find "$work/findings" -type f | wc -l)
  echo "{\"fuzzer\": \"$fuzzer\", \"seconds\": $seconds, \"cpu_s\": $(tail -1 "$work/cpu" | awk '{print $1 + $2}'), \"runs\": ${runs:-0}, \"coverage\": ${coverage:-0}, \"findings\": $findings}"
  if [ "$findings" -gt 0 ]; then
    echo "$fuzzer: findings in $work/findings (log: $work/log):" >&2
    grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$work/log" >&2 || true
  fi
  return $status
}
# JOBS harnesses at a time (default 1: each gets a core of its own on a 2-core machine's CI).
status=0 running=0
for fuzzer in $fuzzers; do
  run "$fuzzer" &
  running=$((running + 1))
  if [ "$running" -ge "${JOBS:-1}" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
if [ "$status" = 0 ] && [ -z "${OUT:-}" ]; then rm -rf "$out"; else echo "work: $out" >&2; fi
exit $status
