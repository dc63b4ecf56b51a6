#!/usr/bin/env bash
# CPU sampling throughput (issue 12 §3b): N samples of NEW tokens at temperature 1 from one
# prompt, on a demo-sized Llama (1.9M parameters: vocab 512, hidden 192, 4 layers, random
# weights), one thread. codealign's generation::generate (bench/model_throughput.cpp `sample`)
# against a plain PyTorch eager loop with a preallocated KV cache (bench/sampling_peer.py) on the
# same weights and prompt ids, alternating REPEATS times (default 3); each side's best is kept.
# Usage: bench/sampling_throughput.sh [N...]   (default: 256 1024; NEW=48)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
repeats=${REPEATS:-3}
new=${NEW:-48}
sizes=("${@:-256 1024}")
cmake --build build --target model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bench/model_throughput demo1m "$work/model"
# A 512-id byte-level BPE learned on HumanEval's prompts, and the first prompt as the one prompt.
"$venv_python" - "$work" <<'PY'
import gzip, json, sys
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
work = sys.argv[1]
prompts = [json.loads(line)["prompt"] for line in gzip.open("data/benchmarks/humaneval/HumanEval.jsonl.gz", "rt")]
tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=["<|endoftext|>"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
tokenizer.train_from_iterator(prompts, trainer)
tokenizer.save(f"{work}/model/tokenizer.json")
open(f"{work}/prompt.txt", "w").write(prompts[0])
PY
for n in ${sizes[@]}; do
  echo "== one prompt, $n samples x $new new tokens"
  : >"$work/ours.jsonl"
  : >"$work/peer.jsonl"
  for ((i = 0; i < repeats; i++)); do
    build/bench/model_throughput sample "$work/model" "$work/prompt.txt" "$n" "$new" | tee "$work/last.json" |
      "$venv_python" -c 'import json,sys; d=json.load(sys.stdin); d.pop("prompt_ids"); print(json.dumps(d))' |
      tee -a "$work/ours.jsonl"
    ids=$("$venv_python" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["prompt_ids"]))' "$work/last.json")
    "$venv_python" bench/sampling_peer.py "$work/model" "$ids" "$n" "$new" | tee -a "$work/peer.jsonl"
  done
  "$venv_python" - "$work/ours.jsonl" "$work/peer.jsonl" <<'PY'
import json, sys
runs = [[json.loads(line) for line in open(path)] for path in sys.argv[1:]]
best = [max(runs_of_side, key=lambda run: run["new_tokens_per_s"]) for runs_of_side in runs]
print(json.dumps({"best_codealign": round(best[0]["new_tokens_per_s"]), "best_peer": round(best[1]["new_tokens_per_s"]),
                  "ratio": round(best[0]["new_tokens_per_s"] / best[1]["new_tokens_per_s"], 2),
                  "system_share_codealign": round(best[0]["system_share"], 3),
                  "system_share_peer": round(best[1]["system_share"], 3)}))
PY
done
