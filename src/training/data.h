// Training data: TRL's preference pairs ({"prompt", "chosen", "rejected"}, other fields kept
// as metadata), SFT examples ({"prompt", "completion"}) and GRPO groups ({"prompt",
// "completions": [{"completion", "completion_ids", "reward", "truncated"}]}), tokenized by the
// tokenizer's prompt rule, and batches of similar length. Torch-free.
//
// Truncation rule: a sequence is prompt ids (BOS once) + completion ids (+ EOS). When it is
// longer than max_length the completion is cut from the right (the EOS goes first); an
// example whose prompt alone leaves no room for a completion token is skipped and counted.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

namespace codealign::training {

// A prompt as the data gives it: text, or TRL's conversational form (a list of messages: an
// optional system message, then one user message), which only a chat format can render.
struct PromptText {
  PromptText(std::string text = "") : user(std::move(text)) {}
  std::string user;
  std::optional<std::string> system;
  bool is_messages = false;
};

// Completions may come with their token ids ("chosen_ids"/"rejected_ids", "completion_ids"):
// the ids the policy sampled, which training then uses instead of tokenizing the text again
// (a sampled text can tokenize to other ids than were sampled). Empty: tokenize the text.
struct PairExample {
  int line = 0;
  PromptText prompt;
  std::string chosen, rejected;
  std::vector<tokenizer::TokenId> chosen_ids, rejected_ids;
  nlohmann::json metadata;  // every other field of the line
};
struct SftExample {
  int line = 0;
  PromptText prompt;
  std::string completion;
  std::vector<tokenizer::TokenId> completion_ids;
};

// One prompt's sampled completions with their rewards (GRPO). `truncated`: the sampler stopped
// at its token limit, before the end token, which is then not appended.
struct GroupCompletion {
  std::string completion;
  std::vector<tokenizer::TokenId> completion_ids;
  double reward = 0;
  bool truncated = false;
};
struct GroupExample {
  int line = 0;
  PromptText prompt;
  std::vector<GroupCompletion> completions;
};

// Throw Error "<path>:<line>: ..." for bad JSON, missing or non-string fields, empty
// completions (an empty chosen/rejected/completion teaches nothing and hides data bugs) and
// ids that are not non-negative integers. Conversational lines (TRL) give the prompt as
// messages and each completion as a string or one assistant message.
std::vector<PairExample> read_pairs(const std::string& path);
std::vector<SftExample> read_sft(const std::string& path);
// Also: every group has the same number of completions (GRPO's G, at least 2) and finite
// rewards.
std::vector<GroupExample> read_groups(const std::string& path);

// Token ids with the loss on ids[prompt_length:].
struct Sequence {
  std::vector<tokenizer::TokenId> ids;
  size_t prompt_length = 0;
  size_t completion_tokens() const { return ids.size() - prompt_length; }
};

// How prompts become ids: as plain text, or rendered with an instruct model's chat format
// (the one `sample --chat` uses: the template's special tokens as ids, the messages untrusted).
// With a chat format the completion is the assistant's reply as the model writes it after the
// rendered prompt, ended by the format's end-of-turn token; without one it ends with EOS.
struct PromptRule {
  std::optional<tokenizer::ChatFormat> chat;
};

// Prompt (its text untrusted: no special tokens parsed) + completion + end token (none when
// `ended` is false: a completion cut at the sampler's limit); the
// completion's ids are `completion_ids` when given, else its tokenized text. nullopt when the
// prompt leaves no room under max_length. Throws Error for messages without a chat format.
std::optional<Sequence> make_sequence(const tokenizer::Tokenizer& tokenizer, const PromptText& prompt,
                                      const std::string& completion,
                                      const std::vector<tokenizer::TokenId>& completion_ids, size_t max_length,
                                      const PromptRule& rule = {}, bool ended = true);

// The id that ends a completion: the chat format's end-of-turn token (the added token that ends
// its assistant_suffix, e.g. <|im_end|>, <|EOT|>), else EOS; nullopt when the tokenizer has neither.
std::optional<tokenizer::TokenId> end_of_completion_id(const tokenizer::Tokenizer& tokenizer, const PromptRule& rule);

// Indices grouped into batches of `batch_size` similar lengths (sorted, cut, then the batches
// shuffled with `seed`), so that little compute goes to padding.
std::vector<std::vector<size_t>> length_batches(const std::vector<size_t>& lengths, size_t batch_size, uint64_t seed);

}  // namespace codealign::training
