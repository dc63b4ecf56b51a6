// SFT and DPO-family training of a CausalLM: fused AdamW with warm-up and cosine/linear decay,
// gradient accumulation and clipping, TRL-named metrics to a JSONL log, checkpoints that
// resume bit-identically, and a clean stop on SIGINT. Reference log-probs for DPO are
// computed once before training and cached in the output directory, so no second model is
// resident. Steps and loss weights follow transformers' Trainer: an epoch that does not divide
// into gradient_accumulation_steps ends with a shorter step; SFT's loss is normalised by the
// completion tokens of the whole optimizer step, DPO's by its micro-batches.
#pragma once
#include "training/config.h"

namespace codealign::training {

// Trains and writes the model (HF format, float32) to output; checkpoints go to
// output/checkpoint-N; train_results.json says how long it took (and, on a GPU, the peak memory).
// With `resume`, continues from the newest checkpoint. Returns false when stopped by SIGINT
// (after saving a checkpoint).
bool train(const TrainConfig& config, const TrainPaths& paths, bool resume);

}  // namespace codealign::training
