#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "evaluation/evaluation.h"

namespace codealign::evaluation {

std::vector<Sample> read_samples(const std::string& path, const tasks::TaskSet& tasks) {
  std::vector<Sample> samples;
  std::string text = read_file(path);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Json j = parse_json_object(line);
    Sample sample;
    sample.line = line.number;
    auto id = j.find("task_id");
    if (id == j.end()) throw Error(line.where() + "field 'task_id' is missing");
    if (id->is_string()) sample.task_id = id->get<std::string>();
    else if (id->is_number_integer()) sample.task_id = std::to_string(id->get<long long>());
    else throw Error(line.where() + "field 'task_id' is neither a string nor an integer");
    if (!tasks.find(sample.task_id))
      throw Error(line.where() + "unknown task_id '" + sample.task_id + "' for benchmark '" + tasks.name + "'");
    bool has_completion = j.contains("completion"), has_solution = j.contains("solution");
    if (has_completion == has_solution)
      throw Error(line.where() + (has_completion ? "both 'completion' and 'solution' are present"
                                                 : "neither 'completion' nor 'solution' is present"));
    sample.is_completion = has_completion;
    sample.text = string_field(j, has_completion ? "completion" : "solution", line);
    samples.push_back(std::move(sample));
  });
  if (samples.empty()) throw Error("evaluation: '" + path + "' holds no samples");
  return samples;
}

}  // namespace codealign::evaluation
