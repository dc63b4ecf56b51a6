// tokenizer.json components beyond Qwen's: a Llama-2/CodeLlama file (Prepend + Replace
// normalizers, byte fallback, Replace/ByteFallback/Fuse/Strip decoders, TemplateProcessing),
// its Metaspace variant, Split behaviours, and refusals that name the component.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/error.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vectors.h"

namespace codealign::testing {
namespace {

using nlohmann::json;
using namespace codealign::tokenizer;

const std::string marker = "\xE2\x96\x81";

// The tokenizer.json transformers' LlamaConverter writes for Llama-2, made here from the
// SentencePiece model: merges are every split of a piece into two pieces, in score order.
json llama_tokenizer_json() {
  sentencepiece::SentencePieceProcessor sp;
  EXPECT_TRUE(sp.Load(data_dir() + "/tokenizers/llama2/tokenizer.model").ok());
  json vocab = json::object();
  for (int id = 0; id < sp.GetPieceSize(); ++id) vocab[sp.IdToPiece(id)] = id;
  std::vector<std::tuple<float, int, int, int>> merges;  // -score, merged, left, right
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    if (sp.IsControl(id) || sp.IsUnknown(id) || sp.IsByte(id)) continue;
    std::string piece = sp.IdToPiece(id);
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      if ((static_cast<unsigned char>(piece[cut]) & 0xC0) == 0x80) continue;
      auto left = vocab.find(piece.substr(0, cut)), right = vocab.find(piece.substr(cut));
      if (left != vocab.end() && right != vocab.end())
        merges.emplace_back(-sp.GetScore(id), id, left->get<int>(), right->get<int>());
    }
  }
  std::sort(merges.begin(), merges.end());
  json merge_lines = json::array();
  for (auto& [score, merged, left, right] : merges)
    merge_lines.push_back(sp.IdToPiece(left) + " " + sp.IdToPiece(right));
  json added = json::array();
  for (int id : {0, 1, 2})
    added.push_back({{"id", id}, {"content", sp.IdToPiece(id)}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", marker}},
                                                             {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", marker}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                      {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", marker}}}, {"content", " "}},
                                                      {{"type", "ByteFallback"}},
                                                      {{"type", "Fuse"}},
                                                      {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"continuing_subword_prefix", nullptr},
                 {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", true},
                 {"vocab", vocab}, {"merges", merge_lines}}},
  };
}

Tokenizer load_json(const TempDir& dir, const json& file, const std::string& name = "tokenizer.json") {
  write_text(dir.path + "/" + name, file.dump());
  return Tokenizer::load(dir.path + "/" + name);
}

TEST(HfJson, llama2_file_reproduces_llama_spm_vectors) {
  TempDir dir;
  Tokenizer tok = load_json(dir, llama_tokenizer_json());
  expect_vectors(tok, "llama-spm");
  EXPECT_EQ(tok.encode("Hello world", {true, true, {}}), (std::vector<TokenId>{1, 15043, 3186}));
  Tokenizer sp = Tokenizer::load(data_dir() + "/tokenizers/llama2/tokenizer.model");
  for (const char* text : {" leading", "two  spaces", "\xF0\x9F\xA6\x99 llama", "tab\tand\nnewline"}) {
    auto ids = tok.encode(text);
    EXPECT_EQ(ids, sp.encode(text)) << text;
    EXPECT_EQ(tok.decode(ids), text);
  }
}

// transformers' legacy=false Llama files: Metaspace prepends "▁" only when the text does not
// already start with one, so only text with a leading space tokenizes differently.
// Ids that are not integers in [0, 2^31) are refused with the field named (a fuzzing finding:
// a float id was converted to int with undefined behaviour).
TEST(HfJson, ids_that_are_not_token_ids_are_refused_by_field) {
  TempDir dir;
  auto error_of = [&](const json& file) -> std::string {
    try {
      load_json(dir, file);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  std::string path = "'" + dir.path + "/tokenizer.json'";
  json file = llama_tokenizer_json();
  file["model"]["vocab"]["<unk>"] = 5.8e107;
  EXPECT_EQ(error_of(file), "tokenizer: " + path + " model.vocab[\"<unk>\"]: 5.8e+107 is not a token id");
  file = llama_tokenizer_json();
  file["added_tokens"][1]["id"] = -1;
  EXPECT_EQ(error_of(file), "tokenizer: " + path + " added_tokens id of '<s>': -1 is not a token id");
  file = llama_tokenizer_json();
  file["post_processor"]["special_tokens"]["<s>"]["ids"] = {"1"};
  EXPECT_EQ(error_of(file), "tokenizer: " + path + " post_processor special token '<s>': \"1\" is not a token id");
}

TEST(HfJson, metaspace_variant_differs_only_on_a_leading_space) {
  TempDir dir;
  json file = llama_tokenizer_json();
  file["normalizer"] = nullptr;
  file["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", marker}, {"prepend_scheme", "first"}, {"split", false}};
  file["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "Metaspace"}, {"replacement", marker}, {"prepend_scheme", "first"}, {"split", false}},
                                                        {{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
  Tokenizer tok = load_json(dir, file);
  size_t compared = 0;
  for (const Vector& v : read_vectors("llama-spm")) {
    if (v.text.empty() || v.text[0] == ' ') continue;
    EXPECT_EQ(tok.encode(v.text), v.ids) << v.text;
    ++compared;
  }
  EXPECT_GT(compared, 20u);
  EXPECT_EQ(tok.encode(" Hello world"), (std::vector<TokenId>{15043, 3186}));  // legacy: 29871 first
  EXPECT_EQ(tok.decode(tok.encode("Hello  world")), "Hello  world");
}

// HF's documented example of each SplitDelimiterBehavior, on "a-b--c" with merges that
// show where the pieces were cut.
TEST(HfJson, split_behaviours_cut_as_hf_documents) {
  json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"-", 3}, {"a-", 4}, {"-b", 5}, {"b-", 6}, {"--", 7}, {"-c", 8}};
  json merges = {"a -", "- b", "b -", "- -", "- c"};
  auto ids_for = [&](const char* behavior) {
    TempDir dir;
    json file = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
                 {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", false}}}};
    return load_json(dir, file).encode("a-b--c");
  };
  EXPECT_EQ(ids_for("Removed"), (std::vector<TokenId>{0, 1, 2}));
  EXPECT_EQ(ids_for("Isolated"), (std::vector<TokenId>{0, 3, 1, 3, 3, 2}));
  EXPECT_EQ(ids_for("MergedWithPrevious"), (std::vector<TokenId>{4, 6, 3, 2}));
  EXPECT_EQ(ids_for("MergedWithNext"), (std::vector<TokenId>{0, 5, 3, 8}));
  EXPECT_EQ(ids_for("Contiguous"), (std::vector<TokenId>{0, 3, 1, 7, 2}));
}

TEST(HfJson, ignore_merges_keeps_a_word_that_is_a_token_whole) {
  json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"bc", 3}, {"abc", 4}};
  auto ids_for = [&](bool ignore_merges) {
    TempDir dir;
    json file = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"b c"}}, {"ignore_merges", ignore_merges}}}};
    return load_json(dir, file).encode("abc");
  };
  EXPECT_EQ(ids_for(false), (std::vector<TokenId>{0, 3}));
  EXPECT_EQ(ids_for(true), (std::vector<TokenId>{4}));  // Llama-3
}

TEST(HfJson, added_tokens_swallow_whitespace_as_their_flags_say) {
  auto ids_for = [&](bool lstrip, bool rstrip) {
    TempDir dir;
    json file = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {" ", 1}}}, {"merges", json::array()}}},
                 {"added_tokens", {{{"id", 2}, {"content", "<m>"}, {"special", true}, {"lstrip", lstrip}, {"rstrip", rstrip}}}}};
    return load_json(dir, file).encode("a  <m> a");
  };
  EXPECT_EQ(ids_for(false, false), (std::vector<TokenId>{0, 1, 1, 2, 1, 0}));
  EXPECT_EQ(ids_for(true, false), (std::vector<TokenId>{0, 2, 1, 0}));
  EXPECT_EQ(ids_for(false, true), (std::vector<TokenId>{0, 1, 1, 2, 0}));
}

TEST(HfJson, byte_level_add_prefix_space_prepends_one_space) {
  auto ids_for = [&](bool add_prefix_space) {
    TempDir dir;
    json file = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"\u0120", 1}, {"\u0120a", 2}}}, {"merges", {"\u0120 a"}}}},
                 {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"use_regex", true}}},
                 {"decoder", {{"type", "ByteLevel"}}}};
    return load_json(dir, file).encode("a a");
  };
  EXPECT_EQ(ids_for(false), (std::vector<TokenId>{0, 2}));
  EXPECT_EQ(ids_for(true), (std::vector<TokenId>{2, 2}));
}

TEST(HfJson, split_invert_single_word_and_digits) {
  json vocab = {{"a", 0}, {"b", 1}, {"1", 2}, {"2", 3}, {"ab", 4}, {"12", 5}, {"a1", 6},
                {"<", 8}, {"w", 9}, {">", 10}, {" ", 11}};
  json merges = {"a b", "a 1", "1 2"};
  auto ids_for = [&](json pre_tokenizer, const char* text, json added = json::array()) {
    TempDir dir;
    json file = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
                 {"pre_tokenizer", pre_tokenizer}, {"added_tokens", added}};
    return load_json(dir, file).encode(text);
  };
  // invert: the pattern matches the pieces to keep, here runs of letters.
  json letters = {{"type", "Split"}, {"pattern", {{"Regex", "[a-z]+"}}}, {"behavior", "Removed"}, {"invert", true}};
  EXPECT_EQ(ids_for(letters, "ab12a"), (std::vector<TokenId>{4, 0}));
  EXPECT_EQ(ids_for({{"type", "Digits"}, {"individual_digits", true}}, "a12"), (std::vector<TokenId>{0, 2, 3}));
  EXPECT_EQ(ids_for({{"type", "Digits"}, {"individual_digits", false}}, "a12"), (std::vector<TokenId>{0, 5}));
  EXPECT_EQ(ids_for(nullptr, "a12"), (std::vector<TokenId>{6, 3}));  // no split: "a 1" merges
  // single_word: the added token matches only between word boundaries.
  json single_word = {{{"id", 7}, {"content", "<w>"}, {"special", false}, {"single_word", true}}};
  EXPECT_EQ(ids_for(nullptr, "a <w> b", single_word), (std::vector<TokenId>{0, 11, 7, 11, 1}));
  EXPECT_EQ(ids_for(nullptr, "a<w>b", single_word), (std::vector<TokenId>{0, 8, 9, 10, 1}));
}

TEST(HfJson, decoders_apply_to_added_tokens_and_metaspace_drops_first_marks) {
  TempDir dir;
  json file = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {marker + marker + marker, 1}, {marker + "a", 2}}}, {"merges", json::array()}}},
               {"added_tokens", {{{"id", 3}, {"content", marker + "<x>"}, {"special", false}}}},
               {"decoder", {{"type", "Metaspace"}, {"replacement", marker}, {"prepend_scheme", "always"}, {"split", true}}}};
  Tokenizer tok = load_json(dir, file);
  EXPECT_EQ(tok.decode(std::vector<TokenId>{0, 3}), "a <x>");    // HF runs added tokens through the decoder
  EXPECT_EQ(tok.decode(std::vector<TokenId>{1, 2}), " a");       // first token: every mark dropped
  EXPECT_EQ(tok.decode(std::vector<TokenId>{1, 2}, {false, true}), "    a");  // a continuation keeps them
}

// What loading `file` fails with, after "tokenizer: '<path>': ".
std::string load_error(const json& file) {
  TempDir dir;
  try {
    load_json(dir, file);
    return "no error";
  } catch (const Error& e) {
    std::string text = e.what();
    return text.substr(text.find("': ") + 3);
  }
}

TEST(HfJson, constructs_codealign_cannot_follow_exactly_are_refused) {
  auto message = [&](const json& file) { return load_error(file); };
  json model = {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}};
  EXPECT_EQ(message({{"model", model}, {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "a*"}}}, {"behavior", "Isolated"}}}}),
            "bad regex 'a*': it can match the empty string, which is not supported");
  TempDir dir;
  json lookahead = {{"model", model}, {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"Regex", "(?=a)"}}}, {"behavior", "Isolated"}}}};
  try {
    load_json(dir, lookahead).encode("aa");
    ADD_FAILURE() << "a zero-width split passed";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "tokenizer: regex '(?=a)' matched the empty string at byte 0: zero-width splits are not supported");
  }
  EXPECT_EQ(message({{"model", model}, {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "Digits"}}}}}}}),
            "pre-tokenizer 'Digits' after ByteLevel is not supported");
  EXPECT_EQ(message({{"model", model}, {"normalizer", {{"type", "NFC"}}}, {"added_tokens", {{{"id", 1}, {"content", "<x>"}, {"normalized", true}}}}}),
            "added token '<x>' has normalized=true and the file has a normalizer: not supported");
}

TEST(HfJson, unsupported_components_are_refused_by_name) {
  json base = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", json::array()}}}};
  auto message = [&](const char* key, json value) {
    json file = base;
    file[key] = value;
    return load_error(file);
  };
  EXPECT_EQ(message("model", {{"type", "WordPiece"}}), "model 'WordPiece' is not supported");
  EXPECT_EQ(message("normalizer", {{"type", "NFKC"}}), "normalizer 'NFKC' is not supported");
  EXPECT_EQ(message("pre_tokenizer", {{"type", "BertPreTokenizer"}}), "pre-tokenizer 'BertPreTokenizer' is not supported");
  EXPECT_EQ(message("decoder", {{"type", "WordPiece"}}), "decoder 'WordPiece' is not supported");
  EXPECT_EQ(message("post_processor", {{"type", "RobertaProcessing"}}), "post-processor 'RobertaProcessing' is not supported");
}

TEST(HfJson, broken_files_name_the_file_and_the_fault) {
  TempDir dir;
  write_text(dir.path + "/tokenizer.json", "{\"model\": ");
  try {
    Tokenizer::load(dir.path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer: bad JSON in '" + dir.path + "/tokenizer.json'"), std::string::npos) << e.what();
  }
  json bad_merge = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}}}, {"merges", {"a b"}}}}};
  try {
    load_json(dir, bad_merge);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "tokenizer: '" + dir.path +
                                         "/tokenizer.json': merge 0 'a b' makes a token that is not in the vocabulary");
  }
  EXPECT_THROW(Tokenizer::load(dir.path + "/missing.json"), Error);
}

}  // namespace
}  // namespace codealign::testing
