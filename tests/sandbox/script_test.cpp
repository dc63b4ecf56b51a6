// Script jobs (SandboxFusion's run_code), files in and out of a job's directory, and the
// executor shared by concurrent callers, with cancellation.
// Jobs that must finish get a timeout far beyond their work; the jobs that must time out or be
// cancelled never end, so no verdict depends on speed.
#include <atomic>
#include <chrono>
#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "common/error.h"
#include "support/test_support.h"

namespace codealign::sandbox {

void PrintTo(Verdict verdict, std::ostream* out) { *out << verdict_name(verdict); }

namespace {

constexpr double must_finish_s = 120.0;

class ScriptTests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(testing::test_config(must_finish_s)); }
  static void TearDownTestSuite() { delete executor; }
  static Executor* executor;
};
Executor* ScriptTests::executor = nullptr;

Job script(const std::string& program, const std::string& stdin_text = "") {
  Job job;
  job.program = program;
  job.script = true;
  job.stdin_text = stdin_text;
  return job;
}

TEST_F(ScriptTests, ExitCodesAreThoseOfPython) {
  struct Case {
    std::string program;
    int exit_code;
    Verdict verdict;
  };
  const std::vector<Case> cases = {
      {"print('hi')\n", 0, Verdict::passed},
      {"import sys\nsys.exit(3)\n", 3, Verdict::runtime_error},
      {"import sys\nsys.exit(256 + 7)\n", 7, Verdict::runtime_error},  // the OS keeps the low byte
      {"import sys\nsys.exit(0)\n", 0, Verdict::passed},
      {"exit('bye')\n", 1, Verdict::runtime_error},
      {"import os\nos._exit(5)\n", 5, Verdict::runtime_error},
      {"1 / 0\n", 1, Verdict::runtime_error},
      {"def f(:\n", 1, Verdict::syntax_error},
      {"import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", -11, Verdict::crashed},
  };
  for (const Case& c : cases) {
    Outcome o = executor->run_one(script(c.program));
    EXPECT_EQ(o.verdict, c.verdict) << c.program << o.message;
    ASSERT_TRUE(o.exit_code.has_value()) << c.program;
    EXPECT_EQ(*o.exit_code, c.exit_code) << c.program;
  }
}

TEST_F(ScriptTests, StdinStdoutAndTracebacksAreThoseOfAScript) {
  Outcome o = executor->run_one(script(
      "import sys\n"
      "name = input()\n"
      "rest = sys.stdin.read()\n"
      "print('hello', name, len(rest.split()), __name__)\n"
      "print('to stderr', file=sys.stderr)\n"
      "def fail():\n"
      "    raise KeyError('missing')\n"
      "fail()\n",
      "world\n1 2 3\n"));
  EXPECT_EQ(o.verdict, Verdict::runtime_error);
  EXPECT_EQ(o.error_type, "KeyError");
  EXPECT_EQ(o.stdout_text, "hello world 3 __main__\n");
  EXPECT_EQ(o.exit_code, 1);
  // Python's own traceback, with the program's lines and no frame of the harness.
  EXPECT_NE(o.stderr_text.find("to stderr\nTraceback (most recent call last):\n"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("raise KeyError('missing')"), std::string::npos) << o.stderr_text;
  EXPECT_NE(o.stderr_text.find("KeyError: 'missing'"), std::string::npos) << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("harness"), std::string::npos) << o.stderr_text;
  EXPECT_EQ(o.stderr_text.find("exec("), std::string::npos) << o.stderr_text;

  Outcome syntax = executor->run_one(script("x = (\n"));
  EXPECT_NE(syntax.stderr_text.find("SyntaxError"), std::string::npos) << syntax.stderr_text;
}

TEST_F(ScriptTests, ATimeoutKeepsThePartialOutputAndHasNoExitCode) {
  Job job = script("import sys\nprint('started', flush=True)\nwhile True: pass\n");
  job.timeout_s = 1.0;
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_FALSE(o.exit_code.has_value());
  EXPECT_EQ(o.stdout_text, "started\n");
}

TEST_F(ScriptTests, FilesGoInAndComeBackOut) {
  Job job = script(
      "import os\n"
      "data = open('input/data.bin', 'rb').read()\n"
      "open('out.txt', 'w').write(str(len(data)) + ' ' + open('notes.txt').read().upper())\n"
      "os.symlink('/etc/passwd', 'link')\n"
      "os.symlink('/etc', 'etc')\n"
      "os.symlink('input', 'input_link')\n"
      "os.mkdir('a_directory')\n");
  job.files_base64 = {{"input/data.bin", "AAEC/w=="}, {"notes.txt", "aGVsbG8="}};  // 00 01 02 ff, "hello"
  job.fetch_files = {"out.txt", "input/data.bin", "./out.txt", "missing.txt", "link", "etc/passwd",
                     "input_link/data.bin", "a_directory"};
  Outcome o = executor->run_one(job);
  ASSERT_EQ(o.verdict, Verdict::passed) << o.message << o.stderr_text;
  // Only regular files inside the directory come back, reached without any symlink.
  std::map<std::string, std::string> expected = {
      {"out.txt", "NCBIRUxMTw=="}, {"./out.txt", "NCBIRUxMTw=="}, {"input/data.bin", "AAEC/w=="}};
  EXPECT_EQ(o.files_base64, expected);

  // Modules sent as files import, as next to a script.
  Job module = script("import helper\nprint(helper.twice(21))\n");
  module.files_base64 = {{"helper.py", "ZGVmIHR3aWNlKHgpOgogICAgcmV0dXJuIDIgKiB4Cg=="}};  // def twice(x): return 2 * x
  EXPECT_EQ(executor->run_one(module).stdout_text, "42\n");

  // Files work with the other styles too.
  Job assertion;
  assertion.program = "def read():\n    return open('n.txt').read()\n";
  assertion.tests = {"assert read() == 'hello'"};
  assertion.files_base64 = {{"n.txt", "aGVsbG8="}};
  EXPECT_EQ(executor->run_one(assertion).verdict, Verdict::passed);
}

TEST_F(ScriptTests, PathsThatLeaveTheDirectoryAndMixedStylesAreRefused) {
  for (std::string path : {"../x", "/etc/x", "a/../../x", "", "a/.."}) {
    EXPECT_FALSE(is_safe_relative_path(path)) << path;
    Job job = script("pass\n");
    job.files_base64 = {{path, ""}};
    EXPECT_NE(testing::error_of([&] { executor->run_one(job); }).find("leaves the job's directory"), std::string::npos);
    Job fetch = script("pass\n");
    fetch.fetch_files = {path};
    EXPECT_NE(testing::error_of([&] { executor->run_one(fetch); }).find("leaves the job's directory"), std::string::npos);
  }
  for (std::string path : {"a", "a/b.txt", "./a", "a..b", "..a/b"}) EXPECT_TRUE(is_safe_relative_path(path)) << path;
  Job mixed = script("pass\n");
  mixed.tests = {"assert True"};
  EXPECT_NE(testing::error_of([&] { executor->run_one(mixed); }).find("mixes test styles"), std::string::npos);
}

// What a job leaves anywhere in /tmp is gone before the next job on the worker.
TEST_F(ScriptTests, NothingAJobLeavesInTmpReachesTheNext) {
  // Whether a job may write /tmp at all depends on the uid it gets (none when codealign runs as
  // root); either way nothing of it may reach the next job.
  Outcome first = executor->run_one(script(
      "import os\ntry:\n    open('/tmp/left-behind', 'w').write('x')\n    os.mkdir('/tmp/dir')\nexcept OSError:\n    pass\n"));
  ASSERT_EQ(first.verdict, Verdict::passed) << first.message;
  Outcome second = executor->run_one(script("import os\nprint(sorted(os.listdir('/tmp')))\n"));
  EXPECT_TRUE(std::regex_match(second.stdout_text, std::regex(R"(\['job-[0-9]+-[0-9a-f]+'\]\n)"))) << second.stdout_text;
}

// A program whose exception cannot even be printed still exits as a failure, not a success.
TEST_F(ScriptTests, AnUnprintableExceptionStillFails) {
  Outcome o = executor->run_one(script(
      "class Bad(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise Bad()\n"));
  EXPECT_EQ(o.verdict, Verdict::runtime_error);
  EXPECT_EQ(o.exit_code, 1);
}

TEST_F(ScriptTests, InvalidBase64IsARuntimeErrorNotAHarnessFault) {
  Job job = script("print(1)\n");
  job.files_base64 = {{"f", "not base64!"}};
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::runtime_error);
  EXPECT_EQ(o.error_type, "FileError");
  EXPECT_FALSE(o.exit_code.has_value());
}

TEST_F(ScriptTests, PerJobMemoryLimit) {
  Job job = script("x = bytearray(300 << 20)\n");
  EXPECT_EQ(executor->run_one(job).verdict, Verdict::passed);
  job.memory_bytes = 200 << 20;
  Outcome o = executor->run_one(job);
  EXPECT_EQ(o.verdict, Verdict::out_of_memory) << o.message;
  EXPECT_EQ(o.exit_code, 1);
}

// Concurrent callers share the workers: every answer is its own caller's.
TEST(ExecutorSharing, ConcurrentCallersGetTheirOwnAnswers) {
  sandbox::Config config = testing::test_config(must_finish_s);
  config.workers = 2;
  Executor executor(config);
  std::vector<std::thread> callers;
  std::vector<std::string> failures(6);
  for (int caller = 0; caller < 6; ++caller)
    callers.emplace_back([&, caller] {
      std::vector<Job> jobs;
      for (int i = 0; i < 5; ++i) jobs.push_back(script("print(" + std::to_string(caller * 100 + i) + ")\n"));
      std::vector<Outcome> outcomes = executor.run(jobs);
      for (int i = 0; i < 5; ++i)
        if (outcomes[i].stdout_text != std::to_string(caller * 100 + i) + "\n") failures[caller] += outcomes[i].stdout_text;
    });
  for (auto& caller : callers) caller.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
}

// A cancelled caller waiting in line is dropped; a cancelled running job is killed with its
// worker; the pool serves on. Each cancellation is set only once its caller is seen waiting.
TEST(ExecutorSharing, CancellationDropsWaitingCallersAndKillsRunningJobs) {
  sandbox::Config config = testing::test_config(must_finish_s);
  config.workers = 1;
  Executor executor(config);
  std::atomic<bool> cancel_running{false}, cancel_waiting{false}, running_asked{false}, waiting_asked{false};
  std::string running_error, waiting_error;
  std::thread running([&] {
    running_error = testing::error_of([&] {
      executor.run({script("while True: pass\n")}, {}, [&] {
        running_asked = true;
        return cancel_running.load();
      });
    });
  });
  while (!running_asked) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the worker is taken
  std::thread waiting([&] {
    waiting_error = testing::error_of([&] {
      executor.run({script("print('never')\n")}, {}, [&] {
        waiting_asked = true;
        return cancel_waiting.load();
      });
    });
  });
  while (!waiting_asked) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // in line
  cancel_waiting = true;
  waiting.join();
  EXPECT_EQ(waiting_error, "sandbox: the jobs were cancelled");
  cancel_running = true;
  running.join();
  EXPECT_EQ(running_error, "sandbox: the jobs were cancelled");
  Outcome after = executor.run_one(script("print('still serving')\n"));
  EXPECT_EQ(after.stdout_text, "still serving\n");
}

// A job not started by its Schedule's start_by leaves the line (Late); among waiting jobs the
// earlier priority goes first, whenever it came. The one worker is held by a loop until each
// caller is seen waiting, so nothing depends on speed.
TEST(ExecutorSharing, LateJobsLeaveTheLineAndEarlierPlacesGoFirst) {
  sandbox::Config config = testing::test_config(must_finish_s);
  config.workers = 1;
  Executor executor(config);
  std::atomic<bool> release{false}, holding{false};
  std::thread holder([&] {
    testing::error_of([&] {
      executor.run({script("while True: pass\n")}, {}, [&] {
        holding = true;
        return release.load();
      });
    });
  });
  while (!holding) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Schedule late;
  late.start_by = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  EXPECT_EQ(testing::error_of([&] { executor.run({script("print('late')\n")}, {}, {}, late); }),
            "sandbox: the job could not start before its deadline");

  std::mutex order_mutex;
  std::vector<std::string> order;
  auto waiter = [&](const std::string& name, Schedule schedule, std::atomic<bool>& waiting) {
    return std::thread([&, name, schedule] {
      Outcome o = executor.run({script("print('" + name + "')\n")}, {}, [&] {
        waiting = true;
        return false;
      }, schedule).front();
      std::lock_guard lock(order_mutex);
      order.push_back(o.stdout_text);
    });
  };
  auto now = std::chrono::steady_clock::now();
  Schedule newer, older;
  newer.priority = now;
  older.priority = now - std::chrono::hours(1);  // a retry keeping its first attempt's place
  std::atomic<bool> newer_waiting{false}, older_waiting{false};
  std::thread first = waiter("newer", newer, newer_waiting);
  while (!newer_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::thread second = waiter("older", older, older_waiting);
  while (!older_waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  release = true;
  holder.join();
  first.join();
  second.join();
  EXPECT_EQ(order, (std::vector<std::string>{"older\n", "newer\n"}));
}

}  // namespace
}  // namespace codealign::sandbox
