"""Load for bench/serve_throughput.sh: REQUESTS SandboxFusion run_code requests from CLIENTS
keep-alive clients against URL, a fixed mix of short programs (passing, failing, raising, with
stdin), every answer checked. Prints one JSON line: requests/s and latency quantiles.

    python3 bench/serve_load.py URL REQUESTS CLIENTS
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

MIX = [  # (code, stdin, status, stdout)
    ("a, b = map(int, input().split())\nprint(a + b)", "{i} 1", "Success", "{i1}\n"),
    ("import collections\nprint(collections.Counter('abca').most_common(1)[0][0])", "", "Success", "a\n"),
    ("def f(x):\n    return x * 2\nassert f({i}) == 0, 'wrong'", "", "Failed", ""),
    ("print('{i}')\nraise ValueError('bad')", "", "Failed", "{i}\n"),
]


def request_for(i):
    code, stdin, status, stdout = MIX[i % len(MIX)]
    fill = lambda text: text.replace("{i1}", str(i + 1)).replace("{i}", str(i))
    body = {"compile_timeout": 10, "run_timeout": 10, "code": fill(code), "stdin": fill(stdin), "memory_limit_MB": 1024,
            "language": "python", "files": {}, "fetch_files": []}
    return json.dumps(body), status, fill(stdout)


def main():
    url, total, clients = urllib.parse.urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    next_index, lock = [0], threading.Lock()
    latencies, wrong = [], []

    def client():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                break
            body, status, stdout = request_for(i)
            start = time.monotonic()
            connection.request("POST", "/run_code", body, {"Content-Type": "application/json"})
            answer = json.loads(connection.getresponse().read())
            elapsed = time.monotonic() - start
            with lock:
                latencies.append(elapsed)
                if answer["status"] != status or answer["run_result"]["stdout"] != stdout:
                    wrong.append((i, answer))
        connection.close()

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - start
    latencies.sort()
    quantile = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(json.dumps({"requests": total, "clients": clients, "wall_s": round(wall, 3),
                      "requests_per_s": round(total / wall, 1), "p50_ms": round(1000 * quantile(0.5), 1),
                      "p90_ms": round(1000 * quantile(0.9), 1), "p99_ms": round(1000 * quantile(0.99), 1),
                      "wrong": len(wrong)}))
    if wrong:
        sys.exit(f"{len(wrong)} wrong answers, e.g. request {wrong[0][0]}: {wrong[0][1]}")


if __name__ == "__main__":
    main()
