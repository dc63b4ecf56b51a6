// Training and evaluation tasks must not overlap: a contaminated evaluation measures recall.
#include <algorithm>
#include <cctype>
#include <map>

#include "pipeline/pipeline.h"

namespace codealign::pipeline {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = char(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Lower case, runs of whitespace as one space, none at the ends.
std::string normalised_prompt(const std::string& text) {
  std::string out;
  for (char c : lower(text)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// "Mbpp/11" and "11" are the same MBPP task.
std::string normalised_id(const std::string& id) {
  std::string text = lower(id);
  return text.starts_with("mbpp/") ? text.substr(5) : text;
}

}  // namespace

std::vector<std::string> overlapping_tasks(const tasks::TaskSet& train, const tasks::TaskSet& eval) {
  std::map<std::string, std::string> ids, prompts;  // normalised -> the training task's id
  for (const tasks::Task& t : train.tasks) {
    ids.emplace(normalised_id(t.task_id), t.task_id);
    prompts.emplace(normalised_prompt(t.prompt), t.task_id);
  }
  std::vector<std::string> found;
  for (const tasks::Task& t : eval.tasks) {
    auto by_id = ids.find(normalised_id(t.task_id));
    auto by_prompt = prompts.find(normalised_prompt(t.prompt));
    if (by_id != ids.end())
      found.push_back(eval.name + " '" + t.task_id + "' (the same id as training task '" + by_id->second + "')");
    else if (by_prompt != prompts.end())
      found.push_back(eval.name + " '" + t.task_id + "' (the same prompt as training task '" + by_prompt->second + "')");
  }
  return found;
}

}  // namespace codealign::pipeline
