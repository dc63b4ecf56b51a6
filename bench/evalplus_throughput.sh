#!/usr/bin/env bash
# HumanEval+ and MBPP+: `codealign evaluate` against evalplus's own evaluator
# (evalplus.evaluate.evaluate, through bench/evalplus_peer.py) on the same samples, the
# canonical solution of every task (164 and 378), same time limits, same workers, same run
# (issue 10, docs/BENCHMARKS.md).
#
#   bench/evalplus_throughput.sh [CODEALIGN_BIN]        (default build/src/codealign)
#   WORKERS=2 MIN_TIME_LIMIT=4 TIME_LIMIT_FACTOR=4 ROUNDS=2 BENCHMARKS="humaneval+ mbpp+" bench/evalplus_throughput.sh
#
# Builds nothing (waits up to 10 minutes for the binary if a build is replacing it, then runs a
# private copy so that a rebuild cannot swap it mid-run). Honours CODEALIGN_DATA_DIR (default:
# the repo's data/); both tools read the same release file. Offline: evalplus gets the file
# through HUMANEVAL_OVERRIDE_PATH / MBPP_OVERRIDE_PATH.
#
# Ground truth is cached on both sides before anything is timed: one untimed warm-up per side
# and benchmark fills a fresh cache (evalplus: its pickle under $XDG_CACHE_HOME/evalplus;
# codealign: --cache-dir), and the timed runs load it. `codealign evaluate` keeps no cache of
# sample results (the execution cache is `align`'s); the script checks that its cache folder
# holds only the ground-truth file afterwards and that nothing was written under the
# XDG_CACHE_HOME it was given. evalplus's result file (which evalplus would load instead of
# evaluating) is removed before each of its runs.
#
# "seconds" is wall-clock time measured here around each command (both pay their start-up,
# imports and data loading); each side runs ROUNDS times, alternating, and the best counts.
# Takes about 25 minutes on a 2-core VM under load (most of it evalplus on MBPP+) and about
# 1.7 GB of memory on evalplus's side just to load its MBPP+ ground truth (a 793 MB pickle).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh

src_bin=${1:-build/src/codealign}
data="${CODEALIGN_DATA_DIR:-$(pwd)/data}"
workers=${WORKERS:-2} min_time=${MIN_TIME_LIMIT:-4} factor=${TIME_LIMIT_FACTOR:-4} rounds=${ROUNDS:-2}
benchmarks=${BENCHMARKS:-"humaneval+ mbpp+"}
peer=bench/evalplus_peer.py

work=$(mktemp -d -t codealign-evalplus.XXXXXX)
keep=0
trap '[[ $keep == 1 ]] || rm -rf "$work"' EXIT
trap 'keep=1; echo "error: line $LINENO failed; logs kept in $work" >&2' ERR

# The binary may be rebuilt by others while this runs: take a copy that answers --version.
bin=$work/codealign
for attempt in $(seq 60); do
  if [[ -x $src_bin ]] && cp "$src_bin" "$bin" 2>/dev/null && version=$("$bin" --version 2>/dev/null); then break; fi
  version=""
  echo "waiting for $src_bin ($attempt)" >&2
  sleep 10
done
[[ -n $version ]] || { echo "error: no working $src_bin; build codealign first" >&2; exit 1; }

now() { date +%s.%N; }
calc() { "$venv_python" -c "print($1)"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
field() { "$venv_python" -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

echo "## Machine"
echo
echo "- nproc: $(nproc)"
echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "- kernel: $(uname -r)"
echo "- $version ($src_bin), evalplus $("$venv_python" -c 'import evalplus; print(evalplus.__version__)'), $(/usr/bin/python3 --version) in both sandboxes, $("$venv_python" --version) running evalplus"
echo "- workers $workers, min_time_limit $min_time, gt_time_limit_factor / --time-limit-factor $factor, best of $rounds alternating runs"
echo "- load average at start: $(load)"
echo

rows=()
notes=()
for benchmark in $benchmarks; do
  case $benchmark in
    humaneval+) dataset=humaneval problems="$data/benchmarks/humanevalplus/HumanEvalPlus.jsonl.gz" ;;
    mbpp+) dataset=mbpp problems="$data/benchmarks/mbppplus/MbppPlus.jsonl.gz" ;;
    *) echo "error: unknown benchmark $benchmark" >&2; exit 1 ;;
  esac
  dir=$work/$dataset
  mkdir -p "$dir"
  "$venv_python" $peer samples "$problems" "$dir/samples.jsonl"
  n=$(wc -l < "$dir/samples.jsonl")

  ep_cmd=("$venv_python" $peer evaluate "$dataset" "$problems" "$dir/xdg" "$dir/samples.jsonl" "$workers" "$min_time" "$factor")
  ca_cmd() {  # ca_cmd SAMPLES OUT
    env XDG_CACHE_HOME="$dir/ca-xdg" "$bin" evaluate --benchmark "$benchmark" --data-dir "$data" \
      --samples "$1" --json --workers "$workers" --cache-dir "$dir/ca-cache" \
      --min-time-limit "$min_time" --time-limit-factor "$factor" --out "$2"
  }
  echo "## $benchmark: $n samples"
  echo
  echo '```'
  echo "${ep_cmd[*]}"
  echo "env XDG_CACHE_HOME=$dir/ca-xdg $src_bin evaluate --benchmark $benchmark --data-dir $data" \
       "--samples $dir/samples.jsonl --json --workers $workers --cache-dir $dir/ca-cache" \
       "--min-time-limit $min_time --time-limit-factor $factor --out RESULTS"
  echo '```'
  echo

  # Untimed warm-ups: each side records its ground truth into its fresh cache.
  t0=$(now)
  "$venv_python" $peer groundtruth "$dataset" "$problems" "$dir/xdg" > "$dir/ep-gt.log" 2>&1
  t1=$(now)
  head -n 1 "$dir/samples.jsonl" > "$dir/warmup.jsonl"
  ca_cmd "$dir/warmup.jsonl" "$dir/warmup.results.jsonl" > /dev/null 2> "$dir/ca-gt.log" || true
  t2=$(now)
  gt=("$dir"/ca-cache/ground-truth-*.jsonl)
  [[ -f ${gt[0]} ]] || { echo "error: codealign wrote no ground-truth cache" >&2; exit 1; }
  floor=$("$venv_python" $peer floor "$dir/xdg" "${gt[0]}")
  echo "- ground truth (untimed warm-up): evalplus $(calc "round($t1 - $t0, 1)") s, codealign $(calc "round($t2 - $t1, 1)") s"
  echo "- canonical solutions' own time inside their functions, all inputs, one core (recorded with the ground truth):" \
       "evalplus in-process $(field "$floor" 'd["evalplus_s"]') s, codealign sandbox $(field "$floor" 'd["codealign_s"]') s"

  ep_best="" ca_best="" ep_runs=() ca_runs=() loads=()
  for round in $(seq "$rounds"); do
    loads+=("$(load | cut -d' ' -f1)")
    t0=$(now)
    "${ep_cmd[@]}" > "$dir/ep-$round.out" 2> "$dir/ep-$round.log"
    t1=$(now)
    ep=$(tail -n 1 "$dir/ep-$round.out")
    loads+=("$(load | cut -d' ' -f1)")
    t2=$(now)
    ca_rc=0
    ca_cmd "$dir/samples.jsonl" "$dir/ca-$round.results.jsonl" > "$dir/ca-$round.json" 2> "$dir/ca-$round.log" || ca_rc=$?
    t3=$(now)
    [[ $ca_rc == 0 ]] || echo "note: codealign evaluate exited with status $ca_rc" >&2
    ca=$("$venv_python" $peer codealign "$dir/ca-$round.results.jsonl")
    ep_s=$(calc "round($t1 - $t0, 2)") ca_s=$(calc "round($t3 - $t2, 2)")
    ep_runs+=("$ep_s") ca_runs+=("$ca_s")
    echo "- run $round: evalplus ${ep_s} s (evaluate() itself $(field "$ep" 'd["seconds"]') s)," \
         "passed $(field "$ep" 'd["passed"]') (base $(field "$ep" 'd["base_passed"]'));" \
         "codealign ${ca_s} s (self-reported $(field "$(cat "$dir/ca-$round.json")" 'round(d["wall_seconds"], 2)') s)," \
         "passed $(field "$ca" 'd["passed"]') (base $(field "$ca" 'd["base_passed"]'))"
    for side in ep ca; do
      [[ $(field "${!side}" 'd["samples"]') == "$n" ]] || { echo "error: $side answered $(field "${!side}" 'd["samples"]') of $n samples" >&2; keep=1; exit 1; }
    done
    if [[ $(field "$ep" 'd["failed"]') != "$(field "$ca" 'd["failed"]')" ]]; then
      keep=1
      echo "  - DISAGREE: not passed by evalplus $(field "$ep" 'd["failed"]'), by codealign $(field "$ca" 'd["failed"]') (files kept in $work)"
    fi
    if [[ -z $ep_best ]] || (( $(calc "int($ep_s < $ep_best)") )); then ep_best=$ep_s ep_pass=$(field "$ep" 'd["passed"]'); fi
    if [[ -z $ca_best ]] || (( $(calc "int($ca_s < $ca_best)") )); then ca_best=$ca_s ca_pass=$(field "$ca" 'd["passed"]'); fi
  done
  # No cache of sample results on codealign's side: only the ground truth in --cache-dir, and
  # nothing under the XDG_CACHE_HOME it ran with.
  others=$(find "$dir/ca-cache" -type f ! -name 'ground-truth-*.jsonl' | wc -l)
  if [[ $others != 0 || -e $dir/ca-xdg ]]; then
    keep=1
    echo "- WARNING: codealign cached more than the ground truth: $(find "$dir/ca-cache" "$dir/ca-xdg" -type f 2>/dev/null | tr '\n' ' ')"
  fi
  agree=$([[ $ep_pass == "$ca_pass" ]] && echo yes || echo NO)
  echo "- 1-minute load average before each timed command: ${loads[*]}"
  echo
  rows+=("| $benchmark | $n | $ep_best (${ep_runs[*]}) | $ca_best (${ca_runs[*]}) | $(calc "round($ep_best / $ca_best, 2)")x | $ep_pass / $ca_pass $agree |")
done

echo "## Results"
echo
echo "| benchmark | samples | evalplus s, best (runs) | codealign s, best (runs) | evalplus / codealign | passed evalplus / codealign |"
echo "|---|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
echo
echo "load average at end: $(load)"
