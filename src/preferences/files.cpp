// Reading judged samples from a samples/results pair of JSONL files; writing pairs and RFT data.
#include <map>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "preferences/preferences.h"

namespace codealign::preferences {
namespace {

std::string task_id_field(const Json& j, const JsonlLine& line) {
  auto id = j.find("task_id");
  if (id == j.end()) throw Error(line.where() + "field 'task_id' is missing");
  if (id->is_string()) return id->get<std::string>();
  if (id->is_number_integer()) return std::to_string(id->get<long long>());
  throw Error(line.where() + "field 'task_id' is neither a string nor an integer");
}

// The evaluated text: `completion` or `solution`, whichever the line has.
std::string evaluated_text(const Json& j, const JsonlLine& line) {
  bool completion = j.contains("completion"), solution = j.contains("solution");
  if (completion == solution)
    throw Error(line.where() + (completion ? "both 'completion' and 'solution' are present"
                                           : "neither 'completion' nor 'solution' is present"));
  return string_field(j, completion ? "completion" : "solution", line);
}

std::vector<int32_t> ids_field(const Json& j, const JsonlLine& line) {
  std::vector<int32_t> ids;
  auto field = j.find("completion_ids");
  if (field == j.end()) return ids;
  if (!field->is_array()) throw Error(line.where() + "field 'completion_ids' is not an array");
  for (const Json& id : *field) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > INT32_MAX)
      throw Error(line.where() + "field 'completion_ids' holds " + id.dump() + ", not a token id");
    ids.push_back(id.get<int32_t>());
  }
  return ids;
}

sandbox::Verdict verdict_field(const Json& j, const char* name, const JsonlLine& line) {
  std::string text = string_field(j, name, line);
  if (auto verdict = sandbox::verdict_from_name(text)) return *verdict;
  throw Error(line.where() + "field '" + name + "' holds an unknown verdict '" + text + "'");
}

int int_field(const Json& j, const std::string& name, const JsonlLine& line) {
  auto field = j.find(name);
  if (field == j.end() || !field->is_number_integer())
    throw Error(line.where() + "field '" + name + "' is missing or not an integer");
  return field->get<int>();
}

// Folds one results line (base and, when present, + outcome) into `sample`.
void add_outcome(JudgedSample& sample, const Json& j, const JsonlLine& line) {
  sample.verdict = verdict_field(j, "verdict", line);
  sample.tests_passed = int_field(j, "tests_passed", line);
  sample.tests_total = int_field(j, "tests_total", line);
  if (!j.contains("plus_verdict")) return;
  sandbox::Verdict plus = verdict_field(j, "plus_verdict", line);
  if (sample.verdict == sandbox::Verdict::passed) sample.verdict = plus;
  sample.tests_passed += int_field(j, "plus_tests_passed", line);
  sample.tests_total += int_field(j, "plus_tests_total", line);
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"; }

const std::string& prompt_of(const tasks::TaskSet& tasks, const std::string& task_id) {
  const tasks::Task* task = tasks.find(task_id);
  if (!task) throw Error("preferences: task '" + task_id + "' is not in '" + tasks.source_path + "'");
  return task->prompt;
}

}  // namespace

std::vector<JudgedSample> read_judged(const std::string& samples_path, const std::string& results_path,
                                      const tasks::TaskSet& tasks) {
  std::vector<JudgedSample> samples;
  std::vector<std::string> evaluated;  // per sample, to match the results line
  for_each_jsonl_line(samples_path, read_file(samples_path), [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    JudgedSample s;
    s.line = line.number;
    s.task_id = task_id_field(j, line);
    if (!tasks.find(s.task_id))
      throw Error(line.where() + "unknown task_id '" + s.task_id + "' for task set '" + tasks.name + "'");
    evaluated.push_back(evaluated_text(j, line));
    s.text = j.contains("response") ? string_field(j, "response", line) : evaluated.back();
    s.ids = ids_field(j, line);
    auto finish = j.find("finish_reason");
    if (finish != j.end() && !finish->is_string()) throw Error(line.where() + "field 'finish_reason' is not a string");
    s.truncated = finish != j.end() && *finish == "length";
    samples.push_back(std::move(s));
  });
  if (samples.empty()) throw Error("preferences: '" + samples_path + "' holds no samples");
  size_t next = 0;
  for_each_jsonl_line(results_path, read_file(results_path), [&](const JsonlLine& line) {
    if (next == samples.size())
      throw Error(line.where() + "more results than the " + std::to_string(samples.size()) + " samples of '" +
                  samples_path + "'");
    Json j = parse_json_object(line);
    JudgedSample& s = samples[next];
    std::string where_sample = samples_path + ":" + std::to_string(s.line);
    if (task_id_field(j, line) != s.task_id || evaluated_text(j, line) != evaluated[next])
      throw Error(line.where() + "does not match its sample " + where_sample + " (task_id '" + s.task_id +
                  "'): were these results evaluated from that samples file?");
    add_outcome(s, j, line);
    ++next;
  });
  if (next != samples.size())
    throw Error("preferences: '" + results_path + "' has " + std::to_string(next) + " results for the " +
                std::to_string(samples.size()) + " samples of '" + samples_path + "'");
  return samples;
}

void write_pairs(const std::string& path, const Pairs& pairs, const tasks::TaskSet& tasks,
                 const Provenance& provenance) {
  AtomicFile file(path);
  for (const Pair& p : pairs.pairs) {
    Json j = {{"prompt", prompt_of(tasks, p.chosen->task_id)},
              {"chosen", p.chosen->text},
              {"rejected", p.rejected->text},
              {"task_id", p.chosen->task_id},
              {"chosen_verdict", sandbox::verdict_name(p.chosen->verdict)},
              {"rejected_verdict", sandbox::verdict_name(p.rejected->verdict)},
              {"chosen_score", p.chosen_score},
              {"rejected_score", p.rejected_score},
              {"round", provenance.round},
              {"model", provenance.model}};
    // Ids only when both have them: a pair trains on one rule for both completions.
    if (!p.chosen->ids.empty() && !p.rejected->ids.empty()) {
      j["chosen_ids"] = p.chosen->ids;
      j["rejected_ids"] = p.rejected->ids;
    }
    file.write(dump(j));
  }
  file.commit();
}

void write_rft(const std::string& path, const std::vector<const JudgedSample*>& examples, const tasks::TaskSet& tasks) {
  AtomicFile file(path);
  for (const JudgedSample* s : examples) {
    Json j = {{"prompt", prompt_of(tasks, s->task_id)}, {"completion", s->text}, {"task_id", s->task_id}};
    if (!s->ids.empty()) j["completion_ids"] = s->ids;
    file.write(dump(j));
  }
  file.commit();
}

size_t write_groups(const std::string& path, const std::vector<JudgedSample>& samples, const tasks::TaskSet& tasks,
                    Reward kind, const ScoreConfig& config) {
  std::vector<std::string> order;
  std::map<std::string, Json> groups;
  for (const JudgedSample& s : samples) {
    auto [group, fresh] = groups.try_emplace(s.task_id);
    if (fresh) {
      order.push_back(s.task_id);
      group->second = {{"prompt", prompt_of(tasks, s.task_id)}, {"task_id", s.task_id}, {"completions", Json::array()}};
    }
    Json completion = {{"completion", s.text},
                       {"reward", reward(s, kind, config)},
                       {"truncated", s.truncated},
                       {"verdict", sandbox::verdict_name(s.verdict)}};
    if (!s.ids.empty()) completion["completion_ids"] = s.ids;
    group->second["completions"].push_back(completion);
  }
  AtomicFile file(path);
  for (const std::string& task_id : order) file.write(dump(groups[task_id]));
  file.commit();
  return order.size();
}

}  // namespace codealign::preferences
