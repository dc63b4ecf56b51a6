// `codealign serve`: cpp-httplib's threaded server over one shared sandbox::Executor. A request
// holds an HTTP thread while its jobs wait for workers, so the HTTP threads outnumber the jobs
// that may be admitted; admission, not the thread pool, decides who waits and who is refused.
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "common/error.h"
#include "common/hash.h"
#include "evaluation/evaluation.h"
#include "sandbox/sandbox.h"
#include "service/connection.h"
#include "service/load.h"
#include "service/protocol.h"
#include "service/service.h"
#include "tasks/tasks.h"

namespace codealign::service {
namespace {

using Clock = std::chrono::steady_clock;

void answer(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void answer_message(httplib::Response& res, int status, const std::string& message) {
  answer(res, status, {{"message", message}});
}

// HumanEval+ and MBPP+: every task has evalplus value tests (two jobs a sample, and ground truth).
bool has_value_tests(const tasks::TaskSet& set) { return !set.tasks.empty() && set.tasks.front().has_value_tests(); }

std::string format_seconds(double seconds) {
  std::ostringstream text;
  text << seconds << " s";
  return text.str();
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

sandbox::Config executor_config(const Config& config) {
  sandbox::Config sandbox_config;
  sandbox_config.interpreter = config.interpreter;
  sandbox_config.workers = config.workers;
  sandbox_config.limits.output_bytes = config.output_bytes;
  sandbox_config.limits.memory_bytes = config.memory_bytes;
  sandbox_config.limits.test_output_bytes = std::max(sandbox_config.limits.test_output_bytes, config.output_bytes);
  return sandbox_config;
}

class Service {
 public:
  explicit Service(const Config& config)
      : config_(config),
        executor_(executor_config(config)),
        admission_(executor_.config().workers, config.max_queue),
        limits_{10.0, config.max_timeout_s, config.max_memory_bytes} {
    size_t threads = admission_.capacity() + 16;  // every admitted request, and room to refuse others
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(config.max_body_bytes);
    server_.set_keep_alive_timeout(2);  // idle connections let go of their threads soon
    server_.set_keep_alive_max_count(1000);  // busy clients keep their connection (default: 5 requests)
    server_.set_tcp_nodelay(true);      // headers and body go out at once, not 40 ms apart (Nagle)
    routes();
  }

  void run(int port) {
    bool clean = server_.listen_after_bind();
    listen_returned_ = true;
    if (!clean) throw Error("serve: the server stopped unexpectedly on port " + std::to_string(port));
  }

  int bind() {
    int port = config_.port;
    if (port == 0) port = server_.bind_to_any_port(config_.host);
    else if (!server_.bind_to_port(config_.host, port)) port = -1;
    if (port < 0) throw Error("serve: cannot listen on " + config_.host + ":" + std::to_string(config_.port) +
                              " (in use, or not an address of this machine)");
    return port;
  }

  // First signal: stop accepting, answer what is in flight. Second: cancel what is in flight.
  void on_signal() {
    if (!draining_.exchange(true)) {
      std::fprintf(stderr, "codealign serve: stopping; answering the requests in flight (signal again to cancel them)\n");
      // stop() does nothing before listen_after_bind has started: a signal at start-up waits for it.
      while (!server_.is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      server_.stop();
    } else {
      std::fprintf(stderr, "codealign serve: cancelling the requests in flight\n");
      cancelling_ = true;
    }
  }

  const sandbox::Executor& executor() const { return executor_; }

 private:
  void routes() {
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (config_.token.empty() || req.path == "/v1/ping" || authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
      answer_message(res, 401, "a token is required: 'Authorization: Bearer TOKEN' or ?token=TOKEN");
      metrics_.request(req.path, 401, 0);
      return httplib::Server::HandlerResponse::Handled;
    });
    server_.Get("/v1/ping", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content("\"pong\"", "application/json");
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.text(admission_, executor_.config().workers), "text/plain; version=0.0.4");
    });
    server_.Post("/run_code", [this](const httplib::Request& req, httplib::Response& res) {
      timed(res, "/run_code", [&] { run_code(req, res); });
    });
    server_.Post("/v1/evaluate", [this](const httplib::Request& req, httplib::Response& res) {
      timed(res, "/v1/evaluate", [&] { evaluate(req, res); });
    });
    server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      std::string why = "unknown error";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        why = e.what();
      } catch (...) {
      }
      answer_message(res, 500, "serve: " + why);
    });
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) answer_message(res, 413, "the body is larger than the server's limit (--max-body-mb)");
      else if (res.status == 404) answer_message(res, 404, "no endpoint " + req.method + " " + req.path);
      else answer_message(res, res.status, "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path);
    });
  }

  bool authorized(const httplib::Request& req) const {
    return same_secret(req.get_header_value("Authorization"), "Bearer " + config_.token) ||
           same_secret(req.get_param_value("token"), config_.token);
  }

  // Compares in time that depends on the lengths only, so that timing does not reveal the token.
  static bool same_secret(const std::string& given, const std::string& secret) {
    unsigned char differ = given.size() != secret.size();
    for (size_t i = 0; i < secret.size(); ++i) differ |= static_cast<unsigned char>(i < given.size() ? given[i] ^ secret[i] : 1);
    return differ == 0;
  }

  // Runs a handler, turning refusals into answers, and records the request.
  void timed(httplib::Response& res, const std::string& endpoint,
             const std::function<void()>& handle) {
    auto start = Clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    try {
      handle();
    } catch (const BadRequest& bad) {
      answer(res, bad.status, bad_request_body(bad));
    } catch (...) {
      metrics_.request(endpoint, 500, seconds());  // the exception handler answers it
      throw;
    }
    metrics_.request(endpoint, res.status, seconds());
  }

  static Json parse_body(const httplib::Request& req) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded()) throw BadRequest{400, "", "the body is not valid JSON"};
    return body;
  }

  // Admits `jobs` jobs, runs `work` with a cancellation test, releases them. False (with the
  // answer set) when they were refused or cancelled.
  bool admitted(const httplib::Request& req, httplib::Response& res, size_t jobs,
                const std::function<void(const std::function<bool()>&)>& work) {
    if (draining_) {
      answer_message(res, 503, "the server is shutting down");
      return false;
    }
    if (jobs > admission_.capacity())
      throw BadRequest{413, "", "the request has " + std::to_string(jobs) + " jobs; at most " +
                                    std::to_string(admission_.capacity()) + " fit (workers + --max-queue)"};
    if (!admission_.admit(jobs)) {
      metrics_.refused_busy();
      res.set_header("Retry-After", std::to_string(admission_.retry_after_s()));
      answer_message(res, config_.busy_status, "the queue is full; retry later");
      return false;
    }
    int socket = connection_socket(req.remote_addr, req.remote_port, req.local_port);
    auto cancelled = [this, socket] { return cancelling_.load() || (socket >= 0 && peer_gone(socket)); };
    bool done = false;
    try {
      work(cancelled);
      done = true;
    } catch (const sandbox::Cancelled&) {
      metrics_.cancelled(jobs);
      answer_message(res, 499, "the client closed the connection");  // nginx's code; the metrics show it
    } catch (...) {
      admission_.release(jobs);
      throw;
    }
    admission_.release(jobs);
    return done;
  }

  void record(const std::vector<sandbox::Outcome>& outcomes) {
    for (const auto& o : outcomes) {
      metrics_.job(sandbox::verdict_name(o.verdict));
      admission_.record_job_seconds(o.wall_s);
    }
  }

  // When the job must start to be answered before the client gives up, and its place in line.
  sandbox::Schedule run_code_schedule(const RunCodeRequest& request, const std::string& body_hash, Clock::time_point arrival) {
    sandbox::Schedule schedule;
    if (config_.deadline_slack_s <= 0) return schedule;
    auto seconds = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
    // The client's deadline, less the run itself and a second to start the job and send the answer.
    schedule.start_by = arrival + seconds(request.compile_timeout_s + config_.deadline_slack_s - 1.0);
    schedule.priority = retry_places_.place(body_hash, arrival);
    return schedule;
  }

  void run_code(const httplib::Request& req, httplib::Response& res) {
    Clock::time_point arrival = Clock::now();
    RunCodeRequest request = parse_run_code(parse_body(req), limits_);
    if (!request.unsupported_language.empty()) {
      answer(res, 200, run_code_sandbox_error("codealign serve runs python only; language '" +
                                               request.unsupported_language + "' is not supported"));
      return;
    }
    std::string body_hash = ContentHash().add(req.body).hex();
    sandbox::Schedule schedule = run_code_schedule(request, body_hash, arrival);
    std::optional<sandbox::Outcome> outcome;
    bool ran;
    try {
      ran = admitted(req, res, 1, [&](const std::function<bool()>& cancelled) {
        outcome = executor_.run({request.job}, {}, cancelled, schedule).front();
      });
    } catch (const sandbox::Late&) {
      retry_places_.keep(body_hash, *schedule.priority, Clock::now());
      metrics_.refused_late();
      res.set_header("Retry-After", "1");
      answer_message(res, 504, "the job could not start before the client's deadline (compile_timeout + run_timeout + " +
                                   format_seconds(config_.deadline_slack_s) + "); retry: it keeps its place in line");
      return;
    } catch (const Error& e) {  // the sandbox failed (a worker that cannot start): SandboxFusion's SandboxError
      answer(res, 200, run_code_sandbox_error(e.what()));
      return;
    }
    if (ran) {
      retry_places_.forget(body_hash);
      record({*outcome});
      answer(res, 200, run_code_response(*outcome));
    } else if (cancelling_) {
      answer(res, 200, run_code_sandbox_error("the server is shutting down; the job was cancelled"));
    }
  }

  void evaluate(const httplib::Request& req, httplib::Response& res) {
    EvaluateRequest request = parse_evaluate(parse_body(req), limits_);
    Json body;
    bool ran;
    if (request.benchmark.empty()) {
      ran = admitted(req, res, request.jobs.size(), [&](const std::function<bool()>& cancelled) {
        std::vector<sandbox::Outcome> outcomes = executor_.run(request.jobs, {}, cancelled);
        record(outcomes);
        body = evaluate_jobs_response(outcomes, request.with_output);
      });
    } else {
      std::shared_ptr<Benchmark> benchmark = find_benchmark(request.benchmark);
      const tasks::TaskSet& set = benchmark->tasks;
      std::vector<evaluation::Sample> samples = evaluate_samples(request, set);
      size_t jobs = samples.size() * (has_value_tests(set) ? 2 : 1);  // base and plus inputs
      ran = admitted(req, res, jobs, [&](const std::function<bool()>& cancelled) {
        evaluation::Options options;
        options.timeout_s = request.timeout_s;
        options.hardened = request.hardened;
        options.cache_dir = config_.cache_dir;
        options.cancelled = cancelled;
        options.show_progress = false;
        warm_up(*benchmark, options);
        evaluation::Report report = evaluation::evaluate(set, samples, executor_, options);
        for (const auto& r : report.results) record(r.plus ? std::vector{r.base, *r.plus} : std::vector{r.base});
        body = evaluate_samples_response(report, request.with_output);
      });
    }
    if (ran) answer(res, 200, body);
    else if (cancelling_) answer_message(res, 503, "the server is shutting down; the jobs were cancelled");
  }

  // A benchmark's tasks, loaded once, and whether its ground truth (HumanEval+, MBPP+) is cached.
  struct Benchmark {
    tasks::TaskSet tasks;
    std::mutex warm_mutex;
    bool warm = false;
  };

  std::shared_ptr<Benchmark> find_benchmark(const std::string& name) {
    std::lock_guard lock(benchmarks_mutex_);
    auto& benchmark = benchmarks_[name];
    if (!benchmark) {
      try {
        benchmark = std::make_shared<Benchmark>();
        benchmark->tasks = tasks::load_task_source(name, config_.data_dir);
      } catch (const Error& e) {
        benchmarks_.erase(name);
        throw BadRequest{422, "benchmark", std::string("benchmark: ") + e.what()};
      }
    }
    return benchmark;
  }

  // Computes and caches a value-test benchmark's ground truth once, before concurrent requests
  // would each compute it and race to write the cache. Its jobs are the server's, not admitted.
  void warm_up(Benchmark& benchmark, const evaluation::Options& options) {
    std::lock_guard lock(benchmark.warm_mutex);
    if (benchmark.warm || options.cache_dir.empty() || !has_value_tests(benchmark.tasks)) return;
    evaluation::evaluate(benchmark.tasks, {}, executor_, options);
    benchmark.warm = true;
  }

  Config config_;
  sandbox::Executor executor_;
  Admission admission_;
  RetryPlaces retry_places_;
  Metrics metrics_;
  RequestLimits limits_;
  httplib::Server server_;
  std::atomic<bool> draining_{false}, cancelling_{false}, listen_returned_{false};
  std::mutex benchmarks_mutex_;
  std::map<std::string, std::shared_ptr<Benchmark>> benchmarks_;
};

}  // namespace

void serve(const Config& config) {
  if (!is_loopback(config.host) && config.token.empty())
    throw Error("serve: --host " + config.host + " is reachable from other machines; pass --token (clients send "
                "'Authorization: Bearer TOKEN' or add ?token=TOKEN to the URL)");
  if (config.busy_status < 400 || config.busy_status > 599) throw Error("serve: --busy-status must be a 4xx or 5xx code");
  // glibc gives threads up to 8 malloc arenas per core, and each keeps the memory of the large
  // answers its threads built: across the pool's many HTTP threads the RSS crept up by ~40 MB
  // over 3,000 jobs (bench/soak.sh). Two arenas hold it flat at the same throughput.
  mallopt(M_ARENA_MAX, 2);
  // SIGTERM and SIGINT wait for one thread; every thread made from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  Service service(config);
  int port = service.bind();
  std::atomic<bool> stopped{false};
  std::thread signals([&] {
    for (int signal_number; sigwait(&stop_signals, &signal_number) == 0 && !stopped;) service.on_signal();
  });
  std::cout << "codealign serve: listening on http://" << config.host << ":" << port << " (" << service.executor().config().workers
            << " workers, " << service.executor().isolation() << ")" << std::endl;
  struct WakeSignalThread {  // also when run() throws: the thread must end before `service` does
    std::atomic<bool>& stopped;
    std::thread& thread;
    ~WakeSignalThread() {
      stopped = true;
      pthread_kill(thread.native_handle(), SIGTERM);  // blocked there: sigwait takes it
      thread.join();
    }
  } wake{stopped, signals};
  service.run(port);
  std::cerr << "codealign serve: stopped" << std::endl;
}

}  // namespace codealign::service
