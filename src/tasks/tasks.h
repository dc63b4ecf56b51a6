// codealign tasks: programming problems with unit tests, loaded from the standard benchmarks
// (HumanEval, HumanEval+, MBPP full and sanitized, MBPP+) or a user's JSONL file, and turned
// into sandbox jobs. Torch-free. Loaders throw codealign::Error naming the file and line.
//
// Sample programs: a sample's `completion` is appended to the task's `code_prompt` (HumanEval
// style); where `code_prompt` is empty (MBPP) the completion is the whole program. A `solution`
// is always the whole program.
#pragma once
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace codealign::tasks {

struct Task {
  std::string task_id;      // as the benchmark spells it: "HumanEval/0", "11" (MBPP), "Mbpp/2"
  std::string prompt;       // what a model is shown (HumanEval: the code; MBPP: the standard instruction)
  std::string code_prompt;  // what a completion is appended to; "" when a completion is a whole program
  std::string entry_point;
  std::string canonical_solution;  // a whole program that passes
  std::string split;               // MBPP: "prompt" (1-10), "test" (11-510), "validation" (511-600), "train" (601-974)

  // Assertion-style tests (HumanEval's check(), MBPP asserts): one snippet per separable test.
  std::vector<std::string> tests;

  // Stdin/stdout tests (APPS, CodeContests, TACO; users' files only): the program runs as a
  // script on each `input` and must print `output` (sandbox::Job::stdin_inputs has the rule).
  struct IoTest {
    std::string input, output;
  };
  std::vector<IoTest> io_tests;

  // evalplus value tests: JSON argument lists, compared against the canonical outputs.
  std::string base_inputs_json, plus_inputs_json;
  std::string input_adapter;  // harness reshaping of MBPP+ inputs
  std::string oracle;         // evalplus special comparison for this task
  double atol = 0;

  bool has_value_tests() const { return !base_inputs_json.empty(); }
  bool has_io_tests() const { return !io_tests.empty(); }
};

struct TaskSet {
  std::string name;         // "humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+", or a file stem
  std::string source_path;  // the file it was loaded from
  std::string source_hash;  // content hash of that file (keys ground-truth caches)
  std::vector<Task> tasks;

  const Task* find(const std::string& task_id) const;  // nullptr if absent
};

// The built-in benchmark names, in the order above.
const std::vector<std::string>& benchmark_names();

// Loads a built-in benchmark from `data_dir` (the layout of ../shared/data). Unknown names are
// refused with the list of valid ones.
TaskSet load_benchmark(const std::string& name, const std::string& data_dir);

// A task source: a benchmark name, a benchmark split ("mbpp:train" 601-974, "mbpp:test"
// 11-510, "mbpp:validation" 511-600, "mbpp:prompt" 1-10; also for mbpp-sanitized), or a path
// to a user's tasks JSONL (anything with a '/' or ending in .jsonl); any of them may end in a
// slice, "mbpp:train[:50]", "humaneval[10:20]" (tasks in file order, bounds as in Python). The
// set is named by `spec`.
TaskSet load_task_source(const std::string& spec, const std::string& data_dir);

// A user's tasks, one JSON object per line:
//   {"task_id": "...", "prompt": "...", "tests": ["assert ...", ...],
//    "entry_point": "...", "canonical_solution": "..."}   (the last two optional)
// or with stdin/stdout tests: "tests": [{"input": "1 2\n", "output": "3\n"}, ...] (one form per
// task). A completion (and the canonical solution) is appended to the prompt.
TaskSet load_task_file(const std::string& path);

// The program a sample stands for: code_prompt + completion, or the solution itself.
std::string sample_program(const Task& task, const std::string& text, bool is_completion);

// The assertion-style job for a program.
sandbox::Job assertion_job(const Task& task, const std::string& program);

// The stdin/stdout job for a program: one run per io test, expected outputs in expected_json.
sandbox::Job io_job(const Task& task, const std::string& program);

// The job that runs a program against the task's own tests: io_job for a task with stdin/stdout
// tests, else assertion_job. (Value tests need ground truth; evaluation builds those jobs.)
sandbox::Job job_for(const Task& task, const std::string& program);

// The data directory: $CODEALIGN_DATA_DIR, else the benchmarks shipped in the checkout's data/.
std::string default_data_dir();

}  // namespace codealign::tasks
