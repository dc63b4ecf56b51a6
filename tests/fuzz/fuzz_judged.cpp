// A samples JSONL with its results JSONL (preferences, align's pairs): the input is the samples,
// a NUL byte, then the results.
#include <algorithm>

#include "fuzz_input.h"
#include "preferences/preferences.h"
#include "tasks/tasks.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tasks::TaskSet tasks = tasks::load_task_source("builtin:heldout[:20]", "");
  const uint8_t* split = std::find(data, data + size, uint8_t(0));
  std::string samples = fuzz::input_file(data, size_t(split - data), "samples.jsonl");
  std::string results = fuzz::input_file(split == data + size ? split : split + 1,
                                         size_t(data + size - std::min(data + size, split + 1)), "results.jsonl");
  return fuzz::expect_parse_or_error([&] {
    auto judged = preferences::read_judged(samples, results, tasks);
    preferences::make_pairs(judged, {});
  });
}
