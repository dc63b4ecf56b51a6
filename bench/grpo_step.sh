#!/usr/bin/env bash
# CPU GRPO step time and peak memory of `codealign train grpo` against TRL's GRPOTrainer
# (bench/grpo_step_peer.py, generation bypassed), same model, tokens and shapes: one group of
# G completions per step (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python_env.sh
data="${CODEALIGN_DATA_DIR:-$(pwd)/../shared/data}"
group=${G:-8} prompt=${PROMPT_TOKENS:-128} completion=${COMPLETION_TOKENS:-128}
cmake --build build --target codealign model_throughput >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bench/model_throughput random20m "$work/model"
cp "$data/tokenizers/llama2/tokenizer.model" "$work/model/"
# Groups whose prompt is exactly PROMPT_TOKENS ("▁x" per word, BOS first) and whose completions
# are COMPLETION_TOKENS - 1 "▁y" ids (EOS follows), rewards 0..G-1, as the peer's.
"$venv_python" - "$work/groups.jsonl" "$work/model/tokenizer.model" "$group" "$prompt" "$completion" <<'PY'
import json, sys
import sentencepiece
path, model, group, prompt, completion = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
y = sentencepiece.SentencePieceProcessor(model_file=model).piece_to_id("▁y")
line = {"prompt": " ".join(["x"] * (prompt - 1)),
        "completions": [{"completion": "y", "completion_ids": [y] * (completion - 1), "reward": float(i)}
                        for i in range(group)]}
with open(path, "w") as f:
    f.writelines(json.dumps(line) + "\n" for _ in range(16))
PY
run() {  # steps -> wall seconds, peak RSS (KiB), user + system CPU seconds
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" build/src/codealign train grpo --model "$work/model" \
    --data "$work/groups.jsonl" --out "$work/out" --batch-size "$group" --max-steps "$1" --epochs 1000 \
    --max-length $((prompt + completion + 8)) --max-completion-length "$completion" 2>/dev/null
  awk '{print $1, $2, $3 + $4}' "$work/time"
}
read -r t2 m2 c2 < <(run 2)
read -r t12 m12 c12 < <(run 12)
ours=$("$venv_python" -c "
import json; step = ($t12 - $t2) / 10; tokens = $group * ($prompt + $completion)
print(json.dumps({'impl': 'codealign', 'step_s': step, 'tokens_per_s': tokens / step, 'step_cpu_s': ($c12 - $c2) / 10,
                  'peak_rss_mib': $m12 / 1024}))")
echo "$ours"
for flag in "" --gradient-checkpointing; do
  peer=$("$venv_python" bench/grpo_step_peer.py "$work/model" "$group" "$prompt" "$completion" 6 $flag 2>"$work/peer.log") ||
    { cat "$work/peer.log" >&2; exit 1; }
  echo "$peer"
  "$venv_python" -c "
import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({'peer': b['impl'], 'ratio_tokens_per_s': a['tokens_per_s'] / b['tokens_per_s'],
                  'ratio_cpu_per_step': b['step_cpu_s'] / a['step_cpu_s'],
                  'ratio_peak_rss': a['peak_rss_mib'] / b['peak_rss_mib']}))" "$ours" "$peer"
done
