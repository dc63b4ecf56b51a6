// What the service knows about its load (private to the service part): the bounded queue of
// jobs that decides which requests are refused, and the counters /metrics shows. Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace codealign::service {

// Jobs admitted and not yet answered, at most `workers + max_queue`: a request that would go
// beyond is refused (busy), one that could never fit is too large.
class Admission {
 public:
  Admission(int workers, int max_queue);
  size_t capacity() const { return capacity_; }
  // Reserves room for `jobs`; false when they do not fit now.
  bool admit(size_t jobs);
  void release(size_t jobs);
  size_t depth() const;
  // Whole seconds a refused client should wait: the queue's work at the recent pace, at least 1.
  int retry_after_s() const;
  void record_job_seconds(double seconds);  // the pace, from answered jobs

 private:
  mutable std::mutex mutex_;
  size_t capacity_, depth_ = 0;
  int workers_;
  double mean_job_s_ = 0.1;
};

// Where a retried request stands in line. A /run_code job that could not start before its
// client's deadline is answered 504 (clients such as verl retry that code only, and only a few
// times); its retry, the same body again, keeps the first attempt's place in line instead of
// going to the back, so under a long queue it is answered rather than refused again.
class RetryPlaces {
 public:
  using Time = std::chrono::steady_clock::time_point;
  // The place of a request with this body: the first unanswered attempt's arrival, else `now`.
  Time place(const std::string& body_hash, Time now);
  // The request was answered 504: its retry keeps `place` (remembered for `keep`).
  void keep(const std::string& body_hash, Time place, Time now);
  void forget(const std::string& body_hash);  // answered: a later identical request is new
  static constexpr std::chrono::minutes keep_for{10};

 private:
  std::mutex mutex_;
  std::map<std::string, std::pair<Time, Time>> places_;  // body hash -> (place, remembered at)
};

// Counters, gauges and request-latency quantiles in Prometheus's text format.
class Metrics {
 public:
  void request(const std::string& endpoint, int status, double seconds);
  void job(const std::string& verdict);
  void cancelled(size_t jobs);
  void refused_busy();
  void refused_late();
  std::string text(const Admission& admission, int workers) const;

 private:
  // The last `window` latencies of an endpoint, with running totals.
  struct Latencies {
    std::deque<double> recent;
    double sum = 0;
    size_t count = 0;
  };
  static constexpr size_t window = 2048;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, size_t> requests_;
  std::map<std::string, size_t> jobs_;
  std::map<std::string, Latencies> latencies_;
  size_t cancelled_jobs_ = 0, refused_busy_ = 0, refused_late_ = 0;
};

}  // namespace codealign::service
