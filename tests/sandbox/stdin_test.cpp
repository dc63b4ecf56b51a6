// Stdin/stdout jobs (APPS, CodeContests, TACO): the program runs as a script once per test with
// the test's input on stdin, and its stdout is compared, outside the program's process, with the
// expected output after the judges' whitespace rule.
// Jobs that must finish get a timeout far beyond their work; the job that must time out never
// ends, so no verdict depends on speed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "support/test_support.h"

namespace codealign::sandbox {

// Failure messages name verdicts (found by gtest through argument-dependent lookup).
void PrintTo(Verdict verdict, std::ostream* out) { *out << verdict_name(verdict); }

namespace {

constexpr double must_finish_s = 120.0;
constexpr double endless_s = 1.0;

class StdinTests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(testing::test_config(must_finish_s)); }
  static void TearDownTestSuite() { delete executor; }
  static Executor* executor;
};
Executor* StdinTests::executor = nullptr;

struct Io {
  std::string input, output;
};

Job io_job(const std::string& program, const std::vector<Io>& tests) {
  Job job;
  job.program = program;
  nlohmann::json expected = nlohmann::json::array();
  for (const Io& test : tests) {
    job.stdin_inputs.push_back(test.input);
    expected.push_back(test.output);
  }
  job.expected_json = expected.dump();
  return job;
}

std::string describe(const Outcome& o) {
  return std::string(verdict_name(o.verdict)) + " " + o.error_type + ": " + o.message + "\nstderr: " + o.stderr_text;
}

TEST_F(StdinTests, ProgramsReadTheirInputTheWaysJudgesAllow) {
  const std::vector<Io> sums = {{"1 2\n", "3\n"}, {"1 2\n3 4\n", "10\n"}};
  const std::vector<std::string> programs = {
      // input() for the first line, sys.stdin for the rest, behind the usual __main__ guard.
      "import sys\n"
      "def main():\n"
      "    a, b = map(int, input().split())\n"
      "    print(a + b + sum(map(int, sys.stdin.read().split())))\n"
      "if __name__ == '__main__':\n"
      "    main()\n",
      // The file descriptors themselves.
      "import os\nos.write(1, b'%d\\n' % sum(map(int, open(0).read().split())))\n",
      "import sys\nsys.stdout.buffer.write(b'%d\\n' % sum(map(int, sys.stdin.buffer.read().split())))\n",
      // main() in a thread with a bigger stack: the run waits for it as the interpreter would.
      "import sys, threading\n"
      "def main():\n"
      "    print(sum(map(int, sys.stdin.read().split())))\n"
      "threading.stack_size(1 << 26)\n"
      "threading.Thread(target=main).start()\n",
      // A fast-IO template: sys.stdout buffers everything and writes it when flushed at exit.
      "import io, os, sys\n"
      "class Output(io.IOBase):\n"
      "    def __init__(self):\n"
      "        self.buffer = io.BytesIO()\n"
      "    def write(self, text):\n"
      "        return self.buffer.write(text.encode())\n"
      "    def flush(self):\n"
      "        os.write(1, self.buffer.getvalue())\n"
      "        self.buffer = io.BytesIO()\n"
      "sys.stdout = Output()\n"
      "print(sum(map(int, sys.stdin.buffer.read().split())))\n",
  };
  for (const std::string& program : programs) {
    Outcome o = executor->run_one(io_job(program, sums));
    EXPECT_EQ(o.verdict, Verdict::passed) << program << describe(o);
    EXPECT_EQ(o.tests_passed, 2) << program;
    EXPECT_EQ(o.tests_total, 2) << program;
    EXPECT_EQ(o.test_passed, (std::vector<bool>{true, true})) << program;
  }
  Outcome text = executor->run_one(io_job("print(input().upper())\n", {{"héllo wörld\n", "HÉLLO WÖRLD\n"}}));
  EXPECT_EQ(text.verdict, Verdict::passed) << describe(text);
}

// A program that echoes line by line fills its output pipe long before it has read a 2 MB
// input: the input must be fed while the output is drained.
TEST_F(StdinTests, LargeInputsAndOutputsFlowTogether) {
  std::string big;
  for (int i = 0; i < 200000; ++i) big += std::to_string(i) + " abcdef\n";
  Outcome o = executor->run_one(io_job("import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n", {{big, big}}));
  EXPECT_EQ(o.verdict, Verdict::passed) << describe(o);
}

TEST_F(StdinTests, TrailingWhitespaceIsNormalisedAsJudgesDo) {
  const std::string echo = "import sys\nsys.stdout.write(sys.stdin.read())\n";
  const std::vector<Io> same = {
      {"3", "3\n"},                          // no final newline
      {"3   \r\n\n\n", "3"},                 // trailing spaces, CRLF and blank lines
      {"a b \t\r\nc\r\n", "a b\nc  \n\n"},  // every line's trailing whitespace
      {"", "\n\n"},                          // nothing is empty lines
  };
  Outcome o = executor->run_one(io_job(echo, same));
  EXPECT_EQ(o.verdict, Verdict::passed) << describe(o);
  EXPECT_EQ(o.tests_passed, 4);

  const std::vector<Io> different = {{"3  4\n", "3 4\n"}, {"\n3\n", "3\n"}, {"3\n\n4\n", "3\n4\n"}, {" 3\n", "3\n"}};
  for (const Io& test : different) {
    Outcome wrong = executor->run_one(io_job(echo, {test}));
    EXPECT_EQ(wrong.verdict, Verdict::failed) << "'" << test.input << "' passed for '" << test.output << "'";
  }
}

TEST_F(StdinTests, WrongOutputsFailAsWrongAnswerTestByTest) {
  Outcome o = executor->run_one(io_job("print(sum(map(int, input().split())))\n",
                                       {{"1 2\n", "3\n"}, {"2 2\n", "5\n"}, {"0 0\n", "0\n"}}));
  EXPECT_EQ(o.verdict, Verdict::failed);
  EXPECT_EQ(o.error_type, "WrongAnswer");
  EXPECT_EQ(o.message, "test 1: output differs from the expected");
  EXPECT_EQ(o.tests_passed, 2);
  EXPECT_EQ(o.tests_total, 3);
  EXPECT_EQ(o.test_passed, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(o.stdout_text, "4\n");  // what the first wrong test printed, to see why
  EXPECT_FALSE(o.stdout_truncated);
}

TEST_F(StdinTests, ExitWithCodeZeroEndsARunNormally) {
  const std::vector<std::string> normal_ends = {
      "print(1)\nexit()\nprint(2)\n",
      "import sys\nprint(1)\nsys.exit(0)\n",
      "import sys\nprint(1)\nsys.exit()\n",
      "print(1)\nraise SystemExit\n",
      "import os, sys\nprint(1)\nsys.stdout.flush()\nos._exit(0)\n",
  };
  for (const std::string& program : normal_ends) {
    Outcome o = executor->run_one(io_job(program, {{"", "1\n"}, {"", "1\n"}}));
    EXPECT_EQ(o.verdict, Verdict::passed) << program << describe(o);
    EXPECT_EQ(o.tests_passed, 2) << program;
  }
  Outcome three = executor->run_one(io_job("import sys\nprint(1)\nsys.exit(3)\n", {{"", "1\n"}}));
  EXPECT_EQ(three.verdict, Verdict::runtime_error) << describe(three);
  EXPECT_EQ(three.error_type, "SystemExit");
  EXPECT_EQ(three.message, "exit code 3");
  Outcome message = executor->run_one(io_job("print(1)\nexit('no answer')\n", {{"", "1\n"}}));
  EXPECT_EQ(message.verdict, Verdict::runtime_error) << describe(message);
  EXPECT_EQ(message.message, "exit code 1: no answer");
  Outcome os_exit = executor->run_one(io_job("import os, sys\nprint(1)\nsys.stdout.flush()\nos._exit(2)\n", {{"", "1\n"}}));
  EXPECT_EQ(os_exit.verdict, Verdict::runtime_error) << describe(os_exit);
  EXPECT_EQ(os_exit.message, "exit code 2");
}

// A process the program starts inherits its stdout and would keep the pipe open for 1000 s:
// the run ends when the program does.
TEST_F(StdinTests, ProcessesARunStartsDoNotHoldItUp) {
  Outcome o = executor->run_one(io_job("import subprocess\nsubprocess.Popen(['/bin/sleep', '1000'])\nprint(input())\n",
                                       {{"a\n", "a\n"}, {"b\n", "b\n"}}));
  EXPECT_EQ(o.verdict, Verdict::passed) << describe(o);
  EXPECT_EQ(o.tests_passed, 2);
}

TEST_F(StdinTests, ExceptionsAreRuntimeErrors) {
  Outcome o = executor->run_one(io_job("x = input()\nprint(int(x))\n", {{"1\n", "1\n"}, {"x\n", "x\n"}}));
  EXPECT_EQ(o.verdict, Verdict::runtime_error) << describe(o);
  EXPECT_EQ(o.error_type, "ValueError");
  EXPECT_EQ(o.test_passed, (std::vector<bool>{true, false}));
  Outcome eof = executor->run_one(io_job("input()\ninput()\n", {{"only one line\n", ""}}));
  EXPECT_EQ(eof.verdict, Verdict::runtime_error) << describe(eof);
  EXPECT_EQ(eof.error_type, "EOFError");
}

TEST_F(StdinTests, SyntaxErrorsAreSyntaxErrors) {
  Outcome o = executor->run_one(io_job("print(1\n", {{"", "1\n"}}));
  EXPECT_EQ(o.verdict, Verdict::syntax_error) << describe(o);
  EXPECT_EQ(o.tests_passed, 0);
}

TEST_F(StdinTests, EndlessLoopTimesOut) {
  Job job = io_job("x = input()\nwhile True:\n    pass\n", {{"1\n", "1\n"}});
  job.timeout_s = endless_s;
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::timeout) << describe(o);
  EXPECT_EQ(o.error_type, "Timeout");
}

// The program looks for the expected output everywhere it can: its stdin, its environment and
// arguments, what /proc lets it read of every process in its namespace, and every readable byte
// of its own memory (which it inherited from the fork server), and prints the first thing shaped
// like a secret: the prefix its input names, then 12 hex digits. Controls show that the search
// finds a secret in its input and in its memory.
const std::string hunt_function =
    "import ctypes, os, re, sys\n"
    "def own_memory():\n"
    "    # Through a pipe: the kernel answers EFAULT for a page that touching would crash on.\n"
    "    r, w = os.pipe()\n"
    "    for line in open('/proc/self/maps').read().splitlines():\n"
    "        span, perms = line.split()[:2]\n"
    "        if 'r' not in perms or line.endswith(('[vvar]', '[vsyscall]', '[vvar_vclock]')):\n"
    "            continue\n"
    "        start, end = (int(x, 16) for x in span.split('-'))\n"
    "        tail = b''\n"
    "        for at in range(start, end, 1 << 16):\n"
    "            size = min(1 << 16, end - at)\n"
    "            try:\n"
    "                os.write(w, (ctypes.c_char * size).from_address(at))\n"
    "            except OSError:\n"
    "                tail = b''\n"
    "                continue\n"
    "            chunk = tail + os.read(r, size)\n"
    "            yield chunk\n"
    "            tail = chunk[-32:]\n"
    "def places(given):\n"
    "    yield given\n"
    "    yield repr(dict(os.environ)).encode()\n"
    "    yield repr(sys.argv).encode()\n"
    "    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
    "        for name in ('cmdline', 'environ', 'mem'):\n"
    "            try:\n"
    "                yield open('/proc/%s/%s' % (pid, name), 'rb').read()\n"
    "            except OSError:\n"
    "                pass\n"
    "    yield from own_memory()\n"
    "def hunt(given):\n"
    "    shape = re.compile(re.escape(given.split()[0]) + b'[0-9a-f]{12}')\n"
    "    for data in places(given):\n"
    "        found = shape.search(data)\n"
    "        if found:\n"
    "            return found.group().decode()\n"
    "    return 'nothing'\n";
const std::string hunter = hunt_function + "print(hunt(sys.stdin.buffer.read()))\n";

// The same search from a function under value tests (evalplus style): f(given) returns it.
Job value_job(const std::string& program, const std::string& given, const std::string& secret) {
  Job job;
  job.program = program;
  job.entry_point = "f";
  job.inputs_json = nlohmann::json::array({nlohmann::json::array({given})}).dump();
  job.expected_json = nlohmann::json::array({secret}).dump();
  return job;
}
const std::string value_hunter = hunt_function + "def f(given):\n    return hunt(given.encode())\n";

TEST_F(StdinTests, ExpectedOutputsAreInvisibleToTheProgram) {
  Outcome told = executor->run_one(io_job(hunter, {{"told: told:0123456789ab\n", "told:0123456789ab\n"}}));
  EXPECT_EQ(told.verdict, Verdict::passed) << "the search misses its input: " << describe(told);
  Outcome kept = executor->run_one(io_job("kept = 'kept:' + '0' * 11 + 'f'\n" + hunter, {{"kept:\n", "kept:00000000000f\n"}}));
  EXPECT_EQ(kept.verdict, Verdict::passed) << "the search misses its memory: " << describe(kept);
  // Twice: the second job must not find the first one's expected output either, though it
  // inherits the fork server's memory.
  for (int run = 0; run < 2; ++run) {
    Outcome o = executor->run_one(io_job(hunter, {{"hidden:\n", "hidden:4b1d7e90c2a5\n"}}));
    EXPECT_EQ(o.verdict, Verdict::failed) << "run " << run << ": the expected output reached the program: " << describe(o);
    EXPECT_EQ(o.error_type, "WrongAnswer");
  }
}

// Many samples of one task share its expected outputs: a job must not find those of the jobs
// before it in the memory it inherits from the fork server, in stdin/stdout and in value
// style. Jobs of other sizes in between leave the server's heap in varied states (when the
// server itself read the expected outputs, 8 of these 10 rounds found them).
TEST_F(StdinTests, EarlierJobsExpectedOutputsAreInvisibleToo) {
  Outcome told = executor->run_one(value_job(value_hunter, "told: told:0123456789ab", "told:0123456789ab"));
  EXPECT_EQ(told.verdict, Verdict::passed) << "the value search misses its input: " << describe(told);
  const Io hidden = {"hidden:\n", "hidden:4b1d7e90c2a5\n"};
  for (int round = 0; round < 10; ++round) {
    std::string padding(round * 75, '#');
    std::vector<Io> tests(1 + round % 4, {hidden.input + padding, hidden.output + padding});
    Outcome sample = executor->run_one(io_job("print(input())\n#" + padding, tests));  // wrong, but judged
    EXPECT_EQ(sample.verdict, Verdict::failed) << describe(sample);
    Outcome hunt = executor->run_one(io_job(hunter + "#" + padding, {hidden}));
    EXPECT_EQ(hunt.verdict, Verdict::failed) << "round " << round << ": an earlier job's expected output reached the program";
    Outcome value_sample = executor->run_one(value_job("def f(x):\n    return x\n#" + padding, "x", "value:0123456789ab" + padding));
    EXPECT_EQ(value_sample.verdict, Verdict::failed) << describe(value_sample);
    Outcome value_hunt = executor->run_one(value_job(value_hunter + "#" + padding, "value:", "value:0123456789ab"));
    EXPECT_EQ(value_hunt.verdict, Verdict::failed) << "round " << round << ": an earlier value job's expected output reached the program";
  }
}

TEST(StdinTestOutput, OutputOverTheCapFails) {
  Config config = testing::test_config(must_finish_s);
  config.workers = 1;
  config.limits.test_output_bytes = 1000;
  Executor executor(config);
  const std::string under(900, 'x'), over(5000, 'x');
  Outcome fits = executor.run_one(io_job("print('x' * 900)\n", {{"", under}}));
  EXPECT_EQ(fits.verdict, Verdict::passed) << describe(fits);
  // Test 1 prints the right output, but more of it than a test may print.
  Outcome large = executor.run_one(io_job("print('x' * int(input()))\n", {{"900\n", under}, {"5000\n", over}}));
  EXPECT_EQ(large.verdict, Verdict::failed) << describe(large);
  EXPECT_EQ(large.error_type, "WrongAnswer");
  EXPECT_EQ(large.message, "test 1: output exceeds the cap of 1000 bytes");
  EXPECT_EQ(large.test_passed, (std::vector<bool>{true, false}));
  // A flood is stopped at the cap, long before the job's timeout.
  Outcome flood = executor.run_one(io_job("while True:\n    print('x' * 1000)\n", {{"", "x"}}));
  EXPECT_EQ(flood.verdict, Verdict::failed) << describe(flood);
  EXPECT_EQ(flood.message, "test 0: output exceeds the cap of 1000 bytes");
}

// Stdin/stdout jobs fork twice more than others (a supervisor, then one run per test): hundreds
// of them, some leaving processes behind, leave no process, zombie or scratch directory.
TEST(StdinSoak, HundredsOfJobsLeaveNothingBehind) {
  Executor executor(testing::test_config(must_finish_s));
  const std::vector<std::string> programs = {
      "print(input())\n",
      "raise ValueError(input())\n",
      "import subprocess\nsubprocess.Popen(['/bin/sleep', '1000'])\nprint(input())\n",
      "import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(1000)\nprint(input())\n",
      "open('f.txt', 'w').write(input())\n",
  };
  std::vector<Job> jobs;
  for (int i = 0; i < 300; ++i)
    jobs.push_back(io_job("# job " + std::to_string(i) + "\n" + programs[i % programs.size()],
                          {{"a\n", "a\n"}, {"b\n", "b\n"}}));
  auto outcomes = executor.run(jobs);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    Verdict expected = i % programs.size() == 1 ? Verdict::runtime_error
                       : i % programs.size() == 4 ? Verdict::failed  // it prints nothing
                                                  : Verdict::passed;
    ASSERT_EQ(outcomes[i].verdict, expected) << "job " << i << ": " << describe(outcomes[i]);
  }
  // What this job sees of its namespace: the fork server, its supervisor, its child, itself.
  const std::string census =
      "import os\n"
      "states = [open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()[0] for p in os.listdir('/proc') if p.isdigit()]\n"
      "left = [d for d in os.listdir('/tmp') if d != os.path.basename(os.getcwd())]\n"
      "print(len(states), states.count('Z'), left)\n";
  // Two distinct jobs, for the two workers.
  for (const Outcome& o : executor.run({io_job(census, {{"", "4 0 []\n"}}), io_job(census + "#\n", {{"", "4 0 []\n"}})}))
    EXPECT_EQ(o.verdict, Verdict::passed) << describe(o);
}

TEST_F(StdinTests, JobKeysTellInputsAndOutputsApart) {
  Job job = io_job("print(input())\n", {{"1\n", "1\n"}});
  Job other_input = io_job("print(input())\n", {{"2\n", "1\n"}});
  Job other_output = io_job("print(input())\n", {{"1\n", "2\n"}});
  Job more_tests = io_job("print(input())\n", {{"1\n", "1\n"}, {"1\n", "1\n"}});
  EXPECT_EQ(executor->job_key(job), executor->job_key(io_job("print(input())\n", {{"1\n", "1\n"}})));
  EXPECT_NE(executor->job_key(job), executor->job_key(other_input));
  EXPECT_NE(executor->job_key(job), executor->job_key(other_output));
  EXPECT_NE(executor->job_key(job), executor->job_key(more_tests));
  Job no_inputs = job;
  no_inputs.stdin_inputs.clear();
  EXPECT_NE(executor->job_key(job), executor->job_key(no_inputs));
}

TEST_F(StdinTests, AJobTakesOneStyle) {
  Job job = io_job("print(input())\n", {{"1\n", "1\n"}});
  job.tests = {"assert True"};
  try {
    executor->run_one(job);
    FAIL() << "a job with stdin inputs and assertion tests ran";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "sandbox: a job mixes test styles (assertion tests, an entry point, stdin inputs, script); it takes one");
  }
}

}  // namespace
}  // namespace codealign::sandbox
