// Test hook (private to the pipeline): with CODEALIGN_TEST_PAUSE_AT=<point> in the environment
// the process stops itself (SIGSTOP) at that point, so that a test can kill a run in the middle
// of a stage whatever the machine's speed (tests/pipeline/align_test.cpp). Points, each for a
// task set: "sample:<set>" (after each batch of samples), "execute:<set>" (programs run,
// results not yet written); and "wait-for-rank-0" (a rank other than 0 about to wait while rank
// 0 makes a stage alone: tests/reference/test_data_parallel.py).
#pragma once
#include <csignal>
#include <cstdlib>
#include <string>

namespace codealign::pipeline {

inline void pause_point(const std::string& point) {
  const char* wanted = std::getenv("CODEALIGN_TEST_PAUSE_AT");
  if (wanted && point == wanted) std::raise(SIGSTOP);
}

}  // namespace codealign::pipeline
