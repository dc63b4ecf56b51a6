// Users' task files (evaluate --tasks, align --train-tasks): assertion and stdin/stdout forms.
#include "fuzz_input.h"
#include "tasks/tasks.h"

using namespace codealign;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = fuzz::input_file(data, size, "tasks.jsonl");
  return fuzz::expect_parse_or_error([&] { tasks::load_task_file(path); });
}
