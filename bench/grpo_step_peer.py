#!/usr/bin/env python3
"""The peer of `codealign train grpo` on CPU: TRL's own GRPOTrainer on the same model directory
and shapes, with generation bypassed (rollout_func returns fixed ids, as tests/reference/
test_grpo.py does) so that both sides time the training step alone: per step one group of G
completions of one prompt, the prompt BOS + PROMPT_TOKENS - 1 "▁x" tokens, each completion
COMPLETION_TOKENS - 1 "▁y" tokens + EOS, rewards 0..G-1. TRL's defaults otherwise (dapo loss,
beta 0: no reference model), float32 (bf16 off), one thread, clipping at 1.0, gradient
checkpointing off as in codealign (--gradient-checkpointing: on).

Step time: the wall time between the ends of consecutive optimizer steps, best of STEPS - 1
after a warm-up; step_cpu_s the same in process CPU time; peak RSS from getrusage.
Usage: grpo_step_peer.py MODEL_DIR G PROMPT_TOKENS COMPLETION_TOKENS STEPS [--gradient-checkpointing]
  -> one JSON line."""
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
import warnings

import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
warnings.filterwarnings("ignore", category=FutureWarning)

import datasets  # noqa: E402
import sentencepiece  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from train_step_peer import StepTimer, llama_tokenizer, peer_arguments  # noqa: E402


def main():
    directory, group, prompt, completion, steps, checkpointing = peer_arguments(__doc__)

    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokenizer = llama_tokenizer(os.path.join(directory, "tokenizer.model"))
    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(directory, "tokenizer.model"))
    prompt_ids = [sp.bos_id()] + [sp.piece_to_id("▁x")] * (prompt - 1)
    completion_ids = [sp.piece_to_id("▁y")] * (completion - 1) + [sp.eos_id()]

    def rollout(prompts, trainer):
        return {"prompt_ids": [prompt_ids] * len(prompts), "completion_ids": [completion_ids] * len(prompts),
                "logprobs": None}

    def reward(completion_ids, **kwargs):
        return [float(i % group) for i in range(len(completion_ids))]

    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            output_dir=out, use_cpu=True, bf16=False, fp16=False, activation_checkpointing=checkpointing,
            per_device_train_batch_size=group, num_generations=group, gradient_accumulation_steps=1,
            max_steps=steps, learning_rate=1e-6, max_completion_length=completion, max_grad_norm=1.0,
            model_init_kwargs={"dtype": torch.float32}, logging_strategy="no", save_strategy="no", report_to="none",
            disable_tqdm=True, dataloader_num_workers=0, seed=0)
        timer = StepTimer()
        trainer = GRPOTrainer(model=directory, reward_funcs=reward, args=config,
                              train_dataset=datasets.Dataset.from_list([{"prompt": "x"}] * steps),
                              processing_class=tokenizer, rollout_func=rollout, callbacks=[timer])
        assert trainer.ref_model is None and next(trainer.model.parameters()).dtype == torch.float32
        with contextlib.redirect_stdout(sys.stderr):
            trainer.train()
    assert len(timer.ends) == steps and timer.checkpointing == checkpointing, (timer.ends, timer.checkpointing)
    step = min(b - a for a, b in zip(timer.ends, timer.ends[1:]))
    cpu = min(b - a for a, b in zip(timer.cpu_ends, timer.cpu_ends[1:]))
    tokens = group * (prompt + completion)
    print(json.dumps({"impl": "trl %s GRPOTrainer%s" % (trl.__version__, ", gradient checkpointing" if checkpointing else ""),
                      "step_s": step, "tokens_per_s": tokens / step, "step_cpu_s": cpu,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "import_rss_mib": import_rss}))


if __name__ == "__main__":
    main()
