// The benchmark loaders against the real data in ../shared/data.
#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace {

TEST(Loaders, BenchmarkSizesAndFields) {
  const std::string data = testing::data_dir();
  TaskSet humaneval = load_benchmark("humaneval", data);
  ASSERT_EQ(humaneval.tasks.size(), 164u);
  const Task& first = humaneval.tasks.front();
  EXPECT_EQ(first.task_id, "HumanEval/0");
  EXPECT_EQ(first.entry_point, "has_close_elements");
  EXPECT_EQ(first.code_prompt, first.prompt);
  EXPECT_EQ(sample_program(first, "    return True\n", true), first.prompt + "    return True\n");
  EXPECT_NE(first.tests.at(0).find("check(has_close_elements)"), std::string::npos);

  TaskSet mbpp = load_benchmark("mbpp", data);
  ASSERT_EQ(mbpp.tasks.size(), 974u);
  const Task* eleven = mbpp.find("11");
  ASSERT_TRUE(eleven);
  EXPECT_EQ(eleven->split, "test");
  EXPECT_EQ(eleven->tests.size(), 3u);
  EXPECT_EQ(eleven->prompt.rfind("You are an expert Python programmer, and here is your task: ", 0), 0u);
  EXPECT_NE(eleven->prompt.find("Your code should pass these tests:\n\nassert "), std::string::npos);
  EXPECT_EQ(sample_program(*eleven, "x", true), "x");  // an MBPP completion is the whole program
  int counts[4] = {};
  for (const auto& t : mbpp.tasks)
    ++counts[t.split == "prompt" ? 0 : t.split == "test" ? 1 : t.split == "validation" ? 2 : 3];
  EXPECT_EQ(counts[0], 10);
  EXPECT_EQ(counts[1], 500);
  EXPECT_EQ(counts[2], 90);
  EXPECT_EQ(counts[3], 374);
  // Set-up code runs before each assert (task 367 builds a tree).
  EXPECT_EQ(mbpp.find("367")->tests[0].rfind("root = Node(1)", 0), 0u);

  EXPECT_EQ(load_benchmark("mbpp-sanitized", data).tasks.size(), 427u);

  TaskSet plus = load_benchmark("humaneval+", data);
  ASSERT_EQ(plus.tasks.size(), 164u);
  EXPECT_EQ(plus.find("HumanEval/32")->oracle, "find_zero");
  EXPECT_EQ(plus.find("HumanEval/2")->atol, 1e-6);
  EXPECT_EQ(plus.find("HumanEval/0")->base_inputs_json.front(), '[');

  TaskSet mbpp_plus = load_benchmark("mbpp+", data);
  ASSERT_EQ(mbpp_plus.tasks.size(), 378u);
  EXPECT_EQ(mbpp_plus.find("Mbpp/2")->oracle, "set_equal");
  EXPECT_EQ(mbpp_plus.find("Mbpp/2")->input_adapter, "tuple_args");
  bool raw_infinity = false;
  for (const auto& t : mbpp_plus.tasks) raw_infinity |= t.plus_inputs_json.find("-Infinity") != std::string::npos;
  EXPECT_TRUE(raw_infinity);  // kept raw for Python, which nlohmann could not have parsed
}

TEST(Loaders, UnknownBenchmarkListsValidNames) {
  auto message = [](const std::string& name) -> std::string {
    try {
      load_benchmark(name, testing::data_dir());
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string valid =
      "; expected one of: humaneval, humaneval+, mbpp, mbpp-sanitized, mbpp+ (or builtin:train, builtin:heldout, a "
      "split such as mbpp:test, or a tasks JSONL file)";
  EXPECT_EQ(message("humaneval-x"), "tasks: unknown benchmark 'humaneval-x' (did you mean 'humaneval'?)" + valid);
  EXPECT_EQ(message("mbbp+"), "tasks: unknown benchmark 'mbbp+' (did you mean 'mbpp+'?)" + valid);
  EXPECT_EQ(message("apps"), "tasks: unknown benchmark 'apps'" + valid);
}

TEST(Loaders, UserTaskFileErrorsNameTheLine) {
  testing::TempDir dir;
  std::string path = dir.path + "/mine.jsonl";
  testing::write_text(path, R"({"task_id": "a", "prompt": "def f():\n", "tests": ["assert f() == 1"]})" "\n"
                            R"({"task_id": "a", "prompt": "def g():\n", "tests": ["assert g() == 1"]})" "\n");
  try {
    load_task_file(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: duplicate task_id 'a'");
  }
  testing::write_text(path, R"({"task_id": "a", "prompt": "def f():\n", "tests": []})" "\n");
  EXPECT_THROW(load_task_file(path), Error);
  testing::write_text(path, R"({"task_id": "a", "prompt": "def f():\n    return 1\n", "tests": ["assert f() == 1"]})");
  TaskSet set = load_task_file(path);
  EXPECT_EQ(set.name, "mine");
  EXPECT_EQ(set.tasks.at(0).tests.size(), 1u);
}

TEST(Loaders, UserTaskFileWithStdinStdoutTests) {
  testing::TempDir dir;
  std::string path = dir.path + "/cp.jsonl";
  testing::write_text(path, R"({"task_id": "sum", "prompt": "", "tests": [{"input": "1 2\n", "output": "3\n"}, )"
                            R"({"input": "5 5\n", "output": "10\n", "explanation": "ignored"}]})" "\n");
  TaskSet set = load_task_file(path);
  const Task& task = set.tasks.at(0);
  EXPECT_TRUE(task.has_io_tests());
  EXPECT_TRUE(task.tests.empty());
  ASSERT_EQ(task.io_tests.size(), 2u);
  EXPECT_EQ(task.io_tests[1].input, "5 5\n");
  EXPECT_EQ(task.io_tests[1].output, "10\n");

  sandbox::Job job = job_for(task, "print(sum(map(int, input().split())))\n");
  EXPECT_EQ(job.program, "print(sum(map(int, input().split())))\n");
  EXPECT_EQ(job.stdin_inputs, (std::vector<std::string>{"1 2\n", "5 5\n"}));
  EXPECT_EQ(job.expected_json, R"(["3\n","10\n"])");
  EXPECT_TRUE(job.tests.empty());
  EXPECT_TRUE(job.entry_point.empty());

  // Assertion tasks keep their assertion jobs.
  testing::write_text(path, R"({"task_id": "a", "prompt": "", "tests": ["assert True"]})" "\n");
  sandbox::Job asserted = job_for(load_task_file(path).tasks.at(0), "x = 1\n");
  EXPECT_EQ(asserted.tests, (std::vector<std::string>{"assert True"}));
  EXPECT_TRUE(asserted.stdin_inputs.empty());
  EXPECT_TRUE(asserted.expected_json.empty());
}

TEST(Loaders, StdinStdoutTestErrorsNameTheLine) {
  testing::TempDir dir;
  std::string path = dir.path + "/cp.jsonl";
  auto error_for = [&](const std::string& tests) -> std::string {
    testing::write_text(path, R"({"task_id": "ok", "prompt": "", "tests": ["assert True"]})" "\n"
                              R"({"task_id": "t", "prompt": "", "tests": )" + tests + "}\n");
    try {
      load_task_file(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string mixed = path + ":2: field 'tests' mixes assertion strings and {\"input\", \"output\"} objects";
  EXPECT_EQ(error_for(R"([{"input": "", "output": ""}, "assert True"])"), mixed);
  EXPECT_EQ(error_for(R"(["assert True", {"input": "", "output": ""}])"), mixed);
  EXPECT_EQ(error_for(R"([{"output": "1"}])"), path + ":2: tests[0]: field 'input' is missing");
  EXPECT_EQ(error_for(R"([{"input": "", "output": ""}, {"input": "1"}])"), path + ":2: tests[1]: field 'output' is missing");
  EXPECT_EQ(error_for(R"([{"input": 1, "output": "1"}])"), path + ":2: tests[0]: field 'input' is not a string");
  EXPECT_EQ(error_for(R"([{"input": "1", "output": ["1"]}])"), path + ":2: tests[0]: field 'output' is not a string");
  EXPECT_EQ(error_for(R"([{"input": "1", "output": "1"}, 7])"), path + ":2: tests[1] is not an object");
  EXPECT_EQ(error_for(R"(["assert True", 7])"), path + ":2: field 'tests' holds a non-string");
  EXPECT_EQ(error_for("[]"),
            path + ":2: field 'tests' must be a non-empty list of strings or of {\"input\", \"output\"} objects");
}

}  // namespace
}  // namespace codealign::tasks
