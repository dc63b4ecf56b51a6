#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {
namespace fs = std::filesystem;

std::pair<std::string, std::string> split_merge_line(const std::string& line,
                                                     const std::string& where) {
  size_t space = line.find(' ', 1);  // a merge's left side may itself be a space-free "Ġ"
  if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
    throw Error("tokenizer: " + where + ": merge '" + line + "' is not two tokens separated by one space");
  return {line.substr(0, space), line.substr(space + 1)};
}

std::vector<Bpe::Merge> rank_merges(const Vocab& vocab,
                                    const std::vector<std::pair<std::string, std::string>>& pairs,
                                    const std::string& source) {
  std::vector<Bpe::Merge> merges;
  merges.reserve(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [left_text, right_text] = pairs[i];
    auto left = vocab.find(left_text), right = vocab.find(right_text);
    auto merged = vocab.find(left_text + right_text);
    if (!left || !right || !merged)
      throw Error("tokenizer: " + source + ": merge " + std::to_string(i) + " '" + left_text + " " +
                  right_text + "' " + (!merged && left && right ? "makes" : "uses") +
                  " a token that is not in the vocabulary");
    merges.push_back({*left, *right, *merged, uint32_t(i)});
  }
  return merges;
}

namespace {

std::optional<std::string> token_content(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string())
    return value["content"].get<std::string>();
  return std::nullopt;
}

// tokenizer_config.json: the special tokens and whether BOS/EOS are added, as transformers
// reads them. The post-processor of tokenizer.json, when it has one, already says the same.
void apply_tokenizer_config(Tokenizer::State& state, const std::string& path) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: bad JSON in '" + path + "': " + e.what());
  }
  auto id_of = [&](const char* key) -> std::optional<TokenId> {
    if (!config.contains(key)) return std::nullopt;
    auto content = token_content(config[key]);
    if (!content) return std::nullopt;
    auto id = state.vocab.find(*content);
    if (!id) throw Error("tokenizer: '" + path + "' field '" + key + "': token '" + *content +
                         "' is not in the vocabulary");
    return id;
  };
  if (auto id = id_of("bos_token")) state.bos = id;
  if (auto id = id_of("eos_token")) state.eos = id;
  if (auto id = id_of("pad_token")) state.pad = id;
  // add_bos_token/add_eos_token, when given, decide (transformers rewrites the
  // post-processor from them).
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
    if (!config["add_bos_token"].get<bool>()) state.prefix.clear();
    else if (state.bos) state.prefix = {*state.bos};
  }
  if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) {
    if (!config["add_eos_token"].get<bool>()) state.suffix.clear();
    else if (state.eos) state.suffix = {*state.eos};
  }
}

bool is_hf_tokenizer_json(const std::string& path) {
  std::string head = read_file(path).substr(0, 4096);
  return head.find("\"model\"") != std::string::npos || head.find("\"added_tokens\"") != std::string::npos;
}

StatePtr load_file(const fs::path& path) {
  std::string name = path.filename().string(), extension = path.extension().string();
  if (extension == ".gguf") return load_gguf(path.string());
  if (extension == ".model") return load_sentencepiece(path.string());
  if (extension == ".bin") return load_llama2c(path.string());
  if (extension == ".json") {
    if (name != "vocab.json" && name != "encoder.json" && is_hf_tokenizer_json(path.string()))
      return load_hf_json(path.string());
    for (const char* merges : {"merges.txt", "vocab.bpe"}) {
      fs::path merges_path = path.parent_path() / merges;
      if (fs::exists(merges_path)) return load_gpt2_files(path.string(), merges_path.string());
    }
    throw Error("tokenizer: '" + path.string() +
                "' is a vocabulary without merges (expected merges.txt or vocab.bpe beside it)");
  }
  throw Error("tokenizer: cannot tell the format of '" + path.string() +
              "' (expected tokenizer.json, *.gguf, *.model, llama2.c tok*.bin, or vocab.json/encoder.json)");
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path_text) {
  fs::path path(path_text);
  if (!fs::exists(path)) throw Error("tokenizer: '" + path_text + "' does not exist");
  if (fs::is_directory(path)) {
    fs::path found;
    for (const char* name : {"tokenizer.json", "tokenizer.model", "vocab.json", "encoder.json"})
      if (found.empty() && fs::exists(path / name)) found = path / name;
    if (found.empty())
      throw Error("tokenizer: directory '" + path_text +
                  "' has no tokenizer.json, tokenizer.model or vocab.json");
    path = found;
  }
  StatePtr state = load_file(path);
  fs::path config = path.parent_path() / "tokenizer_config.json";
  if (path.extension() != ".gguf" && fs::exists(config)) apply_tokenizer_config(*state, config.string());
  finish_state(*state);
  return Tokenizer(std::move(state));
}

}  // namespace codealign::tokenizer
