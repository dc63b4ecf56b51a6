// Each attack is contained: the right verdict, and the host unharmed.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace codealign::sandbox {
namespace {

using testing::test_config;

class SandboxSecurity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { executor = new Executor(test_config(2.0)); }
  static void TearDownTestSuite() { delete executor; }
  static Outcome run(const std::string& program) {
    Job job;
    job.program = program;
    job.tests = {"assert True"};
    return executor->run_one(job);
  }
  static Executor* executor;
};
Executor* SandboxSecurity::executor = nullptr;

// Processes on the host whose command line contains `marker`.
int processes_with(const std::string& marker) {
  int count = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream file(std::string("/proc/") + entry->d_name + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(file)), {});
    for (char& c : cmdline)
      if (c == '\0') c = ' ';
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  closedir(proc);
  return count;
}

TEST_F(SandboxSecurity, TimeoutKillsEndlessLoop) {
  Outcome o = run("while True:\n    pass\n");
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_LT(o.wall_s, 3.0);
}

TEST_F(SandboxSecurity, TimeoutKillsEndlessSleep) {
  EXPECT_EQ(run("import time\ntime.sleep(1000)\n").verdict, Verdict::timeout);
}

TEST_F(SandboxSecurity, ForkBombIsCappedAndCleanedUp) {
  Outcome o = run("import os, time\nfor _ in range(10000):\n    try:\n        if os.fork() == 0:\n"
                  "            os.execv('/bin/sleep', ['sleep', '9191.5'])\n    except OSError:\n        pass\n"
                  "time.sleep(100)\n");
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_EQ(processes_with("sleep 9191.5"), 0);
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
  Outcome o = run("while True:\n    print('x' * 1000)\n");
  EXPECT_EQ(o.verdict, Verdict::timeout);
  EXPECT_TRUE(o.stdout_truncated);
  EXPECT_LE(o.stdout_text.size(), test_config().limits.output_bytes);
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

TEST_F(SandboxSecurity, KillAllOnlyReachesTheSandbox) {
  Outcome o = run("import os\nif os.fork() == 0:\n    os.kill(-1, 9)\nelse:\n    os.wait()\nos.kill(-1, 9)\n");
  EXPECT_NE(o.verdict, Verdict::passed);
  EXPECT_EQ(run("x = 1\n").verdict, Verdict::passed);  // the worker survived
}

TEST_F(SandboxSecurity, DaemonDoesNotOutliveItsJob) {
  Outcome o = run("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                  "        os.execv('/bin/sleep', ['sleep', '8181.5'])\n    os._exit(0)\ntime.sleep(0.3)\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.message;
  EXPECT_EQ(processes_with("sleep 8181.5"), 0);
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
                "assert sorted(os.listdir('/proc/self/fd')) == ['0', '1', '2', '3', '4'], os.listdir('/proc/self/fd')\n")
                .verdict,
            Verdict::passed);
}

TEST_F(SandboxSecurity, ScratchDirectoryIsPrivateAndRemoved) {
  EXPECT_EQ(run("open('scratch.txt', 'w').write('x')\nimport os\nassert os.getcwd().startswith('/tmp/job-')\n").verdict,
            Verdict::passed);
  Outcome o = run("import os\nprint(sorted(os.listdir('/tmp')))\nassert os.listdir('/tmp') == [os.path.basename(os.getcwd())]\n");
  EXPECT_EQ(o.verdict, Verdict::passed) << o.stdout_text;
}

TEST_F(SandboxSecurity, IsolationIsReported) {
  EXPECT_NE(executor->isolation().find("seccomp"), std::string::npos);
}

}  // namespace
}  // namespace codealign::sandbox
