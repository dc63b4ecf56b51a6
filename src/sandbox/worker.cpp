#include "sandbox/worker.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace codealign::sandbox {

namespace {

using Clock = std::chrono::steady_clock;

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

// Messages are an 8-byte little-endian length followed by the bytes.
bool send_message(int fd, const std::string& payload) {
  uint64_t size = payload.size();
  unsigned char header[8];
  for (int i = 0; i < 8; ++i) header[i] = static_cast<unsigned char>(size >> (8 * i));
  return write_all(fd, reinterpret_cast<char*>(header), 8) && write_all(fd, payload.data(), payload.size());
}

// How often a waiting read asks whether its caller gave up.
constexpr int cancel_poll_ms = 100;

// Reads exactly `size` bytes before `deadline`; false on EOF, error or deadline. Throws
// WorkerCancelled when `cancelled` says yes.
bool read_exact(int fd, char* data, size_t size, Clock::time_point deadline, const std::function<bool()>& cancelled) {
  while (size > 0) {
    int wait_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (wait_ms <= 0) return false;
    if (cancelled) {
      if (cancelled()) throw WorkerCancelled{};
      wait_ms = std::min(wait_ms, cancel_poll_ms);
    }
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0 && cancelled && Clock::now() < deadline) continue;
    if (rc <= 0) return false;
    ssize_t n = read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= n;
  }
  return true;
}

bool receive_message(int fd, std::string& payload, Clock::time_point deadline,
                     const std::function<bool()>& cancelled = {}) {
  unsigned char header[8];
  if (!read_exact(fd, reinterpret_cast<char*>(header), 8, deadline, cancelled)) return false;
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= static_cast<uint64_t>(header[i]) << (8 * i);
  if (size > (1ull << 32)) return false;
  payload.resize(size);
  return read_exact(fd, payload.data(), size, deadline, cancelled);
}

std::string drain(int fd) {
  std::string text;
  char buffer[4096];
  pollfd p{fd, POLLIN, 0};
  while (text.size() < 16384 && poll(&p, 1, 200) > 0) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, n);
  }
  return text;
}

}  // namespace

Worker::Worker(const std::string& interpreter, size_t scratch_bytes, int index, const std::vector<char>& seccomp_bpf) {
  ContainerSpec spec{interpreter, {"-I", "-B", "-c", std::string(harness_source())}, scratch_bytes, index};
  container_ = container_start(spec, seccomp_bpf);
  std::string ready;
  if (!receive_message(container_.from_child, ready, Clock::now() + std::chrono::seconds(60))) {
    std::string why = drain(container_.child_stderr);
    stop();
    throw Error("sandbox: interpreter '" + interpreter + "' did not start in the sandbox" +
                (why.empty() ? std::string() : ": " + why));
  }
  auto hello = nlohmann::json::parse(ready, nullptr, false);
  if (hello.is_object() && hello.contains("python"))
    interpreter_version_ = "python " + hello["python"].get<std::string>() + (hello.value("numpy", false) ? ", numpy" : "");
  std::string ids = std::to_string(container_.sandbox_uid) + " " + std::to_string(container_.sandbox_gid);
  if (!send_message(container_.to_child, ids)) {
    stop();
    throw Error("sandbox: worker closed its pipe at start-up");
  }
}

Worker::~Worker() { stop(); }

void Worker::stop() {
  if (container_.pid > 0) {
    kill(container_.pid, SIGKILL);  // pid 1 of its namespace: everything inside dies with it
    waitpid(container_.pid, nullptr, 0);
    container_.pid = -1;
  }
  for (int* fd : {&container_.to_child, &container_.from_child, &container_.child_stderr}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::string Worker::run(const std::string& job, const std::string& expected, double deadline_s,
                        const std::function<bool()>& cancelled) {
  if (container_.pid < 0) throw WorkerDied{"worker already stopped"};
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(deadline_s));
  std::string result;
  bool answered;
  try {
    answered = send_message(container_.to_child, job) && send_message(container_.to_child, expected) &&
               receive_message(container_.from_child, result, deadline, cancelled);
  } catch (const WorkerCancelled&) {
    stop();  // the job dies with its sandbox; a new worker takes this one's place
    throw;
  }
  if (!answered) {
    pid_t reaped = waitpid(container_.pid, nullptr, WNOHANG);
    bool alive = reaped == 0;
    if (reaped == container_.pid) container_.pid = -1;  // never signal a reaped (reusable) pid
    stop();
    throw WorkerDied{alive ? "no answer before the deadline" : "interpreter died"};
  }
  return result;
}

}  // namespace codealign::sandbox
