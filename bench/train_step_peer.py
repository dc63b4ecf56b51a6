#!/usr/bin/env python3
"""The peer of `codealign train dpo` on CPU: TRL's own DPOTrainer on the same model directory
and the same data shapes. TRL loads the policy and, by default, a resident frozen reference
copy (no precomputed reference log-probs); sigmoid loss, beta 0.1, float32 (bf16 off), one
thread, the Trainer's default AdamW, gradient clipping at 1.0. Gradient checkpointing (TRL's
default) is off, as codealign does not recompute activations; --gradient-checkpointing turns
it on.

The data is built like bench/train_step.sh builds it for codealign: PAIRS pairs whose prompt
is BOS + PROMPT_TOKENS - 1 "▁x" tokens and whose chosen / rejected completions are
COMPLETION_TOKENS - 1 "▁y" / "▁z" tokens + EOS. The tokenizer is a transformers
LlamaTokenizer built from the directory's Llama-2 tokenizer.model, read with sentencepiece
(LlamaTokenizer.from_pretrained needs a protobuf that the pinned environment does not have);
the shapes are checked before training.

Step time: the wall time between the ends of consecutive optimizer steps (forward of the
reference and of the policy, backward, clipping, AdamW, the Trainer's bookkeeping), best of
STEPS - 1 after a warm-up step; step_cpu_s: the same for the process's CPU time (user + system),
which other load on a shared machine disturbs less. Peak RSS: getrusage of the whole process.
Usage: train_step_peer.py MODEL_DIR PAIRS PROMPT_TOKENS COMPLETION_TOKENS STEPS [--gradient-checkpointing]
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
warnings.filterwarnings("ignore", category=FutureWarning)  # gradient_checkpointing -> activation_checkpointing

import datasets  # noqa: E402
import sentencepiece  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from transformers import LlamaTokenizer, TrainerCallback  # noqa: E402
from transformers.tokenization_utils_base import generate_merges  # noqa: E402
from trl import DPOConfig, DPOTrainer  # noqa: E402


def llama_tokenizer(path):
    """A transformers LlamaTokenizer (BPE, byte fallback, BOS added) from a SentencePiece model,
    with the merges ordered by the pieces' scores, as transformers converts one."""
    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    scores = {sp.id_to_piece(i): sp.get_score(i) for i in range(sp.get_piece_size())}
    tokenizer = LlamaTokenizer(vocab=vocab, merges=generate_merges(vocab, scores), legacy=False, add_bos_token=True)
    probe = "def f(x):\n    return x  # ünïcode ✓"
    assert tokenizer(probe)["input_ids"] == [sp.bos_id()] + sp.encode(probe), "tokenizer differs from sentencepiece"
    return tokenizer


class StepTimer(TrainerCallback):
    def __init__(self):
        self.ends = []
        self.cpu_ends = []
        self.checkpointing = None

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self.ends.append(time.perf_counter())
        self.cpu_ends.append(time.process_time())
        self.checkpointing = model.is_activation_checkpointing


def peer_arguments(doc):
    """DIR COUNT PROMPT COMPLETION STEPS [--gradient-checkpointing] (this script's and
    grpo_step_peer.py's usage), with one thread and the libraries' progress output off."""
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 5 or set(flags) - {"--gradient-checkpointing"}:
        sys.exit(doc.rsplit("Usage: ", 1)[1])
    torch.set_num_threads(1)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    datasets.disable_caching()
    return (args[0], *map(int, args[1:5]), "--gradient-checkpointing" in flags)


def main():
    directory, pairs, prompt, completion, steps, checkpointing = peer_arguments(__doc__)

    import_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Python, torch, transformers, TRL
    tokenizer = llama_tokenizer(os.path.join(directory, "tokenizer.model"))
    row = {"prompt": " ".join(["x"] * (prompt - 1)), "chosen": " y" * (completion - 1),
           "rejected": " z" * (completion - 1)}
    data = datasets.Dataset.from_list([row] * pairs)

    with tempfile.TemporaryDirectory() as out:
        config = DPOConfig(
            output_dir=out, use_cpu=True, bf16=False, fp16=False, activation_checkpointing=checkpointing,
            per_device_train_batch_size=pairs, gradient_accumulation_steps=1, max_steps=steps,
            learning_rate=5e-7, beta=0.1, loss_type=["sigmoid"], max_length=prompt + completion + 8,
            max_grad_norm=1.0, model_init_kwargs={"dtype": torch.float32},
            logging_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True,
            dataloader_num_workers=0, seed=0)
        timer = StepTimer()
        trainer = DPOTrainer(model=directory, args=config, train_dataset=data, processing_class=tokenizer,
                             callbacks=[timer])
        assert trainer.ref_model is not None, "expected a resident reference model"
        assert next(trainer.model.parameters()).dtype == torch.float32 and torch.get_num_threads() == 1
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(pairs)])
        assert tuple(batch["input_ids"].shape) == (2 * pairs, prompt + completion), batch["input_ids"].shape
        assert int(batch["completion_mask"].sum()) == 2 * pairs * completion
        with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its summary; stdout is the JSON line
            trainer.train()
    assert len(timer.ends) == steps and timer.checkpointing == checkpointing, (timer.ends, timer.checkpointing)
    times = [b - a for a, b in zip(timer.ends, timer.ends[1:])]
    step = min(times)
    cpu = min(b - a for a, b in zip(timer.cpu_ends, timer.cpu_ends[1:]))
    tokens = 2 * pairs * (prompt + completion)
    print(json.dumps({"impl": "trl %s DPOTrainer%s" % (trl.__version__, ", gradient checkpointing" if checkpointing else ""),
                      "optim": getattr(config.optim, "value", config.optim), "step_s": step, "tokens_per_s": tokens / step,
                      "step_cpu_s": cpu,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "import_rss_mib": import_rss}))


if __name__ == "__main__":
    main()
