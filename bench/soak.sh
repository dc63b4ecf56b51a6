#!/usr/bin/env bash
# The long-run check of `codealign serve` (issue 30): JOBS mixed /run_code jobs (honest programs,
# crashes, forks that outlive their job, fork, output, memory and descriptor floods, timeouts,
# files in and out) from CLIENTS clients while a worker is SIGKILLed every KILL_EVERY seconds;
# every answer checked, then no leaked process, zombie, descriptor, memory growth or /tmp entry
# (bench/soak_load.py). Prints one JSON line; fails on any failure. Run it on a quiet machine: a
# new /tmp entry from another program would count.
#   bench/soak.sh     JOBS=10000 CLIENTS=20 KILL_EVERY=3
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target codealign >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
exec /usr/bin/python3 bench/soak_load.py build/src/codealign "${JOBS:-10000}" "${CLIENTS:-20}" "${KILL_EVERY:-3}"
