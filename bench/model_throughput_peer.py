#!/usr/bin/env python3
"""The peer of bench/model_throughput.cpp: the same model directory run by transformers'
LlamaForCausalLM (AutoModelForCausalLM.from_pretrained, float32, one thread, eval, no_grad),
measuring the same two things with the same shapes:
- prefill: one forward over [B, T] without a cache, tokens/s (best of 3 after a warm-up);
- decode: greedy `model.generate` with max_new_tokens=N and min_new_tokens=N (eos disabled),
  continuing from that prefill's KV cache, new tokens/s over B rows (best of 2). As in
  model_throughput.cpp, the prefill that fills the cache and picks the first token is
  untimed; the timed part is generate's N one-token forwards with its sampling loop.
Usage: model_throughput_peer.py DIR B T N  -> one JSON line."""
import json
import sys
import time

import torch
import transformers
from transformers import AutoModelForCausalLM

transformers.utils.logging.disable_progress_bar()


def main():
    directory, batch, length, new = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    ids = torch.randint(3, model.config.vocab_size, (batch, length))
    with torch.no_grad():
        model(ids, use_cache=False)  # warm-up
        prefill = min(timed(lambda: model(ids, use_cache=False)) for _ in range(3))
        decode = float("inf")
        for _ in range(2):
            out = model(ids, use_cache=True)  # the prefill, untimed: fills the cache, picks token 1
            prompt = torch.cat([ids, out.logits[:, -1].argmax(-1, keepdim=True)], 1)
            start = time.perf_counter()
            generated = model.generate(prompt, attention_mask=torch.ones_like(prompt),
                                       past_key_values=out.past_key_values, do_sample=False,
                                       max_new_tokens=new, min_new_tokens=new, eos_token_id=None,
                                       pad_token_id=0)
            decode = min(decode, time.perf_counter() - start)
            assert generated.shape == (batch, length + 1 + new), generated.shape
    print(json.dumps({"impl": "transformers %s" % transformers.__version__,
                      "attn": model.config._attn_implementation,
                      "prefill_tokens_per_s": batch * length / prefill,
                      "decode_tokens_per_s": batch * new / decode}))


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
