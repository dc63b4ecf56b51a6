"""The soak of bench/soak.sh: JOBS SandboxFusion /run_code requests from CLIENTS keep-alive
clients against a `codealign serve` this script starts, a fixed mix of honest and hostile
programs (crashes, exits, forks that outlive the job, fork floods, output and memory floods,
descriptor floods, timeouts, files in and out), while a worker is killed from outside every
KILL_EVERY seconds. Every answer is checked against what its program must give. Then, with the
load gone, the server must hold what it held after the warm-up: its processes (none extra, no
zombie), its descriptors and its memory (RSS growth under a bound); /tmp has no new entry, and
stopping the server leaves no process behind. Prints one JSON line; exits 1 on any failure.

    python3 bench/soak_load.py CODEALIGN JOBS CLIENTS [KILL_EVERY]
"""
import base64
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

# Memory: the server's RSS rises while its allocator's per-thread arenas fill, then stays. A leak
# keeps rising: the second half of the run may add at most this (a leak of 4 KiB a job would add
# about 20 MB over 5,000 jobs).
RSS_GROWTH_LIMIT_MB = 8


def b64(text):
    return base64.b64encode(text.encode()).decode()


# (weight, request fields, check of the answer) per kind; {i} is the request's number.
def kinds(i):
    honest = ("print(int(input()) + 1)", {"stdin": str(i)}, lambda a: ok(a, "%d\n" % (i + 1)))
    return [
        (30, honest),
        (8, ("raise ValueError('bad %d')" % i, {},
             lambda a: failed(a, 1) and ("ValueError: bad %d" % i) in a["run_result"]["stderr"])),
        (5, ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", {}, lambda a: failed(a, -11))),
        (5, ("import sys\nsys.exit(3)", {}, lambda a: failed(a, 3))),
        (10, ("import os, time\nif os.fork() == 0:\n    time.sleep(1000)\nprint('parent %d')" % i, {},
              lambda a: ok(a, "parent %d\n" % i))),
        (3, ("import os\nfor _ in range(16):\n    if os.fork() == 0:\n        while True:\n            pass\n"
             "print('flood %d')" % i, {}, lambda a: ok(a, "flood %d\n" % i))),
        (3, ("import sys\nsys.stdout.write('x' * (8 << 20))", {},
             lambda a: a["status"] == "Success" and a["run_result"]["stdout"] == "x" * (1 << 20))),
        (3, ("x = bytearray(16 << 30)", {"memory_limit_MB": 256},
             lambda a: failed(a, 1) and "MemoryError" in a["run_result"]["stderr"])),
        (3, ("fs = [open('/dev/null') for _ in range(100)]\nprint(len(fs))", {}, lambda a: ok(a, "100\n"))),
        (2, ("while True:\n    pass", {"run_timeout": 0.5},
             lambda a: a["status"] == "Failed" and a["run_result"]["status"] == "TimeLimitExceeded")),
        (8, ("import os\nos.makedirs('out/deep')\nopen('out/deep/r.txt', 'w').write(open('in.txt').read() * 2)\nprint('ok')",
             {"files": {"in.txt": b64(str(i))}, "fetch_files": ["out/deep/r.txt"]},
             lambda a: ok(a, "ok\n") and a["files"] == {"out/deep/r.txt": b64(str(i) * 2)})),
    ]


def ok(answer, stdout):
    return answer["status"] == "Success" and answer["run_result"]["stdout"] == stdout


def failed(answer, code):
    return (answer["status"] == "Failed" and answer["run_result"]["status"] == "Finished"
            and answer["run_result"]["return_code"] == code)


def request_for(i, rng):
    table = kinds(i)
    (code, fields, check), = rng.choices([k for _, k in table], weights=[w for w, _ in table])
    body = {"code": code, "language": "python", "run_timeout": 10, **fields}
    return json.dumps(body), check


def process_table():
    """{pid: (parent pid, state)} of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), fields[0])
    return table


def descendants(root):
    """{pid: state} of every process below `root`."""
    children = {}
    for pid, (parent, state) in process_table().items():
        children.setdefault(parent, []).append((pid, state))
    found, stack = {}, [root]
    while stack:
        for pid, state in children.get(stack.pop(), []):
            found[pid] = state
            stack.append(pid)
    return found


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as status:
        return round(int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) / 1024, 1)


def snapshot(pid):
    processes = descendants(pid)
    return {"processes": len(processes), "zombies": sum(state == "Z" for state in processes.values()),
            "descriptors": len(os.listdir("/proc/%d/fd" % pid)), "rss_mb": rss_mb(pid)}


def run_clients(port, first, count, clients, seed):
    """Sends requests first..first+count-1 from `clients` threads; the wrong answers."""
    rng_lock, next_index, wrong = threading.Lock(), [first], []
    rng = random.Random(seed)

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with rng_lock:
                i = next_index[0]
                next_index[0] += 1
                if i >= first + count:
                    break
                body, check = request_for(i, rng)
            try:
                connection.request("POST", "/run_code", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                right = response.status == 200 and check(answer)
            except (OSError, http.client.HTTPException, ValueError) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                answer, right = repr(error), False
            if not right:
                with rng_lock:
                    wrong.append((i, json.loads(body)["code"][:60], str(answer)[:300]))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wrong


def kill_workers(server_pid, every_s, stop, killed):
    """SIGKILLs a random worker (a direct child of the server: the judge) every `every_s` seconds."""
    rng = random.Random(7)
    while not stop.wait(every_s):
        workers = [pid for pid, (parent, _) in process_table().items() if parent == server_pid]
        if workers:
            try:
                os.kill(rng.choice(workers), signal.SIGKILL)
                killed[0] += 1
            except ProcessLookupError:
                pass


def main():
    binary, total, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kill_every = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    tmp_before = set(os.listdir("/tmp"))
    server = subprocess.Popen([binary, "serve", "--port", "0", "--max-queue", "256"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r"http://[\d.]+:(\d+)", server.stdout.readline()).group(1))
    warm = min(500, total // 10)
    wrong = run_clients(port, 0, warm, clients, seed=1)  # every worker started, allocator settled
    time.sleep(3)  # keep-alive connections close (2 s)
    before = snapshot(server.pid)
    stop, killed = threading.Event(), [0]
    killer = threading.Thread(target=kill_workers, args=(server.pid, kill_every, stop, killed))
    killer.start()
    start = time.monotonic()
    half = (total - warm) // 2
    wrong += run_clients(port, warm, half, clients, seed=2)
    rss_half_way = rss_mb(server.pid)
    wrong += run_clients(port, warm + half, total - warm - half, clients, seed=3)
    seconds = time.monotonic() - start
    stop.set()
    killer.join()
    run_clients(port, total, 20, 2, seed=4)  # every worker killed last has been restarted
    time.sleep(3)
    after = snapshot(server.pid)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    time.sleep(0.5)
    left_behind = len(descendants(server.pid))
    new_tmp = sorted(set(os.listdir("/tmp")) - tmp_before)
    failures = []
    if wrong:
        failures.append("%d wrong answers, e.g. %s" % (len(wrong), wrong[:3]))
    for key in ("processes", "zombies", "descriptors"):
        if after[key] != before[key]:
            failures.append("%s: %d after the warm-up, %d at the end" % (key, before[key], after[key]))
    if after["rss_mb"] - rss_half_way > RSS_GROWTH_LIMIT_MB:
        failures.append("RSS grew from %.1f MB half-way to %.1f MB" % (rss_half_way, after["rss_mb"]))
    if left_behind:
        failures.append("%d processes left after the server stopped" % left_behind)
    if new_tmp:
        failures.append("new /tmp entries: %s" % new_tmp[:5])
    print(json.dumps({"jobs": total, "clients": clients, "seconds": round(seconds, 1),
                      "jobs_per_s": round((total - warm) / seconds, 1), "worker_kills": killed[0],
                      "wrong": len(wrong), "before": before, "rss_mb_half_way": rss_half_way, "after": after, "left_behind": left_behind,
                      "new_tmp_entries": len(new_tmp), "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
