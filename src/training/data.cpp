#include "training/data.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"

namespace codealign::training {
namespace {

// The content of a {"role", "content"} message whose role is `role`.
std::string message_content(const Json& message, const std::string& role, const std::string& where) {
  if (!message.is_object() || !message.contains("role") || !message.contains("content") ||
      !message["role"].is_string() || !message["content"].is_string())
    throw Error(where + "is not a {\"role\", \"content\"} message of strings");
  if (message["role"] != role)
    throw Error(where + "has role '" + message["role"].get<std::string>() + "' where '" + role + "' was expected");
  return message["content"].get<std::string>();
}

// A completion: a string, or TRL's conversational [{"role": "assistant", "content": ...}].
std::string completion_field(const Json& object, const char* name, const JsonlLine& line) {
  auto field = object.find(name);
  std::string text;
  if (field != object.end() && field->is_array()) {
    if (field->size() != 1) throw Error(line.where() + "field '" + name + "' must hold one assistant message");
    text = message_content((*field)[0], "assistant", line.where() + "field '" + name + "' ");
  } else {
    text = string_field(object, name, line);
  }
  if (text.empty()) throw Error(line.where() + "field '" + name + "' is empty");
  return text;
}

// The prompt: a string, or messages (an optional system message, then one user message).
PromptText prompt_field(const Json& object, const JsonlLine& line) {
  auto field = object.find("prompt");
  if (field == object.end() || !field->is_array()) return PromptText(string_field(object, "prompt", line));
  PromptText prompt;
  prompt.is_messages = true;
  const Json& messages = *field;
  bool has_system = !messages.empty() && messages[0].is_object() && messages[0].value("role", "") == "system";
  if (messages.size() != size_t(has_system ? 2 : 1))
    throw Error(line.where() + "field 'prompt' must hold one user message, after an optional system message "
                               "(multi-turn prompts are not supported)");
  if (has_system) prompt.system = message_content(messages[0], "system", line.where() + "field 'prompt' message 1 ");
  prompt.user = message_content(messages.back(), "user",
                                line.where() + "field 'prompt' message " + std::to_string(messages.size()) + " ");
  return prompt;
}

// Optional ids of a completion; absent: empty (the text is tokenized).
std::vector<tokenizer::TokenId> ids_field(Json& object, const char* name, const JsonlLine& line) {
  std::vector<tokenizer::TokenId> ids;
  auto field = object.find(name);
  if (field == object.end()) return ids;
  if (!field->is_array() || field->empty()) throw Error(line.where() + "field '" + name + "' is not a non-empty array");
  for (const Json& id : *field) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > INT32_MAX)
      throw Error(line.where() + "field '" + name + "' holds " + id.dump() + ", not a token id");
    ids.push_back(tokenizer::TokenId(id.get<long long>()));
  }
  object.erase(field);
  return ids;
}

}  // namespace

std::vector<PairExample> read_pairs(const std::string& path) {
  std::vector<PairExample> pairs;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) {
    Json object = parse_json_object(line);
    PairExample pair{line.number,
                     prompt_field(object, line),
                     completion_field(object, "chosen", line),
                     completion_field(object, "rejected", line),
                     ids_field(object, "chosen_ids", line),
                     ids_field(object, "rejected_ids", line),
                     nlohmann::json::object()};
    for (const auto& [key, value] : object.items())
      if (key != "prompt" && key != "chosen" && key != "rejected") pair.metadata[key] = value;
    pairs.push_back(std::move(pair));
  });
  if (pairs.empty()) throw Error(path + ": no preference pairs");
  return pairs;
}

std::vector<SftExample> read_sft(const std::string& path) {
  std::vector<SftExample> examples;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) {
    Json object = parse_json_object(line);
    examples.push_back({line.number, prompt_field(object, line), completion_field(object, "completion", line),
                        ids_field(object, "completion_ids", line)});
  });
  if (examples.empty()) throw Error(path + ": no examples");
  return examples;
}

std::vector<GroupExample> read_groups(const std::string& path) {
  std::vector<GroupExample> groups;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) {
    Json object = parse_json_object(line);
    GroupExample group{line.number, prompt_field(object, line), {}};
    auto completions = object.find("completions");
    if (completions == object.end() || !completions->is_array() || completions->size() < 2)
      throw Error(line.where() + "field 'completions' must be an array of at least 2 completions (a group)");
    for (size_t i = 0; i < completions->size(); ++i) {
      Json& item = (*completions)[i];
      std::string where = "completions[" + std::to_string(i) + "]";
      if (!item.is_object()) throw Error(line.where() + "field '" + where + "' is not an object");
      auto reward = item.find("reward");
      if (reward == item.end() || !reward->is_number() || !std::isfinite(reward->get<double>()))
        throw Error(line.where() + "field '" + where + ".reward' is not a finite number");
      auto truncated = item.find("truncated");
      if (truncated != item.end() && !truncated->is_boolean())
        throw Error(line.where() + "field '" + where + ".truncated' is not true or false");
      // An empty completion is a draw of the policy too (it ended at once): it trains as the end token.
      group.completions.push_back({string_field(item, "completion", line), ids_field(item, "completion_ids", line),
                                   reward->get<double>(), truncated != item.end() && truncated->get<bool>()});
    }
    if (!groups.empty() && groups[0].completions.size() != group.completions.size())
      throw Error(line.where() + "has " + std::to_string(group.completions.size()) + " completions where line " +
                  std::to_string(groups[0].line) + " has " + std::to_string(groups[0].completions.size()) +
                  " (every group must have the same size)");
    groups.push_back(std::move(group));
  });
  if (groups.empty()) throw Error(path + ": no groups");
  return groups;
}

std::optional<tokenizer::TokenId> end_of_completion_id(const tokenizer::Tokenizer& tokenizer, const PromptRule& rule) {
  if (rule.chat && !rule.chat->assistant_suffix.empty()) {
    // An added token is what makes the suffix encode differently with and without parsing them
    // (<|EOT|> is added but not "special" in every vocabulary).
    tokenizer::EncodeOptions as_text;
    as_text.parse_special = false;
    std::vector<tokenizer::TokenId> suffix = tokenizer.encode(rule.chat->assistant_suffix);
    if (!suffix.empty() && suffix != tokenizer.encode(rule.chat->assistant_suffix, as_text)) return suffix.back();
  }
  return tokenizer.eos_id();
}

std::optional<Sequence> make_sequence(const tokenizer::Tokenizer& tokenizer, const PromptText& prompt,
                                      const std::string& completion,
                                      const std::vector<tokenizer::TokenId>& completion_ids, size_t max_length,
                                      const PromptRule& rule, bool ended) {
  if (prompt.is_messages && !rule.chat)
    throw Error("training: a prompt given as chat messages needs a chat format (hint: --chat auto or a format name)");
  tokenizer::Prompt rendered = rule.chat ? tokenizer::render_chat(*rule.chat, prompt.user, prompt.system)
                                         : tokenizer::Prompt{prompt.user, {{0, prompt.user.size()}}};
  auto ids = tokenizer::encode_prompt_completion(tokenizer, rendered, completion_ids.empty() ? completion : "", false);
  if (!completion_ids.empty()) ids.completion = completion_ids;
  if (auto end = end_of_completion_id(tokenizer, rule); end && ended) ids.completion.push_back(*end);
  if (ids.prompt.size() >= max_length) return std::nullopt;
  Sequence sequence{ids.prompt, ids.prompt.size()};
  size_t room = max_length - ids.prompt.size();
  sequence.ids.insert(sequence.ids.end(), ids.completion.begin(),
                      ids.completion.begin() + long(std::min(room, ids.completion.size())));
  return sequence;
}

std::vector<std::vector<size_t>> length_batches(const std::vector<size_t>& lengths, size_t batch_size, uint64_t seed) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += batch_size)
    batches.emplace_back(order.begin() + long(i), order.begin() + long(std::min(order.size(), i + batch_size)));
  std::mt19937_64 rng(seed);
  for (size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[size_t(rng() % i)]);
  return batches;
}

}  // namespace codealign::training
