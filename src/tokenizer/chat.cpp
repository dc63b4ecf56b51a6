// Chat formats for instruct models, and the prompt/completion tokenization rule.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tokenizer/tokenizer.h"

namespace codealign::tokenizer {

ChatFormat builtin_chat_format(const std::string& name) {
  const std::string chatml_turns = "<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n";
  if (name == "chatml")  // CodeQwen1.5-Chat, Qwen3: no system turn unless one is given
    return {"chatml", "<|im_start|>system\n{system}<|im_end|>\n" + chatml_turns, chatml_turns, "",
            "<|im_end|>"};
  if (name == "qwen2.5")  // Qwen2.5(-Coder)-Instruct: chatml with a default system turn
    return {"qwen2.5", "<|im_start|>system\n{system}<|im_end|>\n" + chatml_turns, "",
            "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.", "<|im_end|>"};
  if (name == "llama-2")  // Llama-2-Chat, CodeLlama-Instruct; BOS comes from the tokenizer
    return {"llama-2", "[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]", "[INST] {user} [/INST]",
            "", "</s>"};
  if (name == "deepseek-coder")  // deepseek-coder-*-instruct's chat_template, word for word
    return {"deepseek-coder", "{system}### Instruction:\n{user}\n### Response:",
            "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by "
            "Deepseek Company, and you only answer questions related to computer science. For "
            "politically sensitive questions, security and privacy issues, and other non-computer "
            "science questions, you will refuse to answer\n### Instruction:\n{user}\n### Response:",
            "", "\n<|EOT|>"};
  throw Error("tokenizer: unknown chat format '" + name +
              "' (known: chatml, qwen2.5, llama-2, deepseek-coder, or a format file)");
}

std::optional<ChatFormat> detect_chat_format(const std::string& config_path) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: bad JSON in '" + config_path + "': " + e.what());
  }
  if (!config.contains("chat_template") || !config["chat_template"].is_string()) return std::nullopt;
  std::string tmpl = config["chat_template"].get<std::string>();
  auto has = [&](const char* text) { return tmpl.find(text) != std::string::npos; };
  if (has("<|im_start|>")) return builtin_chat_format(has("You are Qwen, created by Alibaba Cloud") ? "qwen2.5" : "chatml");
  if (has("### Instruction:") && has("### Response:")) return builtin_chat_format("deepseek-coder");
  if (has("[INST]") && has("<<SYS>>")) return builtin_chat_format("llama-2");  // not Mistral's
  return std::nullopt;
}

ChatFormat load_chat_format(const std::string& path) {
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("tokenizer: bad JSON in chat format '" + path + "': " + e.what());
  }
  auto field = [&](const char* key, bool required) {
    if (!file.contains(key)) {
      if (required) throw Error("tokenizer: chat format '" + path + "' lacks field '" + key + "'");
      return std::string();
    }
    if (!file[key].is_string())
      throw Error("tokenizer: chat format '" + path + "' field '" + key + "' must be a string");
    return file[key].get<std::string>();
  };
  ChatFormat format{field("name", false), field("prompt_template", true),
                    field("prompt_template_no_system", false), field("system_default", false),
                    field("assistant_suffix", false)};
  if (format.name.empty()) format.name = path;
  if (format.prompt_template.find("{user}") == std::string::npos)
    throw Error("tokenizer: chat format '" + path + "' field 'prompt_template' has no {user}");
  return format;
}

Prompt render_chat(const ChatFormat& format, std::string_view user,
                   std::optional<std::string_view> system) {
  bool without_system = !system && !format.prompt_template_no_system.empty();
  const std::string& tmpl = without_system ? format.prompt_template_no_system : format.prompt_template;
  std::string_view system_text = system ? *system : std::string_view(format.system_default);
  Prompt prompt;
  for (size_t pos = 0; pos < tmpl.size();) {
    bool is_user = tmpl.compare(pos, 6, "{user}") == 0;
    bool is_system = tmpl.compare(pos, 8, "{system}") == 0;
    if (!is_user && !is_system) {
      prompt.text += tmpl[pos++];
      continue;
    }
    std::string_view content = is_user ? user : system_text;
    prompt.untrusted.push_back({prompt.text.size(), prompt.text.size() + content.size()});
    prompt.text += content;
    pos += is_user ? 6 : 8;
  }
  return prompt;
}

PromptCompletionIds encode_prompt_completion(const Tokenizer& tokenizer, const Prompt& prompt,
                                             std::string_view completion, bool append_eos) {
  PromptCompletionIds ids;
  EncodeOptions options;
  options.untrusted = prompt.untrusted;
  ids.prompt = tokenizer.encode(prompt.text, options);
  // BOS once: the post-processor's prefix unless the template already wrote it.
  const auto& prefix = tokenizer.prefix_ids();
  bool has_prefix = ids.prompt.size() >= prefix.size() &&
                    std::equal(prefix.begin(), prefix.end(), ids.prompt.begin());
  if (!has_prefix) ids.prompt.insert(ids.prompt.begin(), prefix.begin(), prefix.end());
  // The completion is what the model wrote after the prompt's ids: it continues the prompt
  // (no prefix space of its own), and special tokens in it are plain text.
  EncodeOptions continuation;
  continuation.parse_special = false;
  continuation.continuation = true;
  ids.completion = tokenizer.encode(completion, continuation);
  if (append_eos) {
    auto eos = tokenizer.eos_id();
    if (!eos) throw Error("tokenizer: cannot append EOS: the tokenizer has no eos token");
    ids.completion.push_back(*eos);
  }
  return ids;
}

}  // namespace codealign::tokenizer
