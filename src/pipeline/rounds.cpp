// The rounds of `codealign align`: each stage writes its files atomically and then stage.json,
// so that a run killed at any point resumes from the last complete stage.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "distributed/communicator.h"
#include "model/device.h"
#include "pipeline/pause_point.h"
#include "pipeline/pipeline.h"
#include "pipeline/run_layout.h"

namespace codealign::pipeline {
namespace {

namespace fs = std::filesystem;

bool speaks = true;  // rank 0 only, in a run of several processes
void say(const std::string& line) {
  if (speaks) std::cerr << "align: " << line << std::endl;
}

std::optional<Json> completed(const fs::path& stage) {
  fs::path marker = stage / RunLayout::stage_marker;
  if (!fs::exists(marker)) return std::nullopt;
  return Json::parse(read_file(marker.string()));
}

Json complete(const fs::path& stage, const Json& summary) {
  AtomicFile file((stage / RunLayout::stage_marker).string());
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

// What evaluate reports, without the per-sample results.
Json report_json(const evaluation::Report& report) {
  Json j = {{"tasks", report.tasks}, {"samples", report.results.size()}, {"verdicts", report.verdicts}};
  for (const auto& [group, values] : report.pass_at_k) j[group] = values;
  return j;
}

// The last metrics line a training run logged.
Json last_metrics(const fs::path& train_dir) {
  Json last = Json::object();
  std::string path = (train_dir / RunLayout::metrics_file).string();
  if (!fs::exists(path)) return last;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) { last = parse_json_object(line); });
  return last;
}

bool is_on_policy(Method method) { return method != Method::dpo_off_policy; }

// How `method` trains in `round`: rft-dpo as rft in round 1 and as dpo after.
Method trains_as(Method method, int round) {
  if (method == Method::rft_dpo) return round == 1 ? Method::rft : Method::dpo;
  return method == Method::dpo_off_policy ? Method::dpo : method;
}
std::string name_of_method(Method method) { return method_names.name(method); }

Json method_list(const std::vector<Method>& methods) {
  Json names = Json::array();
  for (Method method : methods) names.push_back(name_of_method(method));
  return names;
}

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

// Who makes a stage: every rank (sampling, its share of the tasks; training, data parallel) or
// rank 0 (the sandbox, pairs), the others waiting.
enum class Makers { all_ranks, rank_0 };

class Run {
 public:
  Run(const AlignConfig& config, fs::path dir, bool resume, distributed::Communicator& comm)
      : config_(config), layout_{std::move(dir)}, comm_(comm), resume_(resume) {
    speaks = comm.is_main();
    train_tasks_ = tasks::load_task_source(config.train_tasks, config.data_dir);
    for (const std::string& name : config.eval_sets) eval_sets_.push_back(tasks::load_task_source(name, config.data_dir));
    check_overlap();
    if (!config.off_policy_samples.empty()) evaluation::read_samples(config.off_policy_samples, train_tasks_);
    if (config.tokenizer.empty() && !fs::is_directory(config.model))
      throw Error("align: the model '" + config.model + "' is a file (llama2.c): pass --tokenizer (its tok*.bin)");
    tokenizer_path_ = config.tokenizer.empty() ? config.model : config.tokenizer;
    tokenizer_ = tokenizer::Tokenizer::load(tokenizer_path_);  // a missing tokenizer fails before anything runs
    if (!config.execution_cache.empty() && comm.is_main()) {
      fs::create_directories(fs::absolute(config.execution_cache).parent_path());
      cache_ = std::make_unique<evaluation::ExecutionCache>(config.execution_cache);
    }
    for (Method method : config.methods)
      if (is_on_policy(method)) on_policy_methods_.push_back(method);
  }

  Json run() {
    log_event({{"event", "start"}, {"version", config_.version}, {"resume", resume_}});
    Json summary = {{"methods", method_list(config_.methods)}, {"train_tasks", config_.train_tasks}, {"rounds", Json::array()}};
    Json start = {{"round", 0}};
    evaluate_policy(config_.model, layout_.round(0), start);
    summary["rounds"].push_back(start);
    std::map<Method, std::string> policy;  // method -> the model it samples from
    for (Method method : config_.methods) policy[method] = config_.model;
    bool stop = false;
    for (int round = 1; round <= config_.rounds && !stop; ++round) {
      Json record = {{"round", round}, {"samples", Json::object()}, {"methods", Json::object()}};
      auto train_method = [&](Method method, const fs::path& data_group, const Json& data) {
        Json result = train_and_evaluate(method, policy[method], data_group, round, data);
        if (result.contains("model")) policy[method] = (layout_.root / result["model"].get<std::string>()).string();
        else stop = stop || config_.stop_on_empty_round;
        record["methods"][name_of_method(method)] = result;
      };
      // On-policy methods whose policies are the same model share one set of samples.
      std::map<std::string, std::vector<Method>> by_policy;
      for (Method method : on_policy_methods_) by_policy[policy[method]].push_back(method);
      for (const auto& [model, methods] : by_policy) {
        std::string label = methods.size() == on_policy_methods_.size() ? RunLayout::shared_policy : name_of_method(methods[0]);
        fs::path group = layout_.group(round, label);
        Json data = on_policy_data(model, group, round);
        record["samples"][label] = data;
        for (Method method : methods) train_method(method, group, data);
      }
      if (policy.count(Method::dpo_off_policy)) {
        Json data = off_policy_data();
        record["samples"]["off-policy"] = data;
        train_method(Method::dpo_off_policy, layout_.off_policy(), data);
      }
      summary["rounds"].push_back(record);
      if (stop) say("round " + std::to_string(round) + " gave no training data; stopping (stop_on_empty_round)");
    }
    if (!comm_.is_main()) return summary;
    summary["comparisons"] = comparisons(summary);
    if (cache_)
      say("execution cache: " + std::to_string(cached_jobs_) + " of " + std::to_string(jobs_) +
          " jobs of this invocation answered without running (" + config_.execution_cache + ")");
    AtomicFile file(layout_.summary().string());
    file.write(summary.dump(2) + "\n");
    file.commit();
    log_event({{"event", "end"}, {"total_seconds", seconds_since(started_)}});
    return summary;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  // Paired differences of per-task pass rates on each evaluation set (sampled where the run
  // sampled, else greedy): each method's last evaluated model against the start, and against
  // RFT's where the run trained RFT. The demo's closing sentence and the report state them.
  Json comparisons(const Json& summary) const {
    bool sampled = config_.eval_samples > 0;
    auto stage_of = sampled ? RunLayout::eval_sampled : RunLayout::eval;
    std::map<std::string, fs::path> last{{"start", layout_.round(0)}};  // model -> its last evaluated group
    std::vector<std::string> order = {"start"};
    for (const Json& round : summary["rounds"]) {
      if (!round.contains("methods")) continue;
      for (const auto& [method, record] : round["methods"].items()) {
        if (!record.contains(sampled ? "eval_sampled" : "eval")) continue;
        if (!last.count(method)) order.push_back(method);
        last[method] = layout_.group(round["round"].get<int>(), method);
      }
    }
    Json found = Json::array();
    for (const tasks::TaskSet& set : eval_sets_) {
      std::map<std::string, std::map<std::string, double>> rates;
      for (const std::string& name : order)
        if (fs::path results = stage_of(last[name], set.name) / RunLayout::results_file; fs::exists(results))
          rates[name] = evaluation::per_task_pass_rates(results.string());
      auto compare = [&](const std::string& a, const std::string& b) {
        if (!rates.count(a) || !rates.count(b)) return;
        evaluation::PairedDifference d = evaluation::paired_difference(rates[a], rates[b]);
        found.push_back({{"set", set.name}, {"evaluation", sampled ? "sampled pass@1" : "greedy pass@1"}, {"a", a},
                         {"b", b}, {"difference", d.mean}, {"low", d.low}, {"high", d.high}, {"tasks", d.tasks}});
      };
      for (const std::string& name : order) {
        if (name == "start") continue;
        compare(name, "start");
        if (name != "rft") compare(name, "rft");
      }
    }
    return found;
  }

  // A line of timeline.jsonl (appended; the wall times of the run, which nothing else holds).
  void log_event(Json event) {
    if (!comm_.is_main()) return;
    event["time"] = utc_now();
    std::ofstream(layout_.timeline().string(), std::ios::app) << event.dump() << "\n";
  }

  // One stage, the protocol every stage follows: a complete stage (its stage.json there) is
  // skipped and its summary returned; otherwise what a killed run left half-written is removed,
  // `make` writes the stage's files and returns its summary, stage.json is written last, and the
  // stage's wall time goes to timeline.jsonl (the time since this invocation completed its
  // previous stage or started, so loading models and tasks counts with the stage).
  // With several processes rank 0 decides (its view of stage.json), writes, and the ranks meet
  // before and after `make`, which `makers` run (rank 0's summary is the stage's).
  Json run_stage(const fs::path& stage, const std::string& announce, const std::function<Json()>& make,
                 Makers makers = Makers::rank_0) {
    if (agreed_complete(stage)) return *completed(stage);
    if (comm_.is_main()) {
      fs::create_directories(stage);
      remove_partial_files(stage);
    }
    say(announce);
    comm_.wait_all();  // the stage's directory exists, with no other invocation's partial files
    Json done;
    if (makers == Makers::all_ranks || comm_.is_main()) done = make();
    else pause_point("wait-for-rank-0");
    if (comm_.is_main()) {
      complete(stage, done);
      log_event({{"event", "stage"}, {"stage", stage.lexically_relative(layout_.root).string()}, {"seconds", seconds_since(mark_)}});
    }
    mark_ = std::chrono::steady_clock::now();
    comm_.wait_all();
    return comm_.is_main() ? done : *completed(stage);
  }

  // Whether `stage` is complete, as rank 0 sees it (a rank must not skip what rank 0 makes).
  bool agreed_complete(const fs::path& stage) {
    torch::Tensor complete = torch::tensor({comm_.is_main() && completed(stage) ? 1.0 : 0.0}, torch::kFloat64);
    comm_.broadcast(complete);
    return complete.item<double>() > 0;
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
    fs::path relative = fs::path(model_path).lexically_relative(layout_.root);
    return !relative.empty() && *relative.begin() != ".." ? relative.string() : model_path;
  }

  // The sandbox's workers, by default one per core shared among the ranks on this machine.
  sandbox::Executor& executor() {
    if (executor_) return *executor_;
    sandbox::Config sandbox = config_.sandbox;
    if (sandbox.workers <= 0 && comm_.world().local_size > 1)
      sandbox.workers = std::max(1, int(std::thread::hardware_concurrency()) / comm_.world().local_size);
    executor_ = std::make_unique<sandbox::Executor>(sandbox);
    return *executor_;
  }

  // The policy loaded for sampling, held across the stages that sample from it (a round's
  // training samples, every evaluation set) and loaded again only when another model is asked
  // for. Training releases it first: one model is resident at a time, as before.
  const model::CausalLM& sampling_model(const std::string& model_path) {
    if (!held_ || held_path_ != model_path) {
      release_sampling_model();
      say("load " + name_of(model_path) + " for sampling");
      torch::Device device = model::resolve_device(config_.device);
      if (device.is_cuda() && comm_.size() > 1) device = torch::Device(torch::kCUDA, int8_t(comm_.world().local_rank));
      held_.emplace(model::CausalLM::load(model_path, model::resolve_dtype(config_.dtype, device), device));
      held_path_ = model_path;
    }
    return *held_;
  }

  void release_sampling_model() {
    held_.reset();
    held_path_.clear();
  }

  // Samples `tasks` with `model_path` into `samples_path` (an atomic file: present means whole).
  // Every rank calls it: each samples an equal slice of the tasks into a part file, which rank 0
  // joins in task order (a sample does not depend on which rank or batch drew it).
  void sample(const std::string& model_path, const tasks::TaskSet& tasks, const SampleConfig& sampling,
              const fs::path& samples_path) {
    if (fs::exists(samples_path)) return;
    if (comm_.size() == 1) return sample_tasks(sampling_model(model_path), *tokenizer_, tasks, sampling, samples_path.string());
    distributed::World::Slice mine = comm_.world().slice_of(tasks.tasks.size());
    sample_tasks(sampling_model(model_path), *tokenizer_, tasks, sampling, part_of(samples_path, comm_.rank()),
                 mine.first, mine.last - mine.first);
    comm_.wait_all();
    if (comm_.is_main()) join_parts(samples_path);
    comm_.wait_all();  // the joined file is there for every rank (they run their slice of it next)
  }

  // Runs `samples_path` into stage/results.jsonl. Every rank calls it: each runs an equal slice
  // of the samples into a part file, which rank 0 joins in sample order and reads back into the
  // whole report (the file and the report are those of one process; the other ranks return
  // their slice's).
  evaluation::Report execute(const tasks::TaskSet& tasks, const evaluation::Options& options, const fs::path& samples_path,
                             const fs::path& stage) {
    auto start = std::chrono::steady_clock::now();
    evaluation::Options cached = options;
    cached.execution_cache = cache_.get();
    std::vector<evaluation::Sample> samples = evaluation::read_samples(samples_path.string(), tasks);
    distributed::World::Slice mine = comm_.world().slice_of(samples.size());
    samples = {samples.begin() + long(mine.first), samples.begin() + long(mine.last)};
    evaluation::Report report;
    if (!samples.empty()) report = evaluation::evaluate(tasks, samples, executor(), cached);
    pause_point("execute:" + tasks.name);
    fs::path results = stage / RunLayout::results_file;
    size_t jobs = report.jobs, cached_jobs = report.cached_jobs;
    if (comm_.size() == 1) {
      evaluation::write_results(report, results.string());
    } else {
      evaluation::write_results(report, part_of(results, comm_.rank()));
      comm_.wait_all();  // slices take what they take: no collective's time limit here
      torch::Tensor mine_counts = torch::tensor({double(samples.size()), double(jobs), double(cached_jobs)}, torch::kFloat64);
      torch::Tensor counts = comm_.all_gather(mine_counts);  // [ranks, 3]
      jobs = size_t(counts.select(1, 1).sum().item<double>());
      cached_jobs = size_t(counts.select(1, 2).sum().item<double>());
      log_event({{"event", "execute"}, {"stage", stage.lexically_relative(layout_.root).string()},
                 {"samples_by_rank", counts_of(counts.select(1, 0))}, {"jobs_by_rank", counts_of(counts.select(1, 1))}});
      if (comm_.is_main()) report = join_results(tasks, options, results);
      report.jobs = jobs;
      report.cached_jobs = cached_jobs;
    }
    jobs_ += jobs;
    cached_jobs_ += cached_jobs;
    report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }

  // Rank 0: the ranks' part files of `results` joined in rank order (the samples' order), and
  // the whole report read back from them.
  evaluation::Report join_results(const tasks::TaskSet& tasks, const evaluation::Options& options,
                                  const fs::path& results) {
    join_parts(results);
    evaluation::Report report = evaluation::read_report(results.string(), tasks, options.ks);
    report.isolation = executor().isolation();
    report.hardened = options.hardened;
    return report;
  }

  static Json counts_of(const torch::Tensor& values) {
    Json list = Json::array();
    for (int64_t i = 0; i < values.numel(); ++i) list.push_back(int64_t(values[i].item<double>()));
    return list;
  }

  // Rank `rank`'s part of a file that every rank writes a slice of.
  static std::string part_of(const fs::path& file, int rank) { return file.string() + ".rank-" + std::to_string(rank); }

  // Rank 0: every rank's part of `file` joined in rank order into it (atomically), the parts removed.
  void join_parts(const fs::path& file) const {
    AtomicFile joined(file.string());
    for (int rank = 0; rank < comm_.size(); ++rank) joined.write(read_file(part_of(file, rank)));
    joined.commit();
    for (int rank = 0; rank < comm_.size(); ++rank) fs::remove(part_of(file, rank));
  }

  // Greedy pass@1 of `model_path` on every evaluation set into record["eval"], and with
  // eval_samples > 0 sampled pass@k into record["eval_sampled"]; stages under `group`.
  void evaluate_policy(const std::string& model_path, const fs::path& group, Json& record) {
    SampleConfig greedy = config_.sampling;
    greedy.sampling.temperature = 0;
    greedy.sampling.samples_per_prompt = 1;
    greedy.sampling.max_new_tokens = config_.eval_max_new_tokens;
    record["eval"] = evaluate_sets(model_path, group, greedy, RunLayout::eval);
    if (config_.eval_samples <= 0) return;
    SampleConfig sampled = greedy;  // the same seed for every model, so that they meet the same draws
    sampled.sampling.temperature = config_.eval_temperature;
    sampled.sampling.top_p = config_.eval_top_p;
    sampled.sampling.samples_per_prompt = config_.eval_samples;
    record["eval_sampled"] = evaluate_sets(model_path, group, sampled, RunLayout::eval_sampled);
  }

  // One stage per evaluation set: its samples and their results in one directory.
  Json evaluate_sets(const std::string& model_path, const fs::path& group, const SampleConfig& sampling,
                     fs::path (*stage_of)(const fs::path&, const std::string&)) {
    Json results = Json::object();
    for (const tasks::TaskSet& set : eval_sets_) {
      fs::path stage = stage_of(group, set.name);
      std::string per_task = sampling.sampling.temperature == 0 ? std::string("greedy")
                                                                : std::to_string(sampling.sampling.samples_per_prompt) + " samples";
      results[set.name] = run_stage(stage, "evaluate " + name_of(model_path) + " on " + set.name + " (" + per_task +
                                               " per task, " + std::to_string(set.tasks.size()) + " tasks)",
                                    [&] {
                                      fs::path samples = stage / RunLayout::samples_file;
                                      sample(model_path, set, sampling, samples);
                                      return report_json(execute(set, config_.evaluation, samples, stage));
                                    },
                                    Makers::all_ranks);
    }
    return results;
  }

  // Samples, outcomes and pairs of one round for the policy `model_path`, under `group`.
  Json on_policy_data(const std::string& model_path, const fs::path& group, int round) {
    fs::path sampled = RunLayout::sample(group);
    run_stage(sampled, "round " + std::to_string(round) + ": sample " + std::to_string(config_.samples_per_task) +
                           " per task of " + std::to_string(train_tasks_.tasks.size()) + " tasks from " + name_of(model_path),
              [&] {
                SampleConfig sampling = config_.sampling;
                sampling.sampling.samples_per_prompt = config_.samples_per_task;
                sampling.sampling.seed += uint64_t(round) * 1000003;  // other rounds, other samples
                sample(model_path, train_tasks_, sampling, sampled / RunLayout::samples_file);
                return Json{{"samples", train_tasks_.tasks.size() * size_t(config_.samples_per_task)}};
              },
              Makers::all_ranks);
    execute_training_samples(group, "round " + std::to_string(round) + ": execute the samples (hardened tests)");
    return preference_data(group, {round, name_of(model_path)});
  }

  // Another model's samples (off_policy_samples), their outcomes and pairs: made once, under
  // off-policy/, and trained on in every round.
  Json off_policy_data() {
    fs::path group = layout_.off_policy(), sampled = RunLayout::sample(group);
    run_stage(sampled, "off-policy: take the samples of " + config_.off_policy_samples + " (their token ids left out)", [&] {
      copy_without_ids(config_.off_policy_samples, (sampled / RunLayout::samples_file).string());
      return Json{{"from", config_.off_policy_samples}};
    });
    execute_training_samples(group, "off-policy: execute the samples of " + config_.off_policy_samples);
    return preference_data(group, {0, config_.off_policy_samples});
  }

  // group/sample/samples.jsonl into group/execute/results.jsonl.
  void execute_training_samples(const fs::path& group, const std::string& announce) {
    fs::path executed = RunLayout::execute(group);
    run_stage(executed, announce, [&] {
      return report_json(execute(train_tasks_, config_.execution, RunLayout::sample(group) / RunLayout::samples_file, executed));
    }, Makers::all_ranks);
  }

  // Pairs and RFT data under group/preferences from the samples and outcomes of the group.
  Json preference_data(const fs::path& group, const preferences::Provenance& provenance) {
    fs::path pairs = RunLayout::preferences(group), executed = RunLayout::execute(group);
    std::string who = provenance.round ? "round " + std::to_string(provenance.round) : std::string("off-policy");
    return run_stage(pairs, who + ": pairs and RFT data", [&] {
      auto judged = preferences::read_judged((RunLayout::sample(group) / RunLayout::samples_file).string(),
                                             (executed / RunLayout::results_file).string(), train_tasks_);
      preferences::Pairs made = preferences::make_pairs(judged, config_.pairs);
      preferences::write_pairs((pairs / RunLayout::pairs_file).string(), made, train_tasks_, provenance);
      auto rft = preferences::rft_examples(judged, config_.rft_max_per_task, config_.pairs.seed);
      preferences::write_rft((pairs / RunLayout::rft_file).string(), rft, train_tasks_);
      std::vector<const preferences::JudgedSample*> chosen;
      for (const preferences::Pair& pair : made.pairs) chosen.push_back(pair.chosen);
      preferences::write_rft((pairs / RunLayout::chosen_file).string(), chosen, train_tasks_);
      Json stats = made.stats.to_json();
      stats["rft_examples"] = rft.size();
      stats["chosen_examples"] = chosen.size();
      stats["groups"] = preferences::write_groups((pairs / RunLayout::groups_file).string(), judged, train_tasks_,
                                                  config_.reward, config_.pairs.score);
      stats["execution"] = *completed(executed);
      say(who + ": " + std::to_string(made.stats.pairs) + " pairs, " + std::to_string(rft.size()) +
          " RFT examples from " + std::to_string(judged.size()) + " samples");
      return stats;
    });
  }

  // Trains `method` from `model_path` on the data of `data_group`/preferences and evaluates the
  // result, under round-R/<method>/.
  Json train_and_evaluate(Method method, const std::string& model_path, const fs::path& data_group, int round,
                          const Json& data) {
    Method as = trains_as(method, round);
    const char* key = as == Method::rft          ? "rft_examples"
                      : as == Method::sft_chosen ? "chosen_examples"
                      : as == Method::grpo       ? "groups"
                                                 : "pairs";
    const char* words = as == Method::rft ? "RFT examples" : as == Method::sft_chosen ? "chosen samples" : key;
    size_t examples = data.at(key).get<size_t>();
    if (examples == 0) {
      say("round " + std::to_string(round) + ": no " + words + " for " + name_of_method(method) +
          "; its policy stays as it was");
      return {{"examples", 0}, {"skipped", "no training data"}};
    }
    fs::path group = layout_.group(round, name_of_method(method)), stage = RunLayout::train(group);
    Json result = run_stage(stage, "round " + std::to_string(round) + ": train " + name_of_method(method) + " on " +
                                       std::to_string(examples) + " examples", [&] {
      release_sampling_model();  // training holds its own copy, in float32, and the optimizer state
      training::TrainConfig train = training_config(as);
      fs::path data_file = RunLayout::preferences(data_group) / (as == Method::rft          ? RunLayout::rft_file
                                                                 : as == Method::sft_chosen ? RunLayout::chosen_file
                                                                 : as == Method::grpo       ? RunLayout::groups_file
                                                                                            : RunLayout::pairs_file);
      training::TrainPaths paths{model_path, tokenizer_path_, data_file.string(), stage.string(),
                                 config_.reference == Reference::initial ? config_.model : "", /*eval_data=*/""};
      if (train.mode == training::TrainMode::dpo) paths.eval_data = heldout_pairs(model_path, stage);
      if (!training::train(train, paths, /*resume=*/true))
        throw Error("align: training was interrupted; run again with --resume to continue");
      return Json{{"examples", examples}, {"metrics", last_metrics(stage)}};
    }, Makers::all_ranks);
    if (comm_.is_main()) prune_checkpoints(stage);  // also after a resume that found the stage complete
    result["model"] = name_of(stage.string());
    evaluate_policy(stage.string(), group, result);
    return result;
  }

  // DPO's held-out pairs: made from the starting policy's sampled evaluation on the first
  // evaluation set (tasks no stage trains on) into the train stage; "" when the run samples no
  // evaluation or those samples give no pair. Rank 0 writes; every rank returns the path.
  std::string heldout_pairs(const std::string& model_path, const fs::path& stage) {
    if (config_.eval_samples <= 0 || eval_sets_.empty()) return "";
    fs::path group = model_path == config_.model ? layout_.round(0) : fs::path(model_path).parent_path();
    fs::path evaluated = RunLayout::eval_sampled(group, eval_sets_[0].name), file = stage / RunLayout::heldout_pairs_file;
    if (comm_.is_main()) {
      auto judged = preferences::read_judged((evaluated / RunLayout::samples_file).string(),
                                             (evaluated / RunLayout::results_file).string(), eval_sets_[0]);
      preferences::Pairs made = preferences::make_pairs(judged, config_.pairs);
      if (made.pairs.empty()) fs::remove(file);
      else preferences::write_pairs(file.string(), made, eval_sets_[0], {0, name_of(model_path)});
    }
    comm_.wait_all();
    return fs::exists(file) ? file.string() : "";
  }

  // What a method that trains as `method` (dpo, rft, sft-chosen or grpo) trains with: its options, its mode,
  // the chat format it sampled with; GRPO also the sampling's temperature and token limit, and
  // one group per micro-batch.
  training::TrainConfig training_config(Method method) const {
    bool sft = method == Method::rft || method == Method::sft_chosen;  // both with RFT's settings
    training::TrainConfig train = sft ? config_.rft : method == Method::grpo ? config_.grpo : config_.dpo;
    train.mode = sft                      ? training::TrainMode::sft
                 : method == Method::grpo ? training::TrainMode::grpo
                                          : training::TrainMode::dpo;
    train.prompts.chat = config_.sampling.chat;
    train.distributed = config_.distributed;
    if (method == Method::grpo) {
      train.per_device_train_batch_size = config_.samples_per_task;
      train.grpo.temperature = config_.sampling.sampling.temperature;
      train.grpo.max_completion_length = config_.sampling.sampling.max_new_tokens;
      train.grpo.reward_name = preferences::reward_names.name(config_.reward);
    }
    return train;
  }

  // A complete training's checkpoints beyond the newest keep_checkpoints, and any half-written
  // one: the exported weights are the policy, and resuming is over.
  void prune_checkpoints(const fs::path& stage) const {
    std::vector<std::pair<int64_t, fs::path>> checkpoints;
    for (const auto& entry : fs::directory_iterator(stage)) {
      std::string name = entry.path().filename().string();
      if (!entry.is_directory() || !name.starts_with("checkpoint-")) continue;
      std::string digits = name.substr(11);
      bool whole = !digits.empty() && digits.size() < 19 && digits.find_first_not_of("0123456789") == std::string::npos;
      checkpoints.emplace_back(whole ? std::stoll(digits) : -1, entry.path());
    }
    std::sort(checkpoints.rbegin(), checkpoints.rend());
    for (size_t i = 0; i < checkpoints.size(); ++i)
      if (checkpoints[i].first < 0 || int64_t(i) >= config_.keep_checkpoints) fs::remove_all(checkpoints[i].second);
  }

  const AlignConfig& config_;
  RunLayout layout_;
  distributed::Communicator& comm_;
  tasks::TaskSet train_tasks_;
  std::vector<tasks::TaskSet> eval_sets_;
  std::vector<Method> on_policy_methods_;
  std::string tokenizer_path_;
  std::optional<tokenizer::Tokenizer> tokenizer_;
  std::optional<model::CausalLM> held_;
  std::string held_path_;
  std::unique_ptr<sandbox::Executor> executor_;
  std::unique_ptr<evaluation::ExecutionCache> cache_;
  size_t jobs_ = 0, cached_jobs_ = 0;
  bool resume_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), mark_ = started_;
};

// The run's settings by meaning (settings.json), what the report shows of them: independent of
// how the command line spells its flags.
Json settings_json(const AlignConfig& c) {
  return {{"model", c.model},
          {"tokenizer", c.tokenizer.empty() ? c.model : c.tokenizer},
          {"chat_format", c.sampling.chat ? c.sampling.chat->name : "none"},
          {"train_tasks", c.train_tasks},
          {"eval_sets", c.eval_sets},
          {"methods", method_list(c.methods)},
          {"rounds", c.rounds},
          {"samples_per_task", c.samples_per_task},
          {"reference", reference_names.name(c.reference)},
          {"off_policy_samples", c.off_policy_samples},
          {"reward", preferences::reward_names.name(c.reward)},
          {"seeds", {{"sampling", c.sampling.sampling.seed}, {"pairs", c.pairs.seed}, {"dpo_data_order", c.dpo.seed},
                     {"rft_data_order", c.rft.seed}, {"grpo_data_order", c.grpo.seed}}}};
}

}  // namespace

Json align(const AlignConfig& config, const std::string& run_dir, bool resume) {
  if (config.rounds < 1) throw Error("align: rounds must be at least 1");
  if (std::count(config.methods.begin(), config.methods.end(), Method::rft_dpo) > 0 && config.rounds < 2)
    throw Error("align: method rft-dpo trains RFT in round 1 and DPO from round 2: it needs --rounds 2 or more");
  bool off_policy = std::count(config.methods.begin(), config.methods.end(), Method::dpo_off_policy) > 0;
  if (off_policy != !config.off_policy_samples.empty())
    throw Error(off_policy ? "align: method dpo-off-policy needs --off-policy-samples (another model's samples of the training tasks)"
                           : "align: --off-policy-samples is used by method dpo-off-policy only; add it to --method");
  auto& comm = distributed::Communicator::get(config.distributed, model::resolve_device(config.device).is_cuda());
  if (!resume && fs::exists(run_dir) && !fs::is_empty(run_dir))
    throw Error("align: run directory '" + run_dir + "' is not empty (hint: --resume to continue it, or a new --out)");
  RunLayout layout{run_dir};
  std::string options_path = layout.config().string();
  if (resume && fs::exists(options_path) && read_file(options_path) != config.options_text)
    throw Error("align: the options differ from those the run in '" + run_dir + "' started with (" + options_path +
                "); resume with the same options");
  comm.wait_all();  // every rank checked the directory before rank 0 writes into it
  if (comm.is_main()) {
    fs::create_directories(run_dir);
    AtomicFile options(options_path);
    options.write(config.options_text);
    options.commit();
    AtomicFile settings(layout.settings().string());
    settings.write(settings_json(config).dump(2) + "\n");
    settings.commit();
  }
  try {
    return Run(config, run_dir, resume, comm).run();
  } catch (const distributed::CollectiveFailure&) {
    throw;
  } catch (const std::exception& e) {
    comm.report_failure(e.what());  // the other ranks, waiting, stop naming this one
    throw;
  }
}

}  // namespace codealign::pipeline
