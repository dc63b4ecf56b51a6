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

TEST_F(SandboxSecurity, MemoryBombIsOutOfMemory) {
  EXPECT_EQ(run("x = bytearray(8 << 30)\n").verdict, Verdict::out_of_memory);
  EXPECT_EQ(run("chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n").verdict, Verdict::out_of_memory);
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
