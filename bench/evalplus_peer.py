#!/usr/bin/env python3
"""evalplus's own evaluator as the peer of `codealign evaluate --benchmark humaneval+/mbpp+`
(bench/evalplus_throughput.sh). Offline: the dataset is the repo's release file
(HUMANEVAL_OVERRIDE_PATH / MBPP_OVERRIDE_PATH) and the ground-truth cache lives under CACHE
(XDG_CACHE_HOME, which appdirs reads), both set here before evalplus is imported.

  evalplus_peer.py samples PROBLEMS OUT
      the canonical solution of every task as a whole-program sample (prompt + canonical_solution,
      the program evalplus itself runs for its ground truth)
  evalplus_peer.py groundtruth DATASET PROBLEMS CACHE
      fill evalplus's ground-truth cache only (the untimed warm-up)
  evalplus_peer.py evaluate DATASET PROBLEMS CACHE SAMPLES WORKERS MIN_TIME_LIMIT FACTOR
      evalplus.evaluate.evaluate on SAMPLES (any earlier SAMPLES_eval_results.json is removed
      first: evalplus would load it instead of evaluating); prints one JSON line
      {"samples", "base_passed", "passed", "failed", "seconds"} where passed is base and plus
      tests, failed the task ids of the samples that did not pass, seconds evaluate()'s own time
  evalplus_peer.py codealign RESULTS
      the same counts (no seconds) from `codealign evaluate`'s per-sample results JSONL
  evalplus_peer.py floor CACHE CODEALIGN_GROUND_TRUTH
      seconds the canonical solutions spend inside their functions on all inputs, as timed when
      the ground truth was recorded: by evalplus in-process (its pickle under CACHE) and by
      codealign in its sandbox (the ground-truth JSONL of --cache-dir); the work any evaluator of
      these samples must do, before process starts and comparisons

DATASET is humaneval or mbpp. Patch: evalplus 0.3.1's find_zero oracle (HumanEval/32)
`continue`s before recording the input as passed, so every program fails it; the two lines
fixed upstream are added here (as tests/reference/test_evaluation.py does), and a different
evalplus fails loudly instead of going unpatched."""
import json
import os
import sys
import time


def load_evalplus(problems, cache):
    os.environ["HUMANEVAL_OVERRIDE_PATH"] = problems
    os.environ["MBPP_OVERRIDE_PATH"] = problems
    os.environ["XDG_CACHE_HOME"] = cache
    import evalplus.eval
    source = open(evalplus.eval.__file__).read()
    old = "assert abs(_poly(*inp, out)) <= atol\n" + " " * 28 + "continue"
    new = old.replace("continue", "details[i] = True\n" + " " * 28 + "progress.value += 1\n" + " " * 28 + "continue")
    assert source.count(old) == 1, "evalplus's find_zero oracle is not the one of 0.3.1: review the patch"
    exec(compile(source.replace(old, new), evalplus.eval.__file__, "exec"), evalplus.eval.__dict__)
    import evalplus.evaluate
    return evalplus.evaluate


def problems_and_truth(ev, dataset):
    if dataset == "humaneval":
        problems = ev.get_human_eval_plus()
        return problems, ev.get_groundtruth(problems, ev.get_human_eval_plus_hash(), [])
    problems = ev.get_mbpp_plus()
    return problems, ev.get_groundtruth(problems, ev.get_mbpp_plus_hash(), ev.MBPP_OUTPUT_NOT_NONE_TASKS)


def counts(samples):
    """samples: (task_id, base passed, base and plus passed) triples."""
    return {"samples": len(samples), "base_passed": sum(s[1] for s in samples),
            "passed": sum(s[2] for s in samples), "failed": sorted(s[0] for s in samples if not s[2])}


def main(argv):
    mode = argv[1]
    if mode == "codealign":
        with open(argv[2]) as f:
            results = [json.loads(line) for line in f]
        print(json.dumps(counts([(r["task_id"], r["passed"], r.get("plus_passed", False)) for r in results])))
        return
    if mode == "floor":
        import glob
        import pickle
        (pkl,) = glob.glob(os.path.join(argv[2], "evalplus", "*.pkl"))
        with open(pkl, "rb") as f:
            truth = pickle.load(f).values()
        evalplus_s = sum(sum(t["base_time"]) + sum(t["plus_time"]) for t in truth)
        with open(argv[3]) as f:
            truth = [json.loads(line) for line in f]
        codealign_s = sum(sum(t["base_times"]) + sum(t["plus_times"]) for t in truth)
        print(json.dumps({"evalplus_s": round(evalplus_s, 2), "codealign_s": round(codealign_s, 2)}))
        return
    if mode == "samples":
        import gzip
        with gzip.open(argv[2], "rt") as src, open(argv[3], "w") as out:
            for line in src:
                task = json.loads(line)
                out.write(json.dumps({"task_id": task["task_id"],
                                      "solution": task["prompt"] + task["canonical_solution"]}) + "\n")
        return
    dataset, problems, cache = argv[2], argv[3], argv[4]
    ev = load_evalplus(problems, cache)
    if mode == "groundtruth":
        problems_and_truth(ev, dataset)
        return
    assert mode == "evaluate", mode
    samples, workers, min_time_limit, factor = argv[5], int(argv[6]), float(argv[7]), float(argv[8])
    result_path = samples.replace(".jsonl", "_eval_results.json")
    if os.path.exists(result_path):
        os.remove(result_path)
    start = time.monotonic()
    ev.evaluate(dataset=dataset, samples=samples, parallel=workers,
                min_time_limit=min_time_limit, gt_time_limit_factor=factor)
    seconds = time.monotonic() - start
    with open(result_path) as f:
        results = [r for rs in json.load(f)["eval"].values() for r in rs]
    print(json.dumps({**counts([(r["task_id"], r["base_status"] == "pass", r["base_status"] == r["plus_status"] == "pass")
                                for r in results]), "seconds": round(seconds, 3)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
    # evaluate() leaves a non-daemon watchdog thread sleeping in 20 s steps behind (it would hold
    # the process up to 20 s after the results are written): leave without joining it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
