// The sections of the report page, each a function from the run's files to HTML, and the small
// helpers they share. Private to report/; report.cpp puts them in order.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/run_files.h"

namespace codealign::report {

std::string text_of(const Json& j, const char* key);  // a field as text: a string as is, else its JSON; "" when missing
double number_of(const Json& j, const char* key);     // a number field; NaN when missing

std::string verdict_color(const std::string& verdict);
// Known verdicts first in the order of their scores (passed first), then any other by name.
std::vector<std::string> ordered_verdicts(const std::set<std::string>& present);
std::string verdict_badge(const std::string& verdict);  // the verdict on its colour

// sections.cpp
std::string headline_section(const RunFiles& run, const Options& options);  // pass@k, intervals, charts
std::string training_section(const RunFiles& run);                          // metrics.jsonl curves
std::string outcomes_section(const RunFiles& run);                          // verdicts of each sample set
std::string provenance_section(const RunFiles& run, const Options& options);  // config, versions, times
// pairs.cpp
std::string pairs_section(const RunFiles& run);                           // statistics, histograms
std::string inspector_section(const RunFiles& run, const Options& options);  // the pairs themselves

}  // namespace codealign::report
