// `codealign tokenizer train`: learn a byte-level BPE vocabulary from text or JSONL files and
// write it as an HF tokenizer.json (tokenizer/train.h).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "tokenizer/train.h"

namespace codealign::cli {
namespace {

struct TrainOptions {
  size_t vocab_size = 0;
  std::string out;
  std::vector<std::string> fields, special_tokens{"<|endoftext|>"}, files;
  uint64_t min_frequency = 2;
};

bool is_jsonl(const std::string& path) { return path.ends_with(".jsonl") || path.ends_with(".jsonl.gz"); }

int run_train(const TrainOptions& o) {
  auto start = std::chrono::steady_clock::now();
  tokenizer::BpeTrainOptions options;
  options.vocab_size = o.vocab_size;
  options.special_tokens = o.special_tokens;
  options.min_frequency = o.min_frequency;
  options.progress = true;
  tokenizer::BpeTrainer trainer(options);
  for (const std::string& path : o.files) {
    if (!is_jsonl(path)) {
      trainer.add_text(read_file(path), path);
      continue;
    }
    if (o.fields.empty())
      throw Error("tokenizer: '" + path + "' is JSONL: name the string fields to train on " +
                  "(hint: --field prompt --field completion)");
    std::string text = read_file(path);
    for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
      Json object = parse_json_object(line);
      for (const std::string& field : o.fields)
        trainer.add_text(string_field(object, field.c_str(), line), line.where() + "field '" + field + "'");
    });
  }
  tokenizer::TrainedBpe trained = trainer.train();
  std::string written = tokenizer::save_trained_bpe(trained, o.out);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tokenizer: %zu ids (256 bytes, %zu merges, %zu special) from %.1f MB of text, %zu distinct words, "
              "in %.1f s: %s\n",
              o.vocab_size, trained.merges, o.special_tokens.size(), double(trained.bytes) / 1e6, trained.words,
              seconds, written.c_str());
  return exit_ok;
}

}  // namespace

Command add_tokenizer_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* sub = app.add_subcommand("tokenizer", "Make tokenizers (train: learn a byte-level BPE vocabulary)");
  sub->require_subcommand(1);
  CLI::App* train = sub->add_subcommand(
      "train",
      "Learn a byte-level BPE vocabulary from text files (each file one text) or JSONL files (the --field "
      "strings of each line) and write it as an HF tokenizer.json with tokenizer_config.json");
  train->add_option("--vocab-size", o->vocab_size, "Ids in all: 256 bytes + merges + special tokens")
      ->required()
      ->check(at_least(256));
  train->add_option("--out", o->out,
                    "Directory for tokenizer.json and tokenizer_config.json (created), or a *.json path "
                    "(tokenizer_config.json goes beside it)")
      ->required();
  train->add_option("--field", o->fields,
                    "String field of JSONL lines to train on (repeatable), e.g. --field prompt --field completion")
      ->allow_extra_args(false);
  train->add_option("--special-token", o->special_tokens,
                    "Special tokens after the merges, in order (repeatable; replaces the default; the first is "
                    "eos and pad)")
      ->allow_extra_args(false)
      ->capture_default_str();
  train->add_option("--min-frequency", o->min_frequency, "Never merge a pair seen fewer times than this")
      ->capture_default_str()
      ->check(at_least(1));
  train->add_option("files", o->files, "Text files, or JSONL files (*.jsonl, *.jsonl.gz) read with --field")
      ->required()
      ->check(CLI::ExistingFile);
  return [o] { return run_train(*o); };
}

}  // namespace codealign::cli
