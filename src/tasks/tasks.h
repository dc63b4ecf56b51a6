// codealign tasks: programming problems with unit tests, loaded from the standard benchmarks
// (HumanEval, HumanEval+, MBPP full and sanitized, MBPP+) or a user's JSONL file, or generated
// (the built-in suite, below), and turned into sandbox jobs; exported as tasks or SFT JSONL.
// Torch-free. Loaders throw codealign::Error naming the file and line.
//
// Sample programs: a sample's `completion` is appended to the task's `code_prompt` (HumanEval
// style); where `code_prompt` is empty (MBPP) the completion is the whole program. A `solution`
// is always the whole program.
#pragma once
#include <cstdint>
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

  // Built-in tasks: a plausible wrong completion (an off-by-one constant, `>=` for `>`, the
  // wrong reduction) that fails at least one of `tests`; "" elsewhere.
  std::string buggy_completion;

  bool has_value_tests() const { return !base_inputs_json.empty(); }
  bool has_io_tests() const { return !io_tests.empty(); }
};

struct TaskSet {
  std::string name;         // "humaneval", "mbpp", "mbpp+", "builtin:train", ..., or a file stem
  std::string source_path;  // the file it was loaded from ("builtin:train" for a built-in set)
  std::string source_hash;  // content hash of that file, or of the generated tasks (keys ground-truth caches)
  std::vector<Task> tasks;

  const Task* find(const std::string& task_id) const;  // nullptr if absent
};

// The built-in benchmark names, in the order above.
const std::vector<std::string>& benchmark_names();

// Loads a built-in benchmark from `data_dir` (the layout of ../shared/data). Unknown names are
// refused with the list of valid ones.
TaskSet load_benchmark(const std::string& name, const std::string& data_dir);

// A task source: a built-in set ("builtin:train", "builtin:heldout"; see below), a benchmark
// name, a benchmark split ("mbpp:train" 601-974, "mbpp:test" 11-510, "mbpp:validation" 511-600,
// "mbpp:prompt" 1-10; also for mbpp-sanitized), or a path to a user's tasks JSONL (anything with
// a '/' or ending in .jsonl); any of them may end in a slice, "mbpp:train[:50]",
// "humaneval[10:20]" (tasks in file order, bounds as in Python). The set is named by `spec`.
TaskSet load_task_source(const std::string& spec, const std::string& data_dir);

// A user's tasks, one JSON object per line:
//   {"task_id": "...", "prompt": "...", "tests": ["assert ...", ...],
//    "entry_point": "...", "canonical_solution": "..."}   (the last two optional)
// or with stdin/stdout tests: "tests": [{"input": "1 2\n", "output": "3\n"}, ...] (one form per
// task). A completion (and the canonical solution) is appended to the prompt.
TaskSet load_task_file(const std::string& path);

// What a command's --tasks names: a built-in set ("builtin:heldout", slices too) through
// load_task_source, anything else as a user's tasks file (load_task_file).
TaskSet load_tasks_argument(const std::string& value, const std::string& data_dir);

// ---- The built-in suite (builtin.cpp, builtin_families.cpp) -----------------------------------
// Small Python functions in HumanEval's shape, generated from a seed, needing no data files. A
// task is a composition of building blocks from one family: lists of integers (filter -> map ->
// reduction), strings (select -> reshape -> result), integers (step -> step -> result), counting
// words into a dict (filter -> key -> result). Its prompt is the signature and a docstring that
// states the blocks in words (several wordings each) with one `>>>` example; the canonical
// completion is one short line per block; its tests are 5 check(candidate) asserts, as
// HumanEval's, with at least 3 distinct results (2 for True/False), computed in C++ from the same
// blocks. "builtin:heldout" holds whole compositions that "builtin:train" never has (a fixed
// hash of the composition decides, about one in ten), each of whose blocks it does have.
// Deterministic: a seed gives the same tasks on every platform. Thread-safe.

struct BuiltinTask {
  Task task;                        // id "builtin/<set>/<n>", split "<set>", buggy_completion set
  std::vector<std::string> blocks;  // its building blocks in order, e.g. "list.keep_even", "list.sum"
};

constexpr uint64_t builtin_default_seed = 20240612;  // the seed of the named sets

// The built-in set names: "train" (20,000 tasks), "heldout" (300).
const std::vector<std::string>& builtin_set_names();

// `count` tasks of a set (0: its size). Task i is of family i % 4 (list, string, number, dict),
// and each family takes its compositions in turn (in a seeded order), so that any prefix spreads
// evenly over both; the families are drawn independently, each on its own thread, and a smaller
// count gives a prefix of a larger one. Unknown set names are refused with the valid ones.
std::vector<BuiltinTask> generate_builtin_tasks(const std::string& set, uint64_t seed = builtin_default_seed,
                                                size_t count = 0);

// A named set as load_task_source gives it ("builtin:<set>"), its source_hash a hash of its content.
TaskSet load_builtin_set(const std::string& set);

// ---- Export (export.cpp) ------------------------------------------------------------------------

// Writes a set as users' tasks JSONL (task_id, prompt, tests, entry_point, canonical_solution as a
// completion), which load_task_file reads back to the same tasks. Refuses tasks that format
// cannot hold: evalplus value tests, or prose prompts whose solutions are whole programs (MBPP).
// The file is replaced atomically.
void write_task_file(const TaskSet& set, const std::string& path);

// Writes one SFT example per task, as `train sft` reads them: {"prompt", "completion", "task_id",
// "buggy"}, the completion being what a model appends to the prompt (the canonical solution's
// body; for prose prompts the whole program). round(buggy_fraction x tasks) of them, chosen by
// `seed`, carry the task's buggy_completion instead ("buggy": true). Returns how many do.
size_t write_sft_file(const TaskSet& set, const std::string& path, double buggy_fraction, uint64_t seed);

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
// The data directory that ships with codealign (the checkout's data/, or the installed one),
// whatever $CODEALIGN_DATA_DIR says: it also holds the demo's model (data/demo-model).
std::string bundled_data_dir();

}  // namespace codealign::tasks
