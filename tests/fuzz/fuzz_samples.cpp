// Samples JSONL (evaluate --samples, preferences, align --off-policy-samples), as other tools write it.
#include "evaluation/evaluation.h"
#include "fuzz_input.h"
#include "tasks/tasks.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tasks::TaskSet tasks = tasks::load_task_source("builtin:heldout[:20]", "");
  std::string path = fuzz::input_file(data, size, "samples.jsonl");
  return fuzz::expect_parse_or_error([&] { evaluation::read_samples(path, tasks); });
}
