#include "service/load.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace codealign::service {

Admission::Admission(int workers, int max_queue)
    : capacity_(static_cast<size_t>(workers) + static_cast<size_t>(max_queue)), workers_(workers) {}

bool Admission::admit(size_t jobs) {
  std::lock_guard lock(mutex_);
  if (depth_ + jobs > capacity_) return false;
  depth_ += jobs;
  return true;
}

void Admission::release(size_t jobs) {
  std::lock_guard lock(mutex_);
  depth_ -= std::min(jobs, depth_);
}

size_t Admission::depth() const {
  std::lock_guard lock(mutex_);
  return depth_;
}

int Admission::retry_after_s() const {
  std::lock_guard lock(mutex_);
  return std::max(1, static_cast<int>(std::ceil(depth_ * mean_job_s_ / workers_)));
}

void Admission::record_job_seconds(double seconds) {
  std::lock_guard lock(mutex_);
  mean_job_s_ = 0.95 * mean_job_s_ + 0.05 * seconds;  // a moving average: the recent pace
}

RetryPlaces::Time RetryPlaces::place(const std::string& body_hash, Time now) {
  std::lock_guard lock(mutex_);
  auto found = places_.find(body_hash);
  if (found == places_.end() || now - found->second.second > keep_for) return now;
  return found->second.first;
}

void RetryPlaces::keep(const std::string& body_hash, Time place, Time now) {
  std::lock_guard lock(mutex_);
  for (auto it = places_.begin(); it != places_.end();)  // forget clients that never came back
    it = now - it->second.second > keep_for ? places_.erase(it) : std::next(it);
  places_[body_hash] = {place, now};
}

void RetryPlaces::forget(const std::string& body_hash) {
  std::lock_guard lock(mutex_);
  places_.erase(body_hash);
}

void Metrics::request(const std::string& endpoint, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
  Latencies& l = latencies_[endpoint];
  l.recent.push_back(seconds);
  if (l.recent.size() > window) l.recent.pop_front();
  l.sum += seconds;
  ++l.count;
}

void Metrics::job(const std::string& verdict) {
  std::lock_guard lock(mutex_);
  ++jobs_[verdict];
}

void Metrics::cancelled(size_t jobs) {
  std::lock_guard lock(mutex_);
  cancelled_jobs_ += jobs;
}

void Metrics::refused_busy() {
  std::lock_guard lock(mutex_);
  ++refused_busy_;
}

void Metrics::refused_late() {
  std::lock_guard lock(mutex_);
  ++refused_late_;
}

std::string Metrics::text(const Admission& admission, int workers) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  auto head = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  };
  head("codealign_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
  for (const auto& [key, count] : requests_)
    out << "codealign_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second << "\"} " << count << "\n";
  head("codealign_jobs_total", "counter", "Sandbox jobs answered, by codealign verdict.");
  for (const auto& [verdict, count] : jobs_) out << "codealign_jobs_total{verdict=\"" << verdict << "\"} " << count << "\n";
  head("codealign_jobs_cancelled_total", "counter", "Jobs dropped or killed because their client went away or the server stopped.");
  out << "codealign_jobs_cancelled_total " << cancelled_jobs_ << "\n";
  head("codealign_requests_refused_busy_total", "counter", "Requests refused because the queue was full.");
  out << "codealign_requests_refused_busy_total " << refused_busy_ << "\n";
  head("codealign_requests_refused_late_total", "counter",
       "run_code requests answered 504 because their job could not start before the client's deadline.");
  out << "codealign_requests_refused_late_total " << refused_late_ << "\n";
  head("codealign_queue_depth", "gauge", "Jobs admitted and not yet answered (running or waiting).");
  out << "codealign_queue_depth " << admission.depth() << "\n";
  head("codealign_queue_capacity", "gauge", "Jobs that may be admitted at once (workers + --max-queue).");
  out << "codealign_queue_capacity " << admission.capacity() << "\n";
  head("codealign_workers", "gauge", "Sandbox workers.");
  out << "codealign_workers " << workers << "\n";
  head("codealign_request_duration_seconds", "summary", "Request latency; quantiles over the last 2048 requests of an endpoint.");
  for (const auto& [endpoint, l] : latencies_) {
    std::vector<double> sorted(l.recent.begin(), l.recent.end());
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.5, 0.9, 0.99}) {
      double value = sorted.empty() ? 0 : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
      out << "codealign_request_duration_seconds{endpoint=\"" << endpoint << "\",quantile=\"" << q << "\"} " << value << "\n";
    }
    out << "codealign_request_duration_seconds_sum{endpoint=\"" << endpoint << "\"} " << l.sum << "\n";
    out << "codealign_request_duration_seconds_count{endpoint=\"" << endpoint << "\"} " << l.count << "\n";
  }
  return out.str();
}

}  // namespace codealign::service
