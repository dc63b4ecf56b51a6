// Canonical outputs of value-test tasks (private to the evaluation part): computed by running
// each canonical solution in the sandbox, with per-input times for evalplus's time limits, and
// cached on disk keyed by the task file's hash and the interpreter.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "evaluation/evaluation.h"

namespace codealign::evaluation {

struct GroundTruth {
  std::string base_outputs, plus_outputs;  // opaque JSON from the harness
  std::vector<double> base_times, plus_times;
};

// Throws Error naming the task whose canonical solution fails on its own inputs.
std::map<std::string, GroundTruth> ground_truth(const tasks::TaskSet& tasks, sandbox::Executor& executor,
                                                const Options& options);

}  // namespace codealign::evaluation
