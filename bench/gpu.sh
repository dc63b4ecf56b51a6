#!/usr/bin/env bash
# The GPU checks of docs/BENCHMARKS.md ("GPU"), in one run of a few minutes on one GPU:
#   1. parity with transformers on the GPU (logits in float32 and bfloat16, greedy tokens), and
#      of sampling with CUDA graphs against eager steps (3 samples a prompt, early stops);
#   2. sampling at 1.5B shapes, 32 prompts of 128 tokens, 256 new tokens each, temperature 1:
#      codealign's sampler (decode steps as CUDA graphs, then eager) against
#      transformers.generate (default, then static cache + compile); the greedy parity of
#      check 1 runs through the graphs too;
#   3. a DPO step at Qwen2.5-Coder-0.5B and -1.5B shapes (random weights), 8 pairs x (256 prompt
#      + 256 completion) tokens, bfloat16: `codealign train dpo` (plain, with activation
#      checkpointing of every layer, and of half the layers) against a TRL-style PyTorch step;
#      the prompt of each pair is computed once (prefix sharing, the default);
#   4. a GRPO step at the same shapes: one group of 16 completions (256 prompt + 256 completion
#      tokens each) per step, bfloat16, TRL's defaults: `codealign train grpo` against a
#      TRL-style PyTorch step;
#   5. on a machine with several GPUs: DPO and SFT steps on 1 and N GPUs (torchrun, NCCL), AdamW
#      replicated and ZeRO-1, scaling efficiency and memory per GPU.
# Every figure is one JSON line in OUT/results.jsonl, after the machine's description.
#
#   bench/gpu.sh OUT        # builds and runs build/src/codealign and build/bench/gpu_bench
# Environment: BIN (directory with codealign and gpu_bench; default build/src and build/bench),
# PYTHON (one with torch and transformers; default python3), TOKENIZER (a Qwen tokenizer.json),
# DEVICE (cuda), SMALL=1 (tiny shapes on any device: a dry run of the script itself),
# CHECKS (default "parity dpo grpo sampling"), COMPILE=0 (skip the torch.compile peer, which spends
# a minute or two compiling), TRACE=1 (also a profiler trace of codealign's sampling, in OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/gpu.sh OUT}
mkdir -p "$out"
python=${PYTHON:-python3}
device=${DEVICE:-cuda}
codealign=${BIN:+$BIN/codealign}; codealign=${codealign:-build/src/codealign}
gpu_bench=${BIN:+$BIN/gpu_bench}; gpu_bench=${gpu_bench:-build/bench/gpu_bench}
[ -n "${BIN:-}" ] || cmake --build build --target codealign gpu_bench >/dev/null
tokenizer=${TOKENIZER:-${CODEALIGN_DATA_DIR:-../shared/data}/tokenizers/qwen/tokenizer.json}
peer="$python bench/gpu_peer.py"
if [ "${SMALL:-0}" = 1 ]; then
  sizes="tiny" sample_size=tiny pairs=2 group=4 prompt=16 completion=16 batch=4 prompt_tokens=8 new=16
else
  sizes="0.5b 1.5b" sample_size=1.5b pairs=8 group=16 prompt=256 completion=256 batch=32 prompt_tokens=128 new=256
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results="$out/results.jsonl"
: >"$results"
record() { tee -a "$results"; }
section() { echo "== $* ($(date +%T))" >&2; }

section machine
$python - "$device" <<'PY' | record
import json, sys, torch, transformers
device = sys.argv[1]
card = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
print(json.dumps({"card": card, "torch": torch.__version__, "transformers": transformers.__version__,
                  "date": __import__("datetime").date.today().isoformat()}))
PY
for size in $sizes; do $peer make "$work/$size" "$size" "$tokenizer" | record; done

first=${sizes%% *}
checks=${CHECKS:-parity dpo grpo sampling}
if [[ $checks == *parity* ]]; then
section "1. parity"
$peer ids "$work/$first" 4 64 "$work/ids.json"
for dtype in float32 bfloat16; do
  $gpu_bench logits "$work/$first" "$device" "$dtype" "$work/ids.json" "$work/logits-$dtype.bin" >/dev/null
  $peer parity "$work/$first" "$device" "$work/ids.json" "$work/logits-$dtype.bin" "$dtype" | record
done
$gpu_bench greedy "$work/$first" "$device" float32 "$work/ids.json" 32 >"$work/greedy.json"
$peer greedy "$work/$first" "$device" "$work/ids.json" 32 "$work/greedy.json" | record
$gpu_bench graphs "$work/$first" "$device" float32 "$work/ids.json" 64 | sed 's/^{/{"check": "graphs against eager", /' | record
fi

if [[ $checks == *sampling* ]]; then
section "2. sampling"
$gpu_bench sample "$work/$sample_size" "$device" bfloat16 "$batch" "$prompt_tokens" "$new" | sed 's/^{/{"check": "sampling", /' | record
if [ "${TRACE:-0}" = 1 ]; then
  $gpu_bench profile "$work/$sample_size" "$device" bfloat16 "$batch" "$prompt_tokens" 24 "$out/sampling-trace.json"
fi
$peer generate "$work/$sample_size" "$device" "$batch" "$prompt_tokens" "$new" | sed 's/^{/{"check": "sampling", /' | record
if [ "${COMPILE:-1}" = 1 ]; then
  timeout "${COMPILE_TIMEOUT:-240}" $peer generate "$work/$sample_size" "$device" "$batch" "$prompt_tokens" "$new" static-compile |
    sed 's/^{/{"check": "sampling", /' | record || echo '{"check": "sampling", "impl": "transformers.generate static-compile", "error": "failed or timed out (COMPILE_TIMEOUT)"}' | record
fi
fi
if [[ $checks == *dpo* ]]; then
section "3. DPO step"
$peer pairs "$work/$first" "$pairs" "$prompt" "$completion" "$work/pairs.jsonl"
for size in $sizes; do
  train() {  # steps, flags -> train_results.json of a run of that many steps
    rm -rf "$work/out"
    $codealign train dpo --model "$work/$size" --data "$work/pairs.jsonl" --out "$work/out" --device "$device" \
      --dtype bfloat16 --batch-size "$pairs" --max-steps "$1" --epochs 1000 --max-length $((prompt + completion + 8)) \
      --warmup-ratio 0 $2 >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
    cat "$work/out/train_results.json"
  }
  layers=$($python -c 'import json, sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$work/$size/config.json")
  for variant in ${DPO_VARIANTS:-plain checkpointing half-checkpointing}; do
    case $variant in
      checkpointing) flags=--gradient-checkpointing ;;
      half-checkpointing) flags="--gradient-checkpointing --gradient-checkpointing-layers $((layers / 2))" ;;
      *) flags= ;;
    esac
    short=$(train 3 "$flags") long=$(train 13 "$flags")
    $python - "$size" "$variant" "$short" "$long" <<'PY' | record
import json, sys
size, variant, short, long = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
tokens = lambda r: r["train_tokens_per_second"] * r["train_runtime"]
seconds = long["train_runtime"] - short["train_runtime"]
print(json.dumps({"check": "dpo step", "size": size, "impl": f"codealign {variant}", "step_s": seconds / 10,
                  "tokens_per_s": (tokens(long) - tokens(short)) / seconds,
                  "peak_memory_gib": long.get("peak_memory_gib", 0.0)}))
PY
  done
  $peer dpo "$work/$size" "$device" "$pairs" "$prompt" "$completion" 6 | sed "s/^{/{\"check\": \"dpo step\", \"size\": \"$size\", /" | record
done

fi

if [[ $checks == *grpo* ]]; then
section "4. GRPO step"
$peer groups "$work/$first" "$group" "$prompt" "$completion" "$work/groups.jsonl"
for size in $sizes; do
  grpo_train() {  # steps -> train_results.json of a run of that many steps
    rm -rf "$work/out"
    $codealign train grpo --model "$work/$size" --data "$work/groups.jsonl" --out "$work/out" --device "$device" \
      --dtype bfloat16 --batch-size "$group" --max-steps "$1" --epochs 1000 --max-length $((prompt + completion + 8)) \
      --max-completion-length "$completion" --warmup-ratio 0 >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
    cat "$work/out/train_results.json"
  }
  short=$(grpo_train 3) long=$(grpo_train 13)
  $python - "$size" "$short" "$long" <<'PY' | record
import json, sys
size, short, long = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
tokens = lambda r: r["train_tokens_per_second"] * r["train_runtime"]
seconds = long["train_runtime"] - short["train_runtime"]
print(json.dumps({"check": "grpo step", "size": size, "impl": "codealign", "step_s": seconds / 10,
                  "tokens_per_s": (tokens(long) - tokens(short)) / seconds,
                  "peak_memory_gib": long.get("peak_memory_gib", 0.0)}))
PY
  $peer grpo "$work/$size" "$device" "$group" "$prompt" "$completion" 6 | sed "s/^{/{\"check\": \"grpo step\", \"size\": \"$size\", /" | record
done
fi

# 5. Several GPUs (issue 29): DPO and SFT steps of every size on 1 GPU and on all of them
# (torchrun, NCCL), the batch per GPU fixed (weak scaling), with AdamW replicated and sharded
# (ZeRO-1): tokens/s, scaling efficiency (tokens/s on N GPUs / (N x on one)) and rank 0's peak
# memory. Runs where nvidia-smi lists two GPUs or more (CHECKS=multigpu to ask for it alone; a
# dry run on the CPU: SMALL=1 DEVICE=cpu CHECKS=multigpu GPUS=2 BACKEND=gloo bench/gpu.sh OUT).
gpus=${GPUS:-$(nvidia-smi -L 2>/dev/null | wc -l || echo 0)}
if [[ $checks == *multigpu* ]] || { [ -z "${CHECKS:-}" ] && [ "$gpus" -ge 2 ]; }; then
section "5. several GPUs ($gpus)"
[ -f "$work/pairs.jsonl" ] || $peer pairs "$work/$first" "$pairs" "$prompt" "$completion" "$work/pairs.jsonl"
$python - "$work/pairs.jsonl" "$work/sft.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as pairs, open(sys.argv[2], "w") as sft:
    for line in pairs:
        pair = json.loads(line)
        sft.write(json.dumps({"prompt": pair["prompt"], "completion": pair["chosen"]}) + "\n")
PY
for size in $sizes; do
  for mode in dpo sft; do
    data=$work/pairs.jsonl; [ $mode = sft ] && data=$work/sft.jsonl
    for zero in 0 1; do
      for n in 1 "$gpus"; do
        scaled() {  # steps -> train_results.json of a run on n GPUs (n copies of the data: the batch per GPU stays)
          rm -rf "$work/out"
          for ((copy = 0; copy < n; ++copy)); do cat "$data"; done >"$work/data-$n.jsonl"
          $python -m torch.distributed.run --standalone --nproc-per-node "$n" --no-python $codealign train $mode \
            --model "$work/$size" --data "$work/data-$n.jsonl" --out "$work/out" --dtype bfloat16 --batch-size "$pairs" \
            --max-steps "$1" --epochs 1000 --max-length $((prompt + completion + 8)) --warmup-ratio 0 --zero-stage $zero \
            --device "$device" --dist-backend "${BACKEND:-nccl}" >"$work/train.log" 2>&1 || { cat "$work/train.log" >&2; exit 1; }
          cat "$work/out/train_results.json"
        }
        short=$(scaled 3) long=$(scaled 13)
        $python - "$size" "$mode" "$zero" "$n" "$short" "$long" <<'PY' | record
import json, sys
size, mode, zero, n, short, long = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *map(json.loads, sys.argv[5:])
tokens = lambda r: r["train_tokens_per_second"] * r["train_runtime"]
seconds = long["train_runtime"] - short["train_runtime"]
print(json.dumps({"check": "several gpus", "size": size, "mode": mode, "zero_stage": zero, "gpus": n,
                  "step_s": seconds / 10, "tokens_per_s": (tokens(long) - tokens(short)) / seconds,
                  "peak_memory_gib_rank0": long.get("peak_memory_gib", 0.0),
                  "optimizer_state_gib_rank0": long["optimizer_state_bytes"] / 2**30}))
PY
      done
    done
  done
done
$python - "$results" <<'PY' | record
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if '"several gpus"' in line]
one = {(r["size"], r["mode"], r["zero_stage"]): r["tokens_per_s"] for r in rows if r["gpus"] == 1}
for r in rows:
    if r["gpus"] > 1:
        print(json.dumps({"check": "scaling efficiency", "size": r["size"], "mode": r["mode"], "zero_stage": r["zero_stage"],
                          "gpus": r["gpus"], "efficiency": r["tokens_per_s"] / (r["gpus"] * one[(r["size"], r["mode"], r["zero_stage"])])}))
PY
fi

section done
