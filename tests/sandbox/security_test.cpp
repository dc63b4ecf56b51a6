// Each attack is contained: the right verdict, and the host unharmed.
// Jobs that must finish get a timeout far beyond their work, jobs that must time out never end,
// and what happens inside a job is proved by what it reports, so no verdict depends on speed.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace codealign::sandbox {

// Failure messages name verdicts (found by gtest through argument-dependent lookup).
void PrintTo(Verdict verdict, std::ostream* out) { *out << verdict_name(verdict); }

namespace {

using testing::test_config;

// Far beyond what any job here needs: a job that must pass cannot time out by slowness.
constexpr double must_finish_s = 120.0;
// For jobs that never end: only the clock stops them.
constexpr double endless_s = 1.0;

class SandboxSecurity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(test_config(must_finish_s)); }
  static void TearDownTestSuite() { delete executor; }
  static Outcome run(const std::string& program, double timeout_s = 0) {
    Job job;
    job.program = program;
    job.tests = {"assert True"};
    job.timeout_s = timeout_s;
    return executor->run_one(job);
  }
  static Executor* executor;
};
Executor* SandboxSecurity::executor = nullptr;

// A sleep duration no other process on the host uses, not even this test in another process:
// "<whole>.<our pid>" seconds. Jobs run `sleep` with it so that the test can find those sleeps.
std::string unique_seconds(int whole) { return std::to_string(whole) + "." + std::to_string(getpid()); }

// Host pids of the live processes running `sleep <seconds>`.
std::vector<pid_t> sleeps_of(const std::string& seconds) {
  std::string wanted = std::string("sleep") + '\0' + seconds + '\0';
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string cmdline = testing::read_proc_file(std::string("/proc/") + entry->d_name + "/cmdline");
    if (cmdline == wanted) pids.push_back(std::stoi(entry->d_name));
  }
  closedir(proc);
  return pids;
}

pid_t parent_of(pid_t pid) {
  std::string stat = testing::read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  char state;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

// The worker (a direct child of this test process) that `pid` descends from; 0 if none.
pid_t worker_of(pid_t pid) {
  while (pid > 1) {
    pid_t parent = parent_of(pid);
    if (parent == getpid()) return pid;
    pid = parent;
  }
  return 0;
}

// Waits until a process running `sleep <seconds>`, other than `except`, is visible on the host;
// 0 if `job` ends first. Polls: /proc offers no notification.
pid_t await_sleep(const std::string& seconds, pid_t except, const std::future<Outcome>& job) {
  while (job.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready)
    for (pid_t pid : sleeps_of(seconds))
      if (pid != except) return pid;
  return 0;
}

// Python for jobs: how many processes in the job's pid namespace run exactly `argv`.
const std::string count_running_py =
    "import os\n"
    "def running(*argv):\n"
    "    wanted = ('\\0'.join(argv) + '\\0').encode()\n"
    "    count = 0\n"
    "    for entry in os.listdir('/proc'):\n"
    "        try:\n"
    "            count += entry.isdigit() and open('/proc/%s/cmdline' % entry, 'rb').read() == wanted\n"
    "        except OSError:\n"
    "            pass  # it ended meanwhile\n"
    "    return count\n";

TEST_F(SandboxSecurity, TimeoutKillsEndlessLoop) {
  Outcome o = run("while True:\n    pass\n", endless_s);
  EXPECT_EQ(o.verdict, Verdict::timeout) << o.error_type << ": " << o.message;
  EXPECT_GE(o.wall_s, endless_s) << "the job was declared timed out before its limit";
}

// A sleeping job spends no CPU: only the harness's wall clock can stop it (the executor's own
// deadline, later, would report the worker dead instead: crashed).
TEST_F(SandboxSecurity, TimeoutKillsEndlessSleep) {
  Outcome o = run("import time\ntime.sleep(1000)\n", endless_s);
  EXPECT_EQ(o.verdict, Verdict::timeout) << o.error_type << ": " << o.message;
  EXPECT_EQ(o.attempts, 1) << "the worker did not answer on time and was replaced";
}

// The job forks sleepers until RLIMIT_NPROC refuses, waits until every one has exec'd or
// failed to (the close-on-exec pipe reads EOF), and then until each is seen running or exited:
// at the cap the kernel may refuse a child's exec too (EAGAIN), which is a cap working, not a
// sleeper escaping. It reports how many run, and ends: the sleepers must die with it.
TEST_F(SandboxSecurity, ForkBombIsCappedAndCleanedUp) {
  const std::string seconds = unique_seconds(9191);
  Outcome o = run(count_running_py +
                  "import time\n"
                  "ready_r, ready_w = os.pipe()  # not inherited across exec\n"
                  "children = []\n"
                  "while len(children) < 10000:\n"
                  "    try:\n"
                  "        pid = os.fork()\n"
                  "    except OSError:\n"
                  "        break\n"
                  "    if pid == 0:\n"
                  "        try:\n"
                  "            os.execv('/bin/sleep', ['sleep', '" + seconds + "'])\n"
                  "        finally:\n"
                  "            os._exit(1)\n"
                  "    children.append(pid)\n"
                  "os.close(ready_w)\n"
                  "os.read(ready_r, 1)\n"
                  "exited, deadline = set(), time.monotonic() + 20\n"
                  "while time.monotonic() < deadline:\n"
                  "    exited |= {pid for pid in children if pid not in exited and os.waitpid(pid, os.WNOHANG)[0] == pid}\n"
                  "    if running('sleep', '" + seconds + "') + len(exited) == len(children):\n"
                  "        break\n"
                  "    time.sleep(0.01)\n"
                  "print(len(children), running('sleep', '" + seconds + "'), len(exited))\n",
                  30);
  ASSERT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  int forks = -1, sleeping = -1, exited = -1;
  ASSERT_EQ(std::sscanf(o.stdout_text.c_str(), "%d %d %d", &forks, &sleeping, &exited), 3) << "job output: " << o.stdout_text;
  EXPECT_GE(forks, 1) << "the job could not fork at all";
  EXPECT_LT(forks, test_config().limits.processes) << "RLIMIT_NPROC did not cap the fork bomb";
  EXPECT_GE(sleeping, 1) << "no forked sleeper was running when the job ended";
  EXPECT_EQ(sleeping + exited, forks) << "a forked child was neither running its sleep nor exited";
  EXPECT_EQ(sleeps_of(seconds).size(), 0u) << "a sleeper outlived its job";
}

TEST_F(SandboxSecurity, ProcessCapHoldsForRootOutside) {
  Outcome o = run("import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
                  "            import time; time.sleep(30)\n        n += 1\nexcept OSError:\n    pass\nassert n < 64, n\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.message;
}

// False positives: ordinary programs that must pass inside the sandbox. Each once failed or
// could fail through something the sandbox hides (libraries resolved through /etc, threads,
// deep recursion, the scratch directory, standard input).
TEST_F(SandboxSecurity, LegitimateProgramsPass) {
  const std::vector<std::pair<std::string, std::string>> programs = {
      {"import numpy as np\ndef f(): return int(np.arange(4).sum())\n", "assert f() == 6"},
      {"import numpy as np\ndef f(): return float(np.linalg.det(np.array([[2.0, 0], [0, 3.0]])))\n",
       "assert abs(f() - 6.0) < 1e-9"},
      {"import threading\ndef f():\n    out = []\n    ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]\n"
       "    [t.start() for t in ts]; [t.join() for t in ts]\n    return sorted(out)\n",
       "assert f() == list(range(8))"},
      {"import sys\nsys.setrecursionlimit(20000)\ndef depth(n): return 0 if n == 0 else 1 + depth(n - 1)\n",
       "assert depth(5000) == 5000"},
      {"def f():\n    with open('scratch.txt', 'w') as out: out.write('hello')\n    return open('scratch.txt').read()\n",
       "assert f() == 'hello'"},
      {"import re\ndef f(s): return re.findall(r'\\d+', s)\n", "assert f('a1b22c333') == ['1', '22', '333']"},
      {"import collections, itertools\ndef f(): return collections.Counter(itertools.chain('ab', 'bc'))\n",
       "assert f()['b'] == 2"},
      {"from fractions import Fraction\ndef f(): return Fraction(1, 3) + Fraction(1, 6)\n", "assert f() == Fraction(1, 2)"},
      {"import datetime\ndef f(): return datetime.date(2024, 3, 1) - datetime.timedelta(days=1)\n",
       "assert f().day == 29 and datetime.datetime.now().astimezone().tzinfo is not None"},
      {"def f(): return 2 ** 100000 % 1000007\n", "assert f() == pow(2, 100000, 1000007)"},
      {"import sys\ndef f(): return sys.stdin.read()\n", "assert f() == ''"},
  };
  for (const auto& [program, test] : programs) {
    Job job;
    job.program = program;
    job.tests = {test};
    Outcome o = executor->run_one(job);
    EXPECT_EQ(o.verdict, Verdict::passed) << program << "\n" << o.error_type << " " << o.stderr_text;
  }
}

TEST_F(SandboxSecurity, MemoryBombIsOutOfMemory) {
  // A small memory cap and a timeout far beyond what reaching it takes, so that no machine is
  // slow enough for the clock to decide instead of the limit.
  sandbox::Config config = test_config(60.0);
  config.workers = 1;
  config.limits.memory_bytes = 256ull << 20;
  Executor small(config);
  for (const char* program : {"x = bytearray(8 << 30)\n", "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n"}) {
    Job job;
    job.program = program;
    job.tests = {"assert True"};
    EXPECT_EQ(small.run_one(job).verdict, Verdict::out_of_memory) << program;
  }
}

TEST_F(SandboxSecurity, OutputFloodIsCapped) {
  Outcome o = run("while True:\n    print('x' * 1000)\n", endless_s);
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_TRUE(o.stdout_truncated);
  EXPECT_EQ(o.stdout_text.size(), test_config().limits.output_bytes);
}

// Standard error is capped like standard output, keeping its head, and a program that merely
// writes too much still passes.
TEST_F(SandboxSecurity, StderrIsTruncatedAtTheCap) {
  const size_t cap = test_config().limits.output_bytes;
  Outcome o = run("import sys\nsys.stderr.write('HEAD' + 'e' * " + std::to_string(3 * cap) + ")\nprint('out')\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  EXPECT_TRUE(o.stderr_truncated);
  EXPECT_EQ(o.stderr_text.size(), cap);
  EXPECT_EQ(o.stderr_text.substr(0, 5), "HEADe") << "the head of standard error was not kept";
  EXPECT_FALSE(o.stdout_truncated);
  EXPECT_EQ(o.stdout_text, "out\n");
}

TEST_F(SandboxSecurity, FilesOutsideScratchCannotBeWrittenOrDeleted) {
  testing::TempDir host;
  std::string canary = host.path + "/canary";
  testing::write_text(canary, "alive");
  EXPECT_EQ(run("open('/usr/lib/codealign-probe', 'w')\n").verdict, Verdict::runtime_error);
  Outcome removed = run("import os\nos.remove('" + canary + "')\n");
  EXPECT_EQ(removed.verdict, Verdict::runtime_error);
  EXPECT_EQ(access(canary.c_str(), F_OK), 0);
  EXPECT_EQ(run("import shutil\nshutil.rmtree('/usr/bin')\n").verdict, Verdict::runtime_error);
  EXPECT_EQ(access("/usr/bin/python3", X_OK), 0);
  // A job writes only in its scratch directory: not in the sandbox's /tmp, never in the host's.
  EXPECT_EQ(run("open('/tmp/codealign-escape-probe', 'w').write('x')\n").verdict, Verdict::runtime_error);
  EXPECT_NE(access("/tmp/codealign-escape-probe", F_OK), 0);
}

TEST_F(SandboxSecurity, SecretsAreNotReadable) {
  Outcome shadow = run("print(open('/etc/shadow').read())\n");
  EXPECT_EQ(shadow.verdict, Verdict::runtime_error);
  EXPECT_TRUE(shadow.stdout_text.empty());
  EXPECT_EQ(run("import os\nprint(os.listdir('/root'))\n").verdict, Verdict::runtime_error);
}

TEST_F(SandboxSecurity, NoNetwork) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  Outcome o = run("import socket\ns = socket.create_connection(('127.0.0.1', " + std::to_string(port) + "), timeout=1)\n");
  EXPECT_EQ(o.verdict, Verdict::runtime_error);
  EXPECT_LT(accept(listener, nullptr, nullptr), 0);  // nobody knocked
  close(listener);
  EXPECT_EQ(run("import socket\nsocket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n").verdict, Verdict::runtime_error);
}

// Each worker numbers its jobs from 1 (its scratch directory is /tmp/job-<n>-<random>): a job that
// reports its number tells whether the worker that ran it also ran the jobs before.
const std::string print_job_number = "import os\nprint(os.getcwd())\n";
int job_number(const Outcome& o) {
  int number = -1;
  std::sscanf(o.stdout_text.c_str(), "/tmp/job-%d", &number);
  return number;
}

TEST_F(SandboxSecurity, KillAllOnlyReachesTheSandbox) {
  Outcome before = run(print_job_number);
  ASSERT_EQ(before.verdict, Verdict::passed) << before.error_type << ": " << before.message;
  ASSERT_GT(job_number(before), 0) << "job output: " << before.stdout_text;
  Outcome o = run("import os\nif os.fork() == 0:\n    os.kill(-1, 9)\nelse:\n    os.wait()\nos.kill(-1, 9)\n");
  EXPECT_NE(o.verdict, Verdict::passed);
  EXPECT_EQ(o.attempts, 1) << "kill(-1) killed the worker and the job was retried";
  Outcome after = run(print_job_number);
  ASSERT_EQ(after.verdict, Verdict::passed) << after.error_type << ": " << after.message;
  EXPECT_EQ(after.attempts, 1) << "the worker was dead when the next job came";
  EXPECT_EQ(job_number(after), job_number(before) + 2)
      << "the worker that ran the kill(-1) job was replaced by one numbering its jobs afresh";
}

// A single-worker executor whose jobs must finish, with `adjust` applied to its limits.
Config one_worker(void (*adjust)(Limits&) = nullptr) {
  Config config = test_config(must_finish_s);
  config.workers = 1;
  if (adjust) adjust(config.limits);
  return config;
}

// The job blocks in a sleep the test can see on the host; the test kills the worker under it,
// the executor starts a new worker and runs the job again, and the test then ends the second
// sleep itself so that the retried job completes.
TEST(SandboxWorkers, DeadWorkerIsReplacedAndTheJobRetried) {
  Executor executor(one_worker());
  Job job;
  const std::string seconds = unique_seconds(7171);
  job.program = "import subprocess\nsubprocess.run(['sleep', '" + seconds + "'], executable='/bin/sleep')\n";
  job.tests = {"assert True"};
  std::future<Outcome> outcome = std::async(std::launch::async, [&] { return executor.run_one(job); });
  pid_t first_sleep = await_sleep(seconds, 0, outcome);
  ASSERT_GT(first_sleep, 0) << "the job ended before its sleep started";
  pid_t first_worker = worker_of(first_sleep);
  ASSERT_GT(first_worker, 0) << "no worker of this test runs the sleep";
  ASSERT_EQ(kill(first_worker, SIGKILL), 0);
  pid_t second_sleep = await_sleep(seconds, first_sleep, outcome);
  ASSERT_GT(second_sleep, 0) << "the job was not retried";
  EXPECT_NE(worker_of(second_sleep), first_worker) << "the retry ran on the killed worker";
  ASSERT_EQ(kill(second_sleep, SIGKILL), 0);
  Outcome o = outcome.get();
  EXPECT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  EXPECT_EQ(o.attempts, 2);
}

TEST(SandboxWorkers, JobWhoseWorkerDiesTwiceIsCrashed) {
  Executor executor(one_worker());
  Job job;
  const std::string seconds = unique_seconds(7272);
  job.program = "import subprocess\nsubprocess.run(['sleep', '" + seconds + "'], executable='/bin/sleep')\n";
  job.tests = {"assert True"};
  std::future<Outcome> outcome = std::async(std::launch::async, [&] { return executor.run_one(job); });
  pid_t sleep = 0;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    sleep = await_sleep(seconds, sleep, outcome);
    ASSERT_GT(sleep, 0) << "attempt " << attempt << " did not start its sleep";
    pid_t worker = worker_of(sleep);
    ASSERT_GT(worker, 0) << "no worker of this test runs the sleep of attempt " << attempt;
    ASSERT_EQ(kill(worker, SIGKILL), 0);
  }
  Outcome o = outcome.get();
  EXPECT_EQ(o.verdict, Verdict::crashed);
  EXPECT_EQ(o.error_type, "WorkerDied");
  EXPECT_EQ(o.attempts, 2);
  // The executor goes on with a third worker.
  Job next;
  next.program = "x = 1\n";
  next.tests = {"assert x == 1"};
  Outcome after = executor.run_one(next);
  EXPECT_EQ(after.verdict, Verdict::passed) << after.error_type << ": " << after.message;
  EXPECT_EQ(after.attempts, 1);
}

// Each limit: a job just within it passes, one beyond it fails with the kernel's refusal.
Job write_file(size_t bytes) {
  Job job;
  job.program = "def write(n):\n    with open('out.bin', 'wb') as f:\n        f.write(b'x' * n)\n";
  job.tests = {"write(" + std::to_string(bytes) + ")"};
  return job;
}

TEST(SandboxLimits, FileSizeIsCapped) {
  Executor executor(one_worker([](Limits& limits) { limits.file_size_bytes = 1 << 20; }));
  Outcome within = executor.run_one(write_file(1 << 20));
  EXPECT_EQ(within.verdict, Verdict::passed) << within.error_type << ": " << within.message;
  Outcome beyond = executor.run_one(write_file((1 << 20) + 1));
  EXPECT_EQ(beyond.verdict, Verdict::runtime_error);
  EXPECT_EQ(beyond.error_type, "OSError");
  EXPECT_NE(beyond.message.find("File too large"), std::string::npos) << beyond.message;
}

TEST(SandboxLimits, ScratchTmpfsIsCapped) {
  // RLIMIT_FSIZE far above the tmpfs, so that only the tmpfs can refuse.
  Executor executor(one_worker([](Limits& limits) {
    limits.scratch_bytes = 4 << 20;
    limits.file_size_bytes = 64 << 20;
  }));
  Outcome within = executor.run_one(write_file(2 << 20));
  EXPECT_EQ(within.verdict, Verdict::passed) << within.error_type << ": " << within.message;
  Outcome beyond = executor.run_one(write_file(8 << 20));
  EXPECT_EQ(beyond.verdict, Verdict::runtime_error);
  EXPECT_EQ(beyond.error_type, "OSError");
  EXPECT_NE(beyond.message.find("No space left on device"), std::string::npos) << beyond.message;
}

TEST(SandboxLimits, OpenFilesAreCapped) {
  Executor executor(one_worker([](Limits& limits) { limits.open_files = 64; }));
  auto open_files = [](int count) {
    Job job;
    job.program = "def open_many(n):\n    return [open('/dev/null') for _ in range(n)]\n";
    job.tests = {"open_many(" + std::to_string(count) + ")"};
    return job;
  };
  Outcome within = executor.run_one(open_files(32));
  EXPECT_EQ(within.verdict, Verdict::passed) << within.error_type << ": " << within.message;
  Outcome beyond = executor.run_one(open_files(64));
  EXPECT_EQ(beyond.verdict, Verdict::runtime_error);
  EXPECT_EQ(beyond.error_type, "OSError");
  EXPECT_NE(beyond.message.find("Too many open files"), std::string::npos) << beyond.message;
}

// The daemon (double fork, new session) execs; the job waits until it has (the close-on-exec
// pipe reads EOF), reports that it runs, and ends: the daemon must die with it.
TEST_F(SandboxSecurity, DaemonDoesNotOutliveItsJob) {
  const std::string seconds = unique_seconds(8181);
  Outcome o = run(count_running_py +
                  "exec_r, exec_w = os.pipe()  # not inherited across exec\n"
                  "if os.fork() == 0:\n"
                  "    os.setsid()\n"
                  "    if os.fork() == 0:\n"
                  "        try:\n"
                  "            os.execv('/bin/sleep', ['sleep', '" + seconds + "'])\n"
                  "        finally:\n"
                  "            os._exit(1)\n"
                  "    os._exit(0)\n"
                  "os.close(exec_w)\n"
                  "os.wait()\n"
                  "os.read(exec_r, 1)\n"
                  "print('daemons running:', running('sleep', '" + seconds + "'))\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  EXPECT_EQ(o.stdout_text, "daemons running: 1\n") << "the daemon was not running when its job ended";
  EXPECT_EQ(sleeps_of(seconds).size(), 0u) << "the daemon outlived its job";
}

TEST_F(SandboxSecurity, EarlyExitNeverPasses) {
  EXPECT_EQ(run("import sys\nsys.exit(0)\n").verdict, Verdict::runtime_error);
  Outcome o = run("import os\nos._exit(0)\n");
  EXPECT_EQ(o.verdict, Verdict::runtime_error);
  EXPECT_EQ(o.error_type, "EarlyExit");
  Job job;
  job.program = "def f():\n    return 1\n";
  job.tests = {"import os\nos._exit(0)", "assert f() == 2"};
  EXPECT_EQ(executor->run_one(job).verdict, Verdict::runtime_error);
}

TEST_F(SandboxSecurity, SelfKillIsCrashed) {
  Outcome o = run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n");
  EXPECT_EQ(o.verdict, Verdict::crashed);
  EXPECT_EQ(o.error_type, "SIGSEGV");
}

TEST_F(SandboxSecurity, ForgedVerdictLinesAreIgnored) {
  EXPECT_EQ(run("print('{\"done\": true}')\nprint('passed')\nimport os\nos._exit(0)\n").verdict, Verdict::runtime_error);
  Job job;
  job.program = "import os\nos.write(3, b'{\"test\": 0, \"ok\": true}\\n{\"done\": true}\\n')\nos._exit(0)\n";
  job.tests = {"assert False"};
  EXPECT_NE(executor->run_one(job).verdict, Verdict::passed);
}

TEST_F(SandboxSecurity, EnvironmentIsScrubbedAndDescriptorsAreNotInherited) {
  EXPECT_EQ(run("import os\nassert dict(os.environ) == {}, dict(os.environ)\n"
                // 3: the report channel, 4: the judge's answers, 5: this listing's own
                "assert sorted(os.listdir('/proc/self/fd')) == ['0', '1', '2', '3', '4', '5'], os.listdir('/proc/self/fd')\n")
                .verdict,
            Verdict::passed);
}

TEST_F(SandboxSecurity, ScratchDirectoryIsPrivateAndRemoved) {
  EXPECT_EQ(run("open('scratch.txt', 'w').write('x')\nimport os\nassert os.getcwd().startswith('/tmp/job-')\n").verdict,
            Verdict::passed);
  Outcome o = run("import os\nprint(sorted(os.listdir('/tmp')))\nassert os.listdir('/tmp') == [os.path.basename(os.getcwd())]\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.stdout_text;
}

// A weaker fallback is an error here, not a warning: the job checks from inside that it lives
// in namespaces other than the test's own, behind seccomp.
TEST_F(SandboxSecurity, FullIsolationIsInForce) {
  EXPECT_EQ(executor->isolation(), "user,pid,net,mount,ipc,uts namespaces; read-only root; seccomp")
      << "the sandbox fell back to weaker isolation";
  const std::vector<std::string> namespaces = {"user", "pid", "net", "mnt", "ipc", "uts"};
  std::string program = "import os\n";
  for (const std::string& name : namespaces) program += "print(os.readlink('/proc/self/ns/" + name + "'))\n";
  program += "status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines())\n"
             "print('Seccomp', status['Seccomp'], 'NoNewPrivs', status['NoNewPrivs'])\n";
  Outcome o = run(program);
  ASSERT_EQ(o.verdict, Verdict::passed) << o.error_type << ": " << o.message;
  std::istringstream lines(o.stdout_text);
  for (const std::string& name : namespaces) {
    char host[256] = {};
    ASSERT_GT(readlink(("/proc/self/ns/" + name).c_str(), host, sizeof host - 1), 0) << name;
    std::string inside;
    std::getline(lines, inside);
    EXPECT_EQ(inside.rfind(name + ":[", 0), 0u) << "job output: " << o.stdout_text;
    EXPECT_NE(inside, host) << "the job shares the test's " << name << " namespace";
  }
  std::string security;
  std::getline(lines, security);
  EXPECT_EQ(security, "Seccomp 2 NoNewPrivs 1") << "the job runs without its seccomp filter";
}

}  // namespace
}  // namespace codealign::sandbox
