// The rounds of `codealign align`: each stage writes its files atomically and then stage.json,
// so that a run killed at any point resumes from the last complete stage.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "model/device.h"
#include "pipeline/pause_point.h"
#include "pipeline/pipeline.h"

namespace codealign::pipeline {
namespace {

namespace fs = std::filesystem;

void say(const std::string& line) { std::cerr << "align: " << line << std::endl; }

std::optional<Json> completed(const fs::path& stage) {
  fs::path marker = stage / "stage.json";
  if (!fs::exists(marker)) return std::nullopt;
  return Json::parse(read_file(marker.string()));
}

Json complete(const fs::path& stage, const Json& summary) {
  AtomicFile file((stage / "stage.json").string());
  file.write(summary.dump(2) + "\n");
  file.commit();
  return summary;
}

// The temporary files (common/files.h: "<path>.tmp.<pid>") that a killed run left in a stage
// it had not completed.
void remove_partial_files(const fs::path& stage) {
  for (const auto& entry : fs::directory_iterator(stage))
    if (entry.is_regular_file() && entry.path().filename().string().find(".tmp.") != std::string::npos)
      fs::remove(entry.path());
}

// "mbpp:test" -> "mbpp-test", "mbpp:test[:50]" -> "mbpp-test-0-50"; a tasks file -> its stem.
std::string directory_name(const std::string& set_name) {
  std::string name = set_name, slice;
  if (size_t open = name.rfind('['); open != std::string::npos && name.ends_with(']')) {
    slice = name.substr(open + 1, name.size() - open - 2);
    name.resize(open);
    if (slice.starts_with(':')) slice = "0" + slice;
    if (slice.ends_with(':')) slice += "end";
  }
  name = fs::path(name).stem().string() + (slice.empty() ? "" : "-" + slice);
  for (char& c : name) c = c == ':' || c == '/' ? '-' : c;
  return name;
}

// What evaluate reports, without the per-sample results.
Json report_json(const evaluation::Report& report) {
  Json j = {{"tasks", report.tasks}, {"samples", report.results.size()}, {"verdicts", report.verdicts}};
  for (const auto& [group, values] : report.pass_at_k) j[group] = values;
  return j;
}

// The last metrics line a training run logged.
Json last_metrics(const fs::path& train_dir) {
  Json last = Json::object();
  std::string path = (train_dir / "metrics.jsonl").string();
  if (!fs::exists(path)) return last;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) { last = parse_json_object(line); });
  return last;
}

bool is_on_policy(const std::string& method) { return method != "dpo-off-policy"; }

// "2024-05-01T12:00:00Z"
std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// A samples file without its token ids: another model's ids mean nothing to the policy, which
// trains on its own tokenization of the text.
void copy_without_ids(const std::string& from, const std::string& to) {
  std::string text;
  for_each_jsonl_line(from, read_file(from), [&](const JsonlLine& line) {
    Json sample = parse_json_object(line);
    sample.erase("completion_ids");
    text += sample.dump() + "\n";
  });
  AtomicFile file(to);
  file.write(text);
  file.commit();
}

class Run {
 public:
  Run(const AlignConfig& config, fs::path dir, bool resume) : config_(config), dir_(std::move(dir)), resume_(resume) {
    train_tasks_ = tasks::load_task_source(config.train_tasks, config.data_dir);
    for (const std::string& name : config.eval_sets) eval_sets_.push_back(tasks::load_task_source(name, config.data_dir));
    check_overlap();
    if (!config.off_policy_samples.empty()) evaluation::read_samples(config.off_policy_samples, train_tasks_);
    if (config.tokenizer.empty() && !fs::is_directory(config.model))
      throw Error("align: the model '" + config.model + "' is a file (llama2.c): pass --tokenizer (its tok*.bin)");
    tokenizer_path_ = config.tokenizer.empty() ? config.model : config.tokenizer;
    tokenizer_ = tokenizer::Tokenizer::load(tokenizer_path_);  // a missing tokenizer fails before anything runs
    if (!config.execution_cache.empty()) {
      fs::create_directories(fs::absolute(config.execution_cache).parent_path());
      cache_ = std::make_unique<evaluation::ExecutionCache>(config.execution_cache);
    }
    for (const std::string& method : config.methods)
      if (is_on_policy(method)) on_policy_methods_.push_back(method);
  }

  Json run() {
    log_event({{"event", "start"}, {"version", config_.version}, {"resume", resume_}});
    Json summary = {{"methods", config_.methods}, {"train_tasks", config_.train_tasks}, {"rounds", Json::array()}};
    Json start = {{"round", 0}};
    evaluate_policy(config_.model, dir_ / "round-0", start);
    summary["rounds"].push_back(start);
    std::map<std::string, std::string> policy;  // method -> the model it samples from
    for (const std::string& method : config_.methods) policy[method] = config_.model;
    bool stop = false;
    for (int round = 1; round <= config_.rounds && !stop; ++round) {
      Json record = {{"round", round}, {"samples", Json::object()}, {"methods", Json::object()}};
      fs::path round_dir = dir_ / ("round-" + std::to_string(round));
      auto train_method = [&](const std::string& method, const fs::path& data_dir, const Json& data) {
        Json result = train_and_evaluate(method, policy[method], data_dir, round_dir, round, data);
        if (result.contains("model")) policy[method] = (dir_ / result["model"].get<std::string>()).string();
        else stop = stop || config_.stop_on_empty_round;
        record["methods"][method] = result;
      };
      // On-policy methods whose policies are the same model share one set of samples.
      std::map<std::string, std::vector<std::string>> by_policy;
      for (const std::string& method : on_policy_methods_) by_policy[policy[method]].push_back(method);
      for (const auto& [model, methods] : by_policy) {
        std::string label = methods.size() == on_policy_methods_.size() ? "shared" : methods[0];
        Json data = on_policy_data(model, round_dir / label, round);
        record["samples"][label] = data;
        for (const std::string& method : methods) train_method(method, round_dir / label / "preferences", data);
      }
      if (policy.count("dpo-off-policy")) {
        Json data = off_policy_data();
        record["samples"]["off-policy"] = data;
        train_method("dpo-off-policy", dir_ / "off-policy" / "preferences", data);
      }
      summary["rounds"].push_back(record);
      if (stop) say("round " + std::to_string(round) + " gave no training data; stopping (stop_on_empty_round)");
    }
    if (cache_)
      say("execution cache: " + std::to_string(cached_jobs_) + " of " + std::to_string(jobs_) +
          " jobs of this invocation answered without running (" + config_.execution_cache + ")");
    AtomicFile file((dir_ / "summary.json").string());
    file.write(summary.dump(2) + "\n");
    file.commit();
    log_event({{"event", "end"}, {"total_seconds", seconds_since(started_)}});
    return summary;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  // A line of timeline.jsonl (appended; the wall times of the run, which nothing else holds).
  void log_event(Json event) {
    event["time"] = utc_now();
    std::ofstream((dir_ / "timeline.jsonl").string(), std::ios::app) << event.dump() << "\n";
  }

  // complete(), then the stage's wall time in timeline.jsonl: the time since this invocation
  // completed its previous stage (or started), so loading models and tasks counts with the stage.
  Json finish(const fs::path& stage, const Json& summary) {
    Json done = complete(stage, summary);
    log_event({{"event", "stage"}, {"stage", stage.lexically_relative(dir_).string()}, {"seconds", seconds_since(mark_)}});
    mark_ = std::chrono::steady_clock::now();
    return done;
  }

  void check_overlap() const {
    std::vector<std::string> found;
    for (const tasks::TaskSet& set : eval_sets_)
      for (const std::string& item : overlapping_tasks(train_tasks_, set)) found.push_back(item);
    if (found.empty()) return;
    std::string first;
    for (size_t i = 0; i < std::min<size_t>(3, found.size()); ++i) first += "\n  " + found[i];
    throw Error("align: " + std::to_string(found.size()) + " evaluation task(s) overlap the training tasks '" +
                config_.train_tasks + "'; the first:" + first);
  }

  // A model trained in this run by its path inside the run directory (so that a run's files do
  // not depend on where it lives); any other as given.
  std::string name_of(const std::string& model_path) const {
    fs::path relative = fs::path(model_path).lexically_relative(dir_);
    return !relative.empty() && *relative.begin() != ".." ? relative.string() : model_path;
  }

  sandbox::Executor& executor() {
    if (!executor_) executor_ = std::make_unique<sandbox::Executor>(config_.sandbox);
    return *executor_;
  }

  tokenizer::Tokenizer& tokenizer() { return *tokenizer_; }

  // Samples `tasks` with `model` into stage/samples.jsonl (unless a whole one is there) and runs them.
  evaluation::Report sample_and_execute(const std::string& model_path, const tasks::TaskSet& tasks,
                                        const SampleConfig& sampling, const evaluation::Options& options,
                                        const fs::path& stage) {
    fs::create_directories(stage);
    remove_partial_files(stage);
    std::string samples_path = (stage / "samples.jsonl").string();
    if (!fs::exists(samples_path)) {  // an atomic file: present means whole
      torch::Device device = model::resolve_device(config_.device);
      model::CausalLM model = model::CausalLM::load(model_path, model::resolve_dtype(config_.dtype, device), device);
      sample_tasks(model, tokenizer(), tasks, sampling, samples_path);
    }
    return execute(tasks, options, stage);
  }

  // Runs stage/samples.jsonl into stage/results.jsonl.
  evaluation::Report execute(const tasks::TaskSet& tasks, const evaluation::Options& options, const fs::path& stage) {
    evaluation::Options cached = options;
    cached.execution_cache = cache_.get();
    std::string samples_path = (stage / "samples.jsonl").string();
    evaluation::Report report =
        evaluation::evaluate(tasks, evaluation::read_samples(samples_path, tasks), executor(), cached);
    pause_point("execute:" + tasks.name);
    evaluation::write_results(report, (stage / "results.jsonl").string());
    jobs_ += report.jobs;
    cached_jobs_ += report.cached_jobs;
    return report;
  }

  // Greedy pass@1 of `model_path` on every evaluation set into record["eval"], and with
  // eval_samples > 0 sampled pass@k into record["eval_sampled"]; stages under `base`.
  void evaluate_policy(const std::string& model_path, const fs::path& base, Json& record) {
    SampleConfig greedy = config_.sampling;
    greedy.sampling.temperature = 0;
    greedy.sampling.samples_per_prompt = 1;
    greedy.sampling.max_new_tokens = config_.eval_max_new_tokens;
    record["eval"] = evaluate_sets(model_path, base / "eval", greedy);
    if (config_.eval_samples <= 0) return;
    SampleConfig sampled = greedy;  // the same seed for every model, so that they meet the same draws
    sampled.sampling.temperature = config_.eval_temperature;
    sampled.sampling.top_p = config_.eval_top_p;
    sampled.sampling.samples_per_prompt = config_.eval_samples;
    record["eval_sampled"] = evaluate_sets(model_path, base / "eval-sampled", sampled);
  }

  Json evaluate_sets(const std::string& model_path, const fs::path& base, const SampleConfig& sampling) {
    Json results = Json::object();
    for (const tasks::TaskSet& set : eval_sets_) {
      fs::path stage = base / directory_name(set.name);
      if (auto done = completed(stage)) {
        results[set.name] = *done;
        continue;
      }
      say("evaluate " + name_of(model_path) + " on " + set.name + " (" +
          (sampling.sampling.temperature == 0 ? std::string("greedy")
                                              : std::to_string(sampling.sampling.samples_per_prompt) + " samples") +
          " per task, " + std::to_string(set.tasks.size()) + " tasks)");
      results[set.name] = finish(stage, report_json(sample_and_execute(model_path, set, sampling, config_.evaluation, stage)));
    }
    return results;
  }

  // Samples, outcomes and pairs of one round for the policy `model_path`, under `base`.
  Json on_policy_data(const std::string& model_path, const fs::path& base, int round) {
    fs::path executed = base / "execute";
    if (!completed(executed)) {
      say("round " + std::to_string(round) + ": sample " + std::to_string(config_.samples_per_task) + " per task of " +
          std::to_string(train_tasks_.tasks.size()) + " tasks from " + name_of(model_path) + ", then execute");
      SampleConfig sampling = config_.sampling;
      sampling.sampling.samples_per_prompt = config_.samples_per_task;
      sampling.sampling.seed += uint64_t(round) * 1000003;  // other rounds, other samples
      evaluation::Report report = sample_and_execute(model_path, train_tasks_, sampling, config_.execution, executed);
      finish(executed, report_json(report));
    }
    return preference_data(base, {round, name_of(model_path)});
  }

  // Another model's samples (off_policy_samples), their outcomes and pairs: made once, under
  // off-policy/, and trained on in every round.
  Json off_policy_data() {
    fs::path base = dir_ / "off-policy", executed = base / "execute";
    if (!completed(executed)) {
      say("off-policy: execute the samples of " + config_.off_policy_samples);
      fs::create_directories(executed);
      remove_partial_files(executed);
      std::string samples = (executed / "samples.jsonl").string();
      if (!fs::exists(samples)) copy_without_ids(config_.off_policy_samples, samples);
      finish(executed, report_json(execute(train_tasks_, config_.execution, executed)));
    }
    return preference_data(base, {0, config_.off_policy_samples});
  }

  // Pairs and RFT data under base/preferences from the outcomes in base/execute.
  Json preference_data(const fs::path& base, const preferences::Provenance& provenance) {
    fs::path executed = base / "execute", pairs = base / "preferences";
    if (auto done = completed(pairs)) return *done;
    fs::create_directories(pairs);
    remove_partial_files(pairs);
    std::string samples = (executed / "samples.jsonl").string(), results = (executed / "results.jsonl").string();
    auto judged = preferences::read_judged(samples, results, train_tasks_);
    preferences::Pairs made = preferences::make_pairs(judged, config_.pairs);
    preferences::write_pairs((pairs / "pairs.jsonl").string(), made, train_tasks_, provenance);
    auto rft = preferences::rft_examples(judged, config_.rft_max_per_task, config_.pairs.seed);
    preferences::write_rft((pairs / "rft.jsonl").string(), rft, train_tasks_);
    Json stats = made.stats.to_json();
    stats["rft_examples"] = rft.size();
    stats["execution"] = *completed(executed);
    say((provenance.round ? "round " + std::to_string(provenance.round) : std::string("off-policy")) + ": " +
        std::to_string(made.stats.pairs) + " pairs, " + std::to_string(rft.size()) + " RFT examples from " +
        std::to_string(judged.size()) + " samples");
    return finish(pairs, stats);
  }

  // Trains `method` from `model_path` on the data in `data_dir` and evaluates the result, under
  // round_dir/method.
  Json train_and_evaluate(const std::string& method, const std::string& model_path, const fs::path& data_dir,
                          const fs::path& round_dir, int round, const Json& data) {
    bool dpo = method != "rft";
    size_t examples = data.at(dpo ? "pairs" : "rft_examples").get<size_t>();
    if (examples == 0) {
      say("round " + std::to_string(round) + ": no " + (dpo ? "pairs" : "RFT examples") + " for " + method +
          "; its policy stays as it was");
      return {{"examples", 0}, {"skipped", "no training data"}};
    }
    fs::path stage = round_dir / method / "train";
    if (!completed(stage)) {
      say("round " + std::to_string(round) + ": train " + method + " on " + std::to_string(examples) + " examples");
      training::TrainConfig train = dpo ? config_.dpo : config_.rft;
      train.mode = dpo ? "dpo" : "sft";
      train.prompts.chat = config_.sampling.chat;
      fs::path data_file = data_dir / (dpo ? "pairs.jsonl" : "rft.jsonl");
      training::TrainPaths paths{model_path, tokenizer_path_, data_file.string(), stage.string(),
                                 config_.reference == "initial" ? config_.model : ""};
      if (!training::train(train, paths, fs::exists(stage)))
        throw Error("align: training was interrupted; run again with --resume to continue");
      finish(stage, {{"examples", examples}, {"metrics", last_metrics(stage)}});
    }
    Json result = *completed(stage);
    result["model"] = name_of(stage.string());
    evaluate_policy(stage.string(), round_dir / method, result);
    return result;
  }

  const AlignConfig& config_;
  fs::path dir_;
  tasks::TaskSet train_tasks_;
  std::vector<tasks::TaskSet> eval_sets_;
  std::vector<std::string> on_policy_methods_;
  std::string tokenizer_path_;
  std::optional<tokenizer::Tokenizer> tokenizer_;
  std::unique_ptr<sandbox::Executor> executor_;
  std::unique_ptr<evaluation::ExecutionCache> cache_;
  size_t jobs_ = 0, cached_jobs_ = 0;
  bool resume_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), mark_ = started_;
};

}  // namespace

Json align(const AlignConfig& config, const std::string& run_dir, bool resume) {
  if (config.rounds < 1) throw Error("align: rounds must be at least 1");
  for (const std::string& method : config.methods)
    if (method != "dpo" && method != "rft" && method != "dpo-off-policy")
      throw Error("align: unknown method '" + method + "' (valid: dpo, rft, dpo-off-policy)");
  bool off_policy = std::count(config.methods.begin(), config.methods.end(), "dpo-off-policy") > 0;
  if (off_policy != !config.off_policy_samples.empty())
    throw Error(off_policy ? "align: method dpo-off-policy needs --off-policy-samples (another model's samples of the training tasks)"
                           : "align: --off-policy-samples is used by method dpo-off-policy only; add it to --method");
  if (config.reference != "round" && config.reference != "initial")
    throw Error("align: unknown reference '" + config.reference + "' (valid: round, initial)");
  if (!resume && fs::exists(run_dir) && !fs::is_empty(run_dir))
    throw Error("align: run directory '" + run_dir + "' is not empty (hint: --resume to continue it, or a new --out)");
  fs::create_directories(run_dir);
  std::string options_path = (fs::path(run_dir) / "config.toml").string();
  if (resume && fs::exists(options_path) && read_file(options_path) != config.options_text)
    throw Error("align: the options differ from those the run in '" + run_dir + "' started with (" + options_path +
                "); resume with the same options");
  AtomicFile options(options_path);
  options.write(config.options_text);
  options.commit();
  return Run(config, run_dir, resume).run();
}

}  // namespace codealign::pipeline
