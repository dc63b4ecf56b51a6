// A progress line on stderr (count, rate, ETA) when stderr is a terminal; silent when piped.
// Thread-safe: advance() may be called from any thread.
#pragma once
#include <chrono>
#include <mutex>
#include <string>

namespace codealign {

class Progress {
 public:
  // `enabled` false: silent even on a terminal (e.g. a server's concurrent requests).
  Progress(std::string label, size_t total, bool enabled = true);
  ~Progress();  // ends the line
  // `detail` (e.g. "loss 0.231") is shown after the ETA from now on.
  void advance(size_t n = 1, const std::string& detail = "");

 private:
  void draw(bool final);
  std::string label_, detail_;
  size_t total_, done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace codealign
