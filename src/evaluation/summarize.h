// Internal to evaluation: what a report says about its per-sample results.
#pragma once
#include <vector>

#include "evaluation/evaluation.h"

namespace codealign::evaluation {

// From report.results: the distinct tasks, base verdict counts, unprotected verdicts and pass@k
// for `ks` per group ("plus" too when `has_plus`), the k a task lacks samples for left out.
void summarize(Report& report, const std::vector<int>& ks, bool has_plus);

}  // namespace codealign::evaluation
