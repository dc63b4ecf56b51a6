#!/usr/bin/env python3
"""The PyTorch side of bench/gpu.sh: random Qwen2.5-Coder-shaped models, and the peers that
codealign is measured against in the same run (docs/BENCHMARKS.md, "GPU").

  gpu_peer.py make DIR SIZE TOKENIZER_JSON   SIZE: 0.5b, 1.5b or tiny (for a CPU dry run)
      random weights (transformers' init, seed 0) saved in bfloat16, with the tokenizer
  gpu_peer.py ids DIR B T OUT                  random [B, T] ids (JSON) below the tokenizer's size
  gpu_peer.py parity DIR DEVICE IDS CODEALIGN_LOGITS DTYPE
      transformers' logits for IDS in DTYPE against codealign's raw float32 file
  gpu_peer.py greedy DIR DEVICE IDS NEW CODEALIGN_JSON   transformers' greedy ids against codealign's
  gpu_peer.py pairs DIR PAIRS PROMPT COMPLETION OUT   TRL pairs: PROMPT prompt tokens, COMPLETION
      completion ids each (chosen_ids / rejected_ids)
  gpu_peer.py dpo DIR DEVICE PAIRS PROMPT COMPLETION STEPS
      a TRL-style DPO step: float32 policy and a resident float32 reference (TRL's deepcopy),
      bfloat16 autocast, chosen and rejected concatenated in one forward, full-vocabulary logits
      upcast to float32 and log_softmax'ed, sigmoid loss (beta 0.1), clipping at 1.0, fused
      AdamW; tokens/s over STEPS - 1 steps after a warm-up, peak memory of tensors
  gpu_peer.py groups DIR G PROMPT COMPLETION OUT   GRPO groups: one prompt of PROMPT tokens, G
      completions of COMPLETION ids each, rewards 0..G-1
  gpu_peer.py grpo DIR DEVICE G PROMPT COMPLETION STEPS
      a TRL-style GRPO step (TRL's defaults: dapo loss, beta 0, one iteration): float32 policy,
      bfloat16 autocast, full-vocabulary logits upcast to float32 and log_softmax'ed, the
      entropy TRL logs, group advantages, clipping at 1.0, fused AdamW; tokens/s over STEPS - 1
      steps after a warm-up, peak memory of tensors
  gpu_peer.py generate DIR DEVICE B PROMPT NEW [static-compile]
      transformers.generate, sampling at temperature 1 (no top-k), exactly NEW tokens per row;
      static-compile: a static cache and torch.compile, as transformers documents for speed
Every command prints one JSON line."""
import json
import shutil
import sys
import time

import torch

SHAPES = {  # Qwen2.5-Coder's config.json values
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2),
}


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load(directory, device, dtype):
    import transformers
    return transformers.AutoModelForCausalLM.from_pretrained(directory, dtype=dtype).to(device)


def make(directory, size, tokenizer_json):
    import transformers
    torch.manual_seed(0)
    config = transformers.Qwen2Config(vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0,
                                      rms_norm_eps=1e-6, tie_word_embeddings=True, **SHAPES[size])
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = transformers.Qwen2ForCausalLM(config)
    model.to(torch.bfloat16).save_pretrained(directory, safe_serialization=True)
    shutil.copy(tokenizer_json, f"{directory}/tokenizer.json")
    print(json.dumps({"made": size, "parameters": sum(p.numel() for p in model.parameters())}))


def random_ids(directory, B, T, out):
    import tokenizers
    vocab = tokenizers.Tokenizer.from_file(f"{directory}/tokenizer.json").get_vocab_size()
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, min(vocab, 151643), (B, T), generator=generator)  # ordinary tokens only
    json.dump(ids.tolist(), open(out, "w"))


def parity(directory, device, ids_path, ours_path, dtype_name):
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype_name]
    ids = torch.tensor(json.load(open(ids_path)), device=device)
    with torch.no_grad():
        theirs = load(directory, device, dtype)(ids).logits.float().cpu()
    ours = torch.frombuffer(bytearray(open(ours_path, "rb").read()), dtype=torch.float32).view(theirs.shape)
    difference = (ours - theirs).abs()
    print(json.dumps({"check": "logits", "dtype": dtype_name, "shape": list(theirs.shape),
                      "max_abs_diff": difference.max().item(), "mean_abs_diff": difference.mean().item(),
                      "max_abs_logit": theirs.abs().max().item(),
                      "relative_max_diff": (difference.max() / theirs.abs().max()).item(),
                      "argmax_agreement": (ours.argmax(-1) == theirs.argmax(-1)).float().mean().item()}))


def greedy(directory, device, ids_path, new, ours_path):
    ids = torch.tensor(json.load(open(ids_path)), device=device)
    model = load(directory, device, torch.float32)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=new,
                             min_new_tokens=new, pad_token_id=0)
    theirs = out[:, ids.shape[1]:].tolist()
    ours = json.loads(open(ours_path).read())
    same_rows = sum(a == b for a, b in zip(ours, theirs))
    first_difference = [next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), len(a)) for a, b in zip(ours, theirs)]
    print(json.dumps({"check": "greedy float32", "rows": len(theirs), "identical_rows": same_rows,
                      "tokens_before_first_difference": first_difference}))


def finish_step(policy, optimizer, loss, device, ends, *logged):
    """Backward, clipping at 1.0, the AdamW step; reads the loss (and `logged`) back as TRL logs
    them every step, and records when the step ended."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    for value in (loss, *logged):
        value.item()
    sync(device)
    ends.append(time.perf_counter())


def report_steps(ends, tokens, device):
    """The JSON line of a peer step: time per step after the first, tokens/s, peak memory."""
    step = (ends[-1] - ends[0]) / (len(ends) - 1)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else 0.0
    print(json.dumps({"impl": "trl-style pytorch", "step_s": step, "tokens_per_s": tokens / step,
                      "peak_memory_gib": peak}))


def prompt_text(directory, prompt):
    """PROMPT tokens of the directory's tokenizer: " x" repeated, each one token."""
    import tokenizers
    tok = tokenizers.Tokenizer.from_file(f"{directory}/tokenizer.json")
    text = " x" * prompt
    assert len(tok.encode(text).ids) == prompt, "' x' is not one token"
    return text


def pairs(directory, count, prompt, completion, out):
    text = prompt_text(directory, prompt)
    with open(out, "w") as f:
        for i in range(count):
            f.write(json.dumps({"prompt": text, "chosen": " y", "rejected": " z",  # the ids below are used
                                "chosen_ids": [100 + (i + k) % 1000 for k in range(completion)],
                                "rejected_ids": [2000 + (i + k) % 1000 for k in range(completion)]}) + "\n")


def sequence_logps(model, ids, prompt):
    logits = model(ids).logits[:, prompt - 1:-1].float()  # TRL upcasts the logits before log_softmax
    return torch.log_softmax(logits, -1).gather(-1, ids[:, prompt:, None]).squeeze(-1).sum(-1)


def dpo(directory, device, count, prompt, completion, steps):
    import copy
    torch.manual_seed(0)
    policy = load(directory, device, torch.float32)
    policy.train()
    reference = copy.deepcopy(policy).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=5e-7, fused=device.startswith("cuda"))
    vocab = 151643
    ids = torch.randint(0, vocab, (2 * count, prompt + completion), device=device)
    ids[count:, :prompt] = ids[:count, :prompt]  # chosen and rejected share the prompt
    sync(device)
    torch.cuda.reset_peak_memory_stats() if device.startswith("cuda") else None
    ends = []
    for _ in range(steps):
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16):
            with torch.no_grad():
                reference_logps = sequence_logps(reference, ids, prompt)
            logps = sequence_logps(policy, ids, prompt)
            ratios = (logps - reference_logps).float()
            loss = -torch.nn.functional.logsigmoid(0.1 * (ratios[:count] - ratios[count:])).mean()
        finish_step(policy, optimizer, loss, device, ends)
    report_steps(ends, ids.numel(), device)


def groups(directory, count, prompt, completion, out):
    text = prompt_text(directory, prompt)
    line = {"prompt": text, "completions": [{"completion": " y", "reward": float(i),  # the ids below are used
                                             "completion_ids": [100 + (i + k) % 1000 for k in range(completion)]}
                                            for i in range(count)]}
    with open(out, "w") as f:
        f.writelines(json.dumps(line) + "\n" for _ in range(64))


def grpo(directory, device, count, prompt, completion, steps):
    torch.manual_seed(0)
    policy = load(directory, device, torch.float32)
    policy.train()
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-6, fused=device.startswith("cuda"))
    ids = torch.randint(0, 151643, (count, prompt + completion), device=device)
    ids[:, :prompt] = ids[0, :prompt]  # one prompt, G completions
    rewards = torch.arange(count, dtype=torch.float32, device=device)
    advantages = ((rewards - rewards.mean()) / (rewards.std() + 1e-4))[:, None]
    sync(device)
    torch.cuda.reset_peak_memory_stats() if device.startswith("cuda") else None
    ends = []
    for _ in range(steps):
        with torch.autocast(device.split(":")[0], dtype=torch.bfloat16):
            logits = policy(ids).logits[:, prompt - 1:-1].float()
            logps = torch.log_softmax(logits, -1)
            token_logps = logps.gather(-1, ids[:, prompt:, None]).squeeze(-1)
            with torch.no_grad():
                entropy = -(logps.exp() * logps).sum(-1).mean()
            ratio = torch.exp(token_logps - token_logps.detach())
            per_token = -torch.min(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages)
            loss = per_token.sum() / per_token.numel()
        finish_step(policy, optimizer, loss, device, ends, entropy)
    report_steps(ends, ids.numel(), device)


def generate(directory, device, B, prompt, new, mode):
    model = load(directory, device, torch.bfloat16).eval()
    ids = torch.randint(0, 151643, (B, prompt), device=device, generator=torch.Generator(device).manual_seed(0))
    options = dict(attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                   max_new_tokens=new, min_new_tokens=new, pad_token_id=0)
    if mode == "static-compile":
        options["cache_implementation"] = "static"
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
    with torch.no_grad():
        for _ in range(2 if mode == "static-compile" else 1):  # compiles (twice: prefill and decode shapes)
            model.generate(ids, **options)
        sync(device)
        start = time.perf_counter()
        out = model.generate(ids, **options)
        sync(device)
    seconds = time.perf_counter() - start
    made = (out.shape[1] - prompt) * B
    print(json.dumps({"impl": f"transformers.generate {mode}", "new_tokens": made, "seconds": seconds,
                      "tokens_per_s": made / seconds}))


def main():
    import transformers
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    command, args = sys.argv[1], sys.argv[2:]
    if command == "make":
        make(*args)
    elif command == "ids":
        random_ids(args[0], int(args[1]), int(args[2]), args[3])
    elif command == "parity":
        parity(*args)
    elif command == "greedy":
        greedy(args[0], args[1], args[2], int(args[3]), args[4])
    elif command == "pairs":
        pairs(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
    elif command == "dpo":
        dpo(args[0], args[1], *map(int, args[2:6]))
    elif command == "groups":
        groups(args[0], int(args[1]), int(args[2]), int(args[3]), args[4])
    elif command == "grpo":
        grpo(args[0], args[1], *map(int, args[2:6]))
    elif command == "generate":
        generate(args[0], args[1], *map(int, args[2:5]), args[5] if len(args) > 5 else "default")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
