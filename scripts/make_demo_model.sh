#!/usr/bin/env bash
# Makes the demo's base model (data/demo-model) from nothing but codealign and random weights:
#   1. SFT examples from builtin:train[:19000] (the last 1,000 stay unseen: the demo's settings
#      were chosen on 300 of them), a stated fraction of them with a realistic bug;
#   2. a 1,024-id byte-level BPE vocabulary learned on them (codealign tokenizer train);
#   3. a random 2M-parameter Llama (transformers, seeded);
#   4. codealign train sft from scratch.
# About 10 CPU-minutes. data/demo-model was made by this script with its defaults; another CPU
# may differ in the last bits of floating-point sums. docs/BENCHMARKS.md ("The demo") records
# the experiment behind STEPS; BUGGY = 0.2 follows the issue's mock-up.
# Usage: scripts/make_demo_model.sh [OUT]   (default data/demo-model; env STEPS, BUGGY, SEED)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
out=${1:-data/demo-model}
steps=${STEPS:-500}
buggy=${BUGGY:-0.2}
seed=${SEED:-0}
codealign=${CODEALIGN:-build/src/codealign}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$codealign" tasks "builtin:train[:19000]" --sft-out "$work/sft.jsonl" --buggy-fraction "$buggy" --seed "$seed"
"$codealign" tokenizer train --vocab-size 1024 --out "$work/init" --field prompt --field completion "$work/sft.jsonl"
"$venv_python" - "$work/init" "$seed" <<'PY'
import json, sys
import torch
from transformers import LlamaConfig, LlamaForCausalLM
path, seed = sys.argv[1], int(sys.argv[2])
eos = len(json.load(open(f"{path}/tokenizer.json"))["model"]["vocab"]) - 1  # the end-of-text id, last
config = LlamaConfig(vocab_size=1024, hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                     num_attention_heads=6, num_key_value_heads=6, max_position_embeddings=512,
                     tie_word_embeddings=True, bos_token_id=None, eos_token_id=eos, pad_token_id=eos)
torch.manual_seed(seed)
LlamaForCausalLM(config).save_pretrained(path, safe_serialization=True)
PY
"$codealign" train sft -m "$work/init" --data "$work/sft.jsonl" --out "$work/sft" --learning-rate 3e-3 \
  --batch-size 32 --max-steps "$steps" --epochs 2 --warmup-ratio 0.03 --max-length 256 --seed "$seed"
rm -rf "$work/sft"/checkpoint-* "$out.tmp"
mv "$work/sft" "$out.tmp"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "demo model: $out"
