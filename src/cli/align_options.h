// The options of `codealign align` (align_command.cpp), shared with `codealign demo`, which is
// align with the built-in model, tasks and settings as its defaults (demo_command.cpp).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/model_options.h"
#include "common/jsonl.h"
#include "pipeline/pipeline.h"

namespace codealign::cli {

struct AlignOptions {
  AlignOptions();  // align's defaults; change them before add_align_options to change --help too
  pipeline::AlignConfig config;
  ModelOptions model;
  training::TrainConfig train;
  std::string config_file, out, score;
  std::string strategy = "best-worst", interpreter = "/usr/bin/python3";
  size_t memory_mb = 4096;
  bool resume = false, official_execution = false;
};

// Registers every align option on `sub`, with the values in `options` as defaults.
void add_align_options(CLI::App* sub, AlignOptions& options);

// Resolves the parsed options, runs (or resumes) the rounds in options.out, prints the summary
// table and returns summary.json's content.
Json run_align(CLI::App* sub, AlignOptions& options);

// Writes `run_dir`/report.html with `notes` under its headline and prints its path; a failure
// is a warning, since the run is complete without its report (`codealign report` redoes it).
void write_align_report(const std::string& run_dir, const std::vector<std::string>& notes);

}  // namespace codealign::cli
