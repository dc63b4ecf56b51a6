// A few thousand jobs leave no zombie, stray process, descriptor or scratch directory behind.
#include <dirent.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace codealign::sandbox {
namespace {

int open_descriptors() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (readdir(dir)) ++count;
  closedir(dir);
  return count;
}

// Direct children of this process, and how many of them are zombies.
std::pair<int, int> children() {
  int all = 0, zombies = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::string stat = testing::read_proc_file(std::string("/proc/") + entry->d_name + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    int ppid;
    rest >> state >> ppid;
    if (ppid == getpid()) {
      ++all;
      zombies += state == 'Z';
    }
  }
  closedir(proc);
  return {all, zombies};
}

TEST(SandboxSoak, ThousandsOfJobsLeaveNothingBehind) {
  int descriptors_before = open_descriptors();
  {
    Executor executor(testing::test_config(120.0));  // far beyond any job's work: no verdict depends on speed
    const std::vector<std::string> programs = {
        "x = 1\n",
        "assert False\n",
        "raise ValueError('no')\n",
        "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\n",
        "import subprocess\nsubprocess.Popen(['/bin/sleep', '30'])\n",
        "open('f.txt', 'w').write('x' * 1000)\n",
        "print('y' * 100000)\n",
    };
    std::vector<Job> jobs;
    for (int i = 0; i < 3000; ++i) {
      Job job;
      // A unique comment keeps de-duplication from folding the jobs.
      job.program = "# job " + std::to_string(i) + "\n" + programs[i % programs.size()];
      job.tests = {"assert True"};
      jobs.push_back(job);
    }
    auto outcomes = executor.run(jobs);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      Verdict expected = (i % programs.size() == 1) ? Verdict::runtime_error  // assert at load time
                         : (i % programs.size() == 2) ? Verdict::runtime_error
                                                      : Verdict::passed;
      ASSERT_EQ(outcomes[i].verdict, expected) << "job " << i << ": " << outcomes[i].message;
    }
    Job last;
    last.program = "import os\nleft = [d for d in os.listdir('/tmp') if d != os.path.basename(os.getcwd())]\n"
                   "assert left == [], left\n";
    last.tests = {"assert True"};
    EXPECT_EQ(executor.run_one(last).verdict, Verdict::passed);
    auto [alive, zombies] = children();
    EXPECT_EQ(zombies, 0);
    EXPECT_EQ(alive, 2);  // the two workers, nothing else
  }
  auto [alive, zombies] = children();
  EXPECT_EQ(alive, 0);
  EXPECT_EQ(zombies, 0);
  EXPECT_EQ(open_descriptors(), descriptors_before);
}

}  // namespace
}  // namespace codealign::sandbox
