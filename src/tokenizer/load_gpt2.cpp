// GPT-2's original pair of files: encoder.json/vocab.json (token -> id) and
// vocab.bpe/merges.txt (one merge per line after a "#version" header).
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {

StatePtr load_gpt2_files(const std::string& vocab_path, const std::string& merges_path) {
  auto state = std::make_shared<Tokenizer::State>();
  try {
    nlohmann::json vocab = nlohmann::json::parse(read_file(vocab_path));
    for (const auto& [token, id] : vocab.items())
      state->vocab.add(token, json_token_id(id, "'" + vocab_path + "' [\"" + token + "\"]"));
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: '" + vocab_path + "' is not a token -> id JSON object: " + e.what());
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream lines(read_file(merges_path));
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    pairs.push_back(split_merge_line(line, merges_path + ":" + std::to_string(number)));
  }
  std::vector<Bpe::Merge> merges = rank_merges(state->vocab, pairs, "'" + merges_path + "'");

  // <|endoftext|> is GPT-2's one special token: BOS, EOS and document separator at once.
  if (auto eot = state->vocab.find("<|endoftext|>")) {
    state->added.push_back({"<|endoftext|>", *eot, true, false, false, false});
    state->bos = state->eos = eot;
  }
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers;
  pre_tokenizers.push_back(make_split(gpt2_pattern, SplitBehavior::isolated, false));
  BpeOptions options;
  options.byte_level = true;
  state->backend = std::make_unique<PipelineBackend>(
      std::vector<std::unique_ptr<Normalizer>>{}, std::move(pre_tokenizers),
      std::make_unique<Bpe>(state->vocab, merges, options));  // a copy: the model's vocabulary
  apply_decoder({{DecoderStep::byte_level, "", "", 0, false}}, *state);
  state->description = "gpt2 files bpe byte-level";
  return state;
}

}  // namespace codealign::tokenizer
