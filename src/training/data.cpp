#include "training/data.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"

namespace codealign::training {
namespace {

std::string completion_field(const Json& object, const char* name, const JsonlLine& line) {
  std::string text = string_field(object, name, line);
  if (text.empty()) throw Error(line.where() + "field '" + name + "' is empty");
  return text;
}

}  // namespace

std::vector<PairExample> read_pairs(const std::string& path) {
  std::vector<PairExample> pairs;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) {
    Json object = parse_json_object(line);
    PairExample pair{line.number, string_field(object, "prompt", line), completion_field(object, "chosen", line),
                     completion_field(object, "rejected", line), nlohmann::json::object()};
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
    examples.push_back({line.number, string_field(object, "prompt", line), completion_field(object, "completion", line)});
  });
  if (examples.empty()) throw Error(path + ": no examples");
  return examples;
}

std::optional<Sequence> make_sequence(const tokenizer::Tokenizer& tokenizer, const std::string& prompt,
                                      const std::string& completion, size_t max_length) {
  tokenizer::Prompt untrusted{prompt, {{0, prompt.size()}}};
  auto ids = tokenizer::encode_prompt_completion(tokenizer, untrusted, completion, tokenizer.eos_id().has_value());
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
