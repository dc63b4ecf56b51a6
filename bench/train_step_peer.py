#!/usr/bin/env python3
"""The peer of `codealign train dpo` on CPU: a TRL-style DPO step in PyTorch eager. The
policy and a frozen reference copy are both resident; chosen and rejected go through one
forward; full-vocabulary float32 log-softmax, gather, sigmoid loss, AdamW.
Usage: train_step_peer.py MODEL_DIR PAIRS PROMPT_TOKENS COMPLETION_TOKENS STEPS -> one JSON line."""
import copy
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from model_throughput_peer import Model  # noqa: E402


def main():
    directory, pairs, prompt, completion, steps = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    policy = Model(directory)
    reference = copy.deepcopy(policy)
    for w in policy.w.values():
        w.requires_grad_(True)
    optimizer = torch.optim.AdamW(policy.w.values(), lr=5e-7, weight_decay=0.0)
    vocab = policy.c["vocab_size"]
    ids = torch.randint(3, vocab, (2 * pairs, prompt + completion))  # chosen rows, then rejected rows
    mask = torch.zeros_like(ids, dtype=torch.bool)
    mask[:, prompt:] = True

    def logps(model, grad):
        with torch.set_grad_enabled(grad):
            logits = model.forward(ids, 0, {})[:, :-1].float()
            per_token = logits.log_softmax(-1).gather(2, ids[:, 1:, None]).squeeze(2)
            return (per_token * mask[:, 1:]).sum(-1)

    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with torch.no_grad():
            ref = logps(reference, False)
        pol = logps(policy, True)
        h = (pol[:pairs] - ref[:pairs]) - (pol[pairs:] - ref[pairs:])
        loss = -torch.nn.functional.logsigmoid(0.1 * h).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.w.values(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    tokens = 2 * pairs * (prompt + completion)
    step = min(times[1:]) if len(times) > 1 else times[0]
    print(json.dumps({"impl": "pytorch-eager (TRL-style)", "step_s": step, "tokens_per_s": tokens / step,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
