// HF tokenizer.json: the BPE model with the normalizers, pre-tokenizers, post-processors and
// decoders that the Llama/Qwen2/GPT-2/StarCoder/DeepSeek families use. Anything else is
// refused by name.
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tokenizer/loaders.h"

namespace codealign::tokenizer {
namespace {

using nlohmann::json;

bool present(const json& node, const char* key) { return node.contains(key) && !node[key].is_null(); }

class JsonLoader {
 public:
  explicit JsonLoader(std::string path) : path_(std::move(path)) {}

  StatePtr load() {
    json root;
    try {
      root = json::parse(read_file(path_));
    } catch (const json::exception& e) {
      throw Error("tokenizer: bad JSON in '" + path_ + "': " + e.what());
    }
    auto state = std::make_shared<Tokenizer::State>();
    Vocab model_vocab = load_vocab(root.at("model"));
    state->vocab = model_vocab;
    std::vector<bool> normalized = load_added(root.value("added_tokens", json::array()), *state);

    std::vector<std::unique_ptr<Normalizer>> normalizers;
    std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers;
    try {  // regex errors name the pattern; say which file it came from
      if (present(root, "normalizer")) add_normalizer(root["normalizer"], normalizers);
      if (present(root, "pre_tokenizer")) add_pre_tokenizer(root["pre_tokenizer"], pre_tokenizers);
    } catch (const Error& e) {
      if (std::string(e.what()).find(path_) != std::string::npos) throw;
      throw Error("tokenizer: '" + path_ + "': " + std::string(e.what()).substr(11));
    }
    // HF matches normalized=true added tokens in the normalized text; codealign matches all
    // of them in the raw text, which is the same only without normalizers.
    for (size_t i = 0; i < state->added.size(); ++i)
      if (normalized[i] && !normalizers.empty())
        throw Error("tokenizer: '" + path_ + "': added token '" + state->added[i].content +
                    "' has normalized=true and the file has a normalizer: not supported");

    std::vector<Bpe::Merge> merges = rank_merges(model_vocab, merge_pairs(root["model"]), "'" + path_ + "'");
    BpeOptions options = bpe_options(root["model"], model_vocab);
    auto model = std::make_unique<Bpe>(std::move(model_vocab), merges, options);
    state->backend = std::make_unique<PipelineBackend>(std::move(normalizers),
                                                       std::move(pre_tokenizers), std::move(model));
    std::vector<DecoderStep> decoder;
    if (present(root, "decoder")) add_decoder(root["decoder"], decoder);
    apply_decoder(decoder, *state);
    if (present(root, "post_processor")) add_post_processor(root["post_processor"], *state);
    state->description = std::string("hf-json bpe ") + (byte_level_ ? "byte-level" : "characters");
    return state;
  }

 private:
  [[noreturn]] void refuse(const std::string& component, const json& node) const {
    throw Error("tokenizer: '" + path_ + "': " + component + " '" + node.value("type", "?") +
                "' is not supported");
  }
  std::string text(const json& node, const char* field) const {
    if (!node.contains(field) || !node[field].is_string())
      throw Error("tokenizer: '" + path_ + "': field '" + field + "' of " + node.value("type", "?") +
                  " must be a string");
    return node[field].get<std::string>();
  }
  // Split and Replace patterns: {"String": "..."} or {"Regex": "..."}.
  std::string pattern(const json& node) const {
    const json& p = node.at("pattern");
    if (p.contains("Regex")) return p["Regex"].get<std::string>();
    if (p.contains("String")) return Regex::escape(p["String"].get<std::string>());
    throw Error("tokenizer: '" + path_ + "': pattern of " + node.value("type", "?") +
                " has neither String nor Regex");
  }

  Vocab load_vocab(const json& model) {
    Vocab vocab;
    if (model.value("type", "BPE") != "BPE") refuse("model", model);
    if (present(model, "dropout") && model["dropout"] != 0)
      throw Error("tokenizer: '" + path_ + "': BPE dropout is not supported (it is for training)");
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (present(model, affix) && model[affix] != "")
        throw Error("tokenizer: '" + path_ + "': BPE " + affix + " is not supported");
    for (const auto& [token, id] : model.at("vocab").items())
      vocab.add(token, json_token_id(id, "'" + path_ + "' model.vocab[\"" + token + "\"]"));
    return vocab;
  }

  std::vector<std::pair<std::string, std::string>> merge_pairs(const json& model) const {
    std::vector<std::pair<std::string, std::string>> pairs;
    const json& merges = model.value("merges", json::array());
    pairs.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      if (merges[i].is_array() && merges[i].size() == 2)
        pairs.emplace_back(merges[i][0].get<std::string>(), merges[i][1].get<std::string>());
      else
        pairs.push_back(split_merge_line(merges[i].get<std::string>(),
                                         "'" + path_ + "' merge " + std::to_string(i)));
    }
    return pairs;
  }

  BpeOptions bpe_options(const json& model, const Vocab& vocab) const {
    BpeOptions options;
    options.byte_level = byte_level_;
    options.byte_fallback = model.value("byte_fallback", false);
    options.ignore_merges = model.value("ignore_merges", false);
    options.fuse_unk = model.value("fuse_unk", false);
    if (present(model, "unk_token")) {
      options.unk = vocab.find(text(model, "unk_token"));
      if (!options.unk)
        throw Error("tokenizer: '" + path_ + "': unk_token is not in the vocabulary");
    }
    return options;
  }

  // Returns each added token's "normalized" flag.
  std::vector<bool> load_added(const json& added, Tokenizer::State& state) {
    std::vector<bool> normalized;
    for (const json& entry : added) {
      AddedToken token;
      token.content = text(entry, "content");
      token.id = json_token_id(entry.at("id"), "'" + path_ + "' added_tokens id of '" + token.content + "'");
      token.special = entry.value("special", false);
      token.lstrip = entry.value("lstrip", false);
      token.rstrip = entry.value("rstrip", false);
      token.single_word = entry.value("single_word", false);
      normalized.push_back(entry.value("normalized", !token.special));
      state.vocab.add(token.content, token.id);
      state.added.push_back(std::move(token));
    }
    return normalized;
  }

  void add_normalizer(const json& node, std::vector<std::unique_ptr<Normalizer>>& out) {
    std::string type = node.value("type", "");
    if (type == "Sequence") {
      for (const json& child : node.at("normalizers")) add_normalizer(child, out);
    } else if (type == "NFC") {
      out.push_back(make_nfc());
    } else if (type == "Replace") {
      out.push_back(make_replace(pattern(node), text(node, "content")));
    } else if (type == "Prepend") {
      out.push_back(make_prepend(text(node, "prepend")));
    } else {
      refuse("normalizer", node);
    }
  }

  void add_pre_tokenizer(const json& node, std::vector<std::unique_ptr<PreTokenizer>>& out) {
    std::string type = node.value("type", "");
    // ByteLevel rewrites the text into its alphabet, which no later step here expects.
    if (byte_level_ && type != "Sequence")
      throw Error("tokenizer: '" + path_ + "': pre-tokenizer '" + type +
                  "' after ByteLevel is not supported");
    if (type == "Sequence") {
      for (const json& child : node.at("pretokenizers")) add_pre_tokenizer(child, out);
    } else if (type == "ByteLevel") {
      byte_level_ = true;
      if (node.value("add_prefix_space", false)) out.push_back(make_byte_level_prefix_space());
      if (node.value("use_regex", true))
        out.push_back(make_split(gpt2_pattern, SplitBehavior::isolated, false));
    } else if (type == "Split") {
      out.push_back(make_split(pattern(node), split_behavior(node), node.value("invert", false)));
    } else if (type == "Digits") {
      out.push_back(make_digits(node.value("individual_digits", false)));
    } else if (type == "Metaspace") {
      out.push_back(make_metaspace(text(node, "replacement"), prepend_scheme(node),
                                   node.value("split", true)));
    } else {
      refuse("pre-tokenizer", node);
    }
  }

  SplitBehavior split_behavior(const json& node) const {
    std::string behavior = text(node, "behavior");
    if (behavior == "Removed") return SplitBehavior::removed;
    if (behavior == "Isolated") return SplitBehavior::isolated;
    if (behavior == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (behavior == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (behavior == "Contiguous") return SplitBehavior::contiguous;
    throw Error("tokenizer: '" + path_ + "': Split behavior '" + behavior + "' is unknown");
  }

  // Newer files say prepend_scheme; older ones add_prefix_space (true means "always").
  PrependScheme prepend_scheme(const json& node) const {
    if (node.contains("prepend_scheme")) {
      std::string scheme = text(node, "prepend_scheme");
      if (scheme == "always") return PrependScheme::always;
      if (scheme == "first") return PrependScheme::first;
      if (scheme == "never") return PrependScheme::never;
      throw Error("tokenizer: '" + path_ + "': Metaspace prepend_scheme '" + scheme + "' is unknown");
    }
    return node.value("add_prefix_space", true) ? PrependScheme::always : PrependScheme::never;
  }

  void add_decoder(const json& node, std::vector<DecoderStep>& out) {
    std::string type = node.value("type", "");
    DecoderStep step{};
    if (type == "Sequence") {
      for (const json& child : node.at("decoders")) add_decoder(child, out);
      return;
    } else if (type == "ByteLevel") {
      step.kind = DecoderStep::byte_level;
    } else if (type == "ByteFallback") {
      step.kind = DecoderStep::byte_fallback;
    } else if (type == "Fuse") {
      step.kind = DecoderStep::fuse;
    } else if (type == "Replace") {
      if (!node.at("pattern").contains("String")) refuse("decoder (Replace with a regex)", node);
      step.kind = DecoderStep::replace;
      step.from = node["pattern"]["String"].get<std::string>();
      step.to = text(node, "content");
    } else if (type == "Strip") {
      if (node.value("stop", 0) != 0) refuse("decoder (Strip with stop > 0)", node);
      step.kind = DecoderStep::strip;
      step.from = text(node, "content");
      step.strip_start = node.value("start", 0);
    } else if (type == "Metaspace") {
      step.kind = DecoderStep::metaspace;
      step.from = text(node, "replacement");
      step.strip_first_space = prepend_scheme(node) != PrependScheme::never;
    } else {
      refuse("decoder", node);
    }
    out.push_back(step);
  }

  // TemplateProcessing's single template: special tokens before and after $A.
  void add_post_processor(const json& node, Tokenizer::State& state) {
    std::string type = node.value("type", "");
    if (type == "Sequence") {
      for (const json& child : node.at("processors")) add_post_processor(child, state);
    } else if (type == "ByteLevel") {
      // Only adjusts offsets; ids are unchanged.
    } else if (type == "TemplateProcessing") {
      bool after_sequence = false;
      for (const json& piece : node.at("single")) {
        if (piece.contains("Sequence")) {
          after_sequence = true;
          continue;
        }
        std::string name = piece.at("SpecialToken").at("id").get<std::string>();
        const json& ids = node.at("special_tokens").at(name).at("ids");
        for (const json& id : ids)
          (after_sequence ? state.suffix : state.prefix)
              .push_back(json_token_id(id, "'" + path_ + "' post_processor special token '" + name + "'"));
      }
      if (state.prefix.size() == 1) state.bos = state.prefix[0];
      if (state.suffix.size() == 1) state.eos = state.suffix[0];
    } else {
      refuse("post-processor", node);
    }
  }

  std::string path_;
  bool byte_level_ = false;
};

}  // namespace

StatePtr load_hf_json(const std::string& path) {
  try {
    return JsonLoader(path).load();
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: '" + path + "' does not have the tokenizer.json layout: " + e.what());
  }
}

}  // namespace codealign::tokenizer
