#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace codealign {

Progress::Progress(std::string label, size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (enabled_ && done_ > 0) draw(true);
}

void Progress::advance(size_t n, const std::string& detail) {
  std::lock_guard lock(mutex_);
  done_ += n;
  if (!detail.empty()) detail_ = detail;
  auto now = std::chrono::steady_clock::now();
  if (enabled_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::draw(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0;
  long eta = rate > 0 ? static_cast<long>((total_ - done_) / rate) : 0;
  std::fprintf(stderr, "\r%s: %zu/%zu  %.1f/s  ETA %ld:%02ld  %s\033[K%s", label_.c_str(), done_, total_,
               rate, eta / 60, eta % 60, detail_.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace codealign
