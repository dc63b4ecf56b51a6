#!/usr/bin/env bash
# `codealign serve` against a SandboxFusion-style server (bench/serve_peer.py: a python3
# subprocess per request), same machine, same run, same load (bench/serve_load.py): requests/s
# and latency quantiles, every answer checked (docs/BENCHMARKS.md).
#   bench/serve_throughput.sh     REQUESTS=2000 CLIENTS="1 20" WORKERS=$(nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target codealign >/dev/null
requests=${REQUESTS:-2000} workers=${WORKERS:-$(nproc)}
python=/usr/bin/python3
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true' EXIT

# Starts a server command, waits for its "listening on URL" line, sets server_pid and url.
start() {
  local fifo
  fifo=$(mktemp -u)
  mkfifo "$fifo"
  "$@" >"$fifo" 2>/dev/null &
  server_pid=$!
  url=$(grep -m1 -o 'http://[0-9.:]*' <"$fifo")
  rm -f "$fifo"
}
stop() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $requests requests; codealign -j $workers"
printf '%-10s %8s %12s %9s %9s %9s\n' server clients requests/s p50_ms p90_ms p99_ms
for clients in ${CLIENTS:-1 20}; do
  for server in codealign peer; do
    if [ "$server" = codealign ]; then start build/src/codealign serve --port 0 -j "$workers" --max-queue 256
    else start "$python" bench/serve_peer.py 0; fi
    "$python" bench/serve_load.py "$url" "$requests" "$clients" >/tmp/serve_load.$$.json
    stop
    "$python" -c "import json,sys; r=json.load(open(sys.argv[1])); print('%-10s %8d %12.1f %9.1f %9.1f %9.1f' % (sys.argv[2], r['clients'], r['requests_per_s'], r['p50_ms'], r['p90_ms'], r['p99_ms']))" /tmp/serve_load.$$.json "$server"
    rm -f /tmp/serve_load.$$.json
  done
done
