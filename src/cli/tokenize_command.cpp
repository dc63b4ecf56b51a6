// `codealign tokenize`: text -> ids (or ids -> text with --decode), for humans and scripts.
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/error.h"
#include "tokenizer/tokenizer.h"

namespace codealign::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  std::string text, chat, system;
  bool decode = false, lines = false, jsonl = false, json = false, plain = false, add_special = false;
  bool skip_special = false, info = false;
};

std::vector<tokenizer::TokenId> parse_ids(const std::string& text, size_t line) {
  std::vector<tokenizer::TokenId> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < 0 || value > INT32_MAX)
      throw Error("tokenize: line " + std::to_string(line) + ": '" + word + "' is not a token id");
    ids.push_back(tokenizer::TokenId(value));
  }
  return ids;
}

std::string run_one(const tokenizer::Tokenizer& tok, const TokenizeOptions& o,
                    const std::optional<tokenizer::ChatFormat>& chat, const std::string& input, size_t line) {
  if (o.decode) {
    auto ids = parse_ids(input, line);
    std::string text = tok.decode(ids, {o.skip_special});
    return o.json ? nlohmann::json{{"text", text}}.dump() : text;
  }
  tokenizer::EncodeOptions options;
  options.parse_special = !o.plain;
  options.add_special_tokens = o.add_special;
  std::vector<tokenizer::TokenId> ids;
  if (chat) {  // the input is the user's message; the rendered prompt is what a model is given
    std::optional<std::string_view> system;
    if (!o.system.empty()) system = o.system;
    ids = tokenizer::encode_prompt_completion(tok, tokenizer::render_chat(*chat, input, system), "", false).prompt;
  } else {
    ids = tok.encode(input, options);
  }
  if (o.json) {
    nlohmann::json tokens = nlohmann::json::array();
    for (auto id : ids) tokens.push_back(tok.token_text(id));
    return nlohmann::json{{"ids", ids}, {"tokens", tokens}}.dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace);
  }
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

// A --jsonl line: a JSON string to encode, or a JSON array of ids to decode (as the plain
// space-separated form run_one reads).
std::string from_jsonl(const std::string& line, bool decode, size_t number) {
  nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
  if (!decode && value.is_string()) return value.get<std::string>();
  if (decode && value.is_array()) {
    std::string ids;
    for (const auto& id : value) ids += (id.is_number_integer() ? id.dump() : "?") + " ";
    return ids;
  }
  throw Error("tokenize: line " + std::to_string(number) + ": expected a JSON " +
              (decode ? "array of token ids" : "string"));
}

}  // namespace

Command add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* sub = app.add_subcommand(
      "tokenize", "Encode text to token ids (or decode ids with --decode) with a model's tokenizer");
  sub->add_option("--tokenizer", o->tokenizer,
                  "tokenizer.json, tokenizer.model, *.gguf, encoder.json/vocab.json, or a model directory")
      ->required();
  CLI::Option* text = sub->add_option("--text", o->text, "Text to encode (ids to decode); default: standard input");
  sub->add_flag("--decode", o->decode, "Read token ids (space-separated) and print their text");
  sub->add_flag("--lines", o->lines, "Treat each input line as its own text (one output line each)");
  sub->add_flag("--jsonl", o->jsonl,
                "Each input line is a JSON string (with --decode: a JSON array of ids); one output line each");
  sub->add_flag("--json", o->json, "Print JSON: {\"ids\", \"tokens\"} (or {\"text\"} with --decode)");
  sub->add_flag("--plain", o->plain, "Untrusted text: special tokens written in it stay plain text");
  sub->add_flag("--add-special-tokens", o->add_special, "Add the tokenizer's BOS/EOS as its config says");
  sub->add_flag("--skip-special-tokens", o->skip_special, "With --decode: leave special tokens out");
  sub->add_option("--chat", o->chat,
                  "Encode the text as the user's message of a chat prompt: chatml, qwen2.5, llama-2, "
                  "deepseek-coder, or a JSON format file");
  sub->add_option("--system", o->system, "With --chat: the system message (default: the format's)");
  sub->add_flag("--info", o->info, "Print what the tokenizer is (format, vocabulary size, special ids)");
  return [o, text] {
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(o->tokenizer);
    if (o->info) {
      auto show = [](std::optional<tokenizer::TokenId> id) { return id ? std::to_string(*id) : "none"; };
      std::cout << tok.description() << "  vocab " << tok.vocab_size() << "  bos " << show(tok.bos_id())
                << "  eos " << show(tok.eos_id()) << "  pad " << show(tok.pad_id()) << "\n";
      return exit_ok;
    }
    std::optional<tokenizer::ChatFormat> chat;
    if (!o->chat.empty())
      chat = o->chat.ends_with(".json") ? tokenizer::load_chat_format(o->chat) : tokenizer::builtin_chat_format(o->chat);
    std::string input = text->count() > 0 ? o->text
                                          : std::string(std::istreambuf_iterator<char>(std::cin), {});
    if (!o->lines && !o->jsonl) {
      std::cout << run_one(tok, *o, chat, input, 1) << (o->decode && !o->json ? "" : "\n");
      return exit_ok;
    }
    std::istringstream lines(input);
    std::string line;
    for (size_t number = 1; std::getline(lines, line); ++number)
      std::cout << run_one(tok, *o, chat, o->jsonl ? from_jsonl(line, o->decode, number) : line, number) << "\n";
    return exit_ok;
  };
}

}  // namespace codealign::cli
