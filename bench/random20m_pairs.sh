# Sourced by the DPO step benchmarks: the random 19.4M-parameter Llama (model_throughput
# random20m, with the Llama-2 tokenizer) in $work/model and $pairs pairs whose prompt and
# completions are exactly $prompt and $completion tokens ("▁x" per word) in $work/pairs.jsonl.
# Needs: $work, $data (the shared data), $venv_python, $pairs, $prompt, $completion, a built
# build/bench/model_throughput.
build/bench/model_throughput random20m "$work/model"
cp "$data/tokenizers/llama2/tokenizer.model" "$work/model/"
"$venv_python" - "$work/pairs.jsonl" "$pairs" "$prompt" "$completion" <<'PY'
import json, sys
path, pairs, prompt, completion = sys.argv[1], *map(int, sys.argv[2:])
with open(path, "w") as f:
    for i in range(pairs):
        f.write(json.dumps({"prompt": " ".join(["x"] * (prompt - 1)), "chosen": " y" * (completion - 1),
                            "rejected": " z" * (completion - 1)}) + "\n")
PY
