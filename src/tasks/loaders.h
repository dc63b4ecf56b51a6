// The benchmark loaders behind load_benchmark (private to the tasks part).
#pragma once
#include <string>

#include "tasks/tasks.h"

namespace codealign::tasks {

TaskSet load_humaneval(const std::string& path);
TaskSet load_mbpp(const std::string& path);            // mbpp.jsonl (974)
TaskSet load_mbpp_sanitized(const std::string& path);  // sanitized-mbpp.json (427)
TaskSet load_evalplus(const std::string& path, const std::string& name);  // HumanEval+ / MBPP+ release

// The standard MBPP instruction prompt (Austin et al. 2021) for a description and its tests.
std::string mbpp_prompt(const std::string& text, const std::vector<std::string>& tests);
std::string mbpp_split(int task_number);

// Reads set.source_path, records its content hash in set.source_hash, returns the text.
std::string read_source(TaskSet& set);

// Throws if two tasks share an id.
void check_unique_ids(const TaskSet& set);

}  // namespace codealign::tasks
