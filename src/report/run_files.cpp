// Reading a run directory of `codealign align` for the report.
#include "report/run_files.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/files.h"

namespace codealign::report {
namespace {

namespace fs = std::filesystem;

std::vector<Json> read_objects(const std::string& path) {
  std::vector<Json> objects;
  for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) { objects.push_back(parse_json_object(line)); });
  return objects;
}

Json read_json(const std::string& path) {
  Json value = Json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) throw Error("report: '" + path + "' is not valid JSON");
  return value;
}

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

int int_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int>() : 0;
}

// A group's samples joined with its execute stage's results, line by line. Runs made before
// sampling was a stage of its own kept the samples in execute/.
std::vector<SampleOutcome> read_outcomes(const fs::path& samples_file, const fs::path& results_file) {
  std::string samples_path = samples_file.string(), results_path = results_file.string();
  std::vector<Json> samples = read_objects(samples_path), results = read_objects(results_path);
  if (samples.size() != results.size())
    throw Error("report: '" + results_path + "' has " + std::to_string(results.size()) + " results for the " +
                std::to_string(samples.size()) + " samples of '" + samples_path + "'");
  std::vector<SampleOutcome> outcomes;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Json &s = samples[i], &r = results[i];
    SampleOutcome o;
    o.task_id = text_of(s, "task_id");
    o.text = s.contains("response") ? text_of(s, "response") : s.contains("completion") ? text_of(s, "completion")
                                                                                        : text_of(s, "solution");
    bool plus = r.contains("plus_verdict") && text_of(r, "verdict") == "passed";
    std::string prefix = plus ? "plus_" : "";
    o.verdict = text_of(r, (prefix + "verdict").c_str());
    o.error_type = text_of(r, (prefix + "error_type").c_str());
    o.message = text_of(r, (prefix + "message").c_str());
    o.tests_passed = int_of(r, "tests_passed") + int_of(r, "plus_tests_passed");
    o.tests_total = int_of(r, "tests_total") + int_of(r, "plus_tests_total");
    o.tests_unprotected = int_of(r, "tests_unprotected");
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace

std::string RunFiles::setting(const std::string& key) const {
  if (!settings.is_object() || !settings.contains(key)) return "";
  const Json& value = settings[key];
  if (!value.is_array()) return text_of(settings, key.c_str());
  std::string joined;
  for (const Json& item : value) joined += (joined.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
  return joined;
}

RunFiles read_run(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error("report: run directory '" + dir + "' does not exist");
  using pipeline::RunLayout;
  RunLayout layout{dir};
  const fs::path& root = layout.root;
  RunFiles run;
  run.dir = dir;
  bool has_rounds = fs::exists(layout.round(0));
  if (fs::exists(layout.summary())) run.summary = read_json(layout.summary().string());
  if (fs::exists(layout.config())) run.config_toml = read_file(layout.config().string());
  if (fs::exists(layout.settings())) run.settings = read_json(layout.settings().string());
  if (run.summary.is_null() && run.config_toml.empty() && !has_rounds)
    throw Error("report: '" + dir + "' is not a run directory of codealign align (no summary.json, config.toml or "
                "round-0/)");

  // The methods in the order the run names them; policy "shared" first.
  std::vector<std::string> order = {RunLayout::shared_policy};
  if (run.summary.contains("methods"))
    for (const Json& m : run.summary["methods"]) order.push_back(m.get<std::string>());
  auto rank = [&](const std::string& name) {
    return size_t(std::find(order.begin(), order.end(), name) - order.begin());
  };

  std::vector<std::pair<int, fs::path>> rounds;
  for (const auto& entry : fs::directory_iterator(root))
    if (int n = RunLayout::round_number(entry.path().filename().string()); n >= 1 && entry.is_directory())
      rounds.emplace_back(n, entry.path());
  std::sort(rounds.begin(), rounds.end());
  std::vector<StageGroup> groups;
  for (const auto& [n, path] : rounds) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.is_directory()) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return std::make_pair(rank(a), a) < std::make_pair(rank(b), b);
    });
    for (const std::string& name : names)
      groups.push_back({(RunLayout::round_name(n) / fs::path(name)).string(), "round " + std::to_string(n) + " · " + name, n});
  }
  if (fs::is_directory(layout.off_policy())) groups.push_back({"off-policy", "off-policy", 0});

  for (const StageGroup& group : groups) {
    fs::path base = root / group.dir;
    fs::path results = RunLayout::execute(base) / RunLayout::results_file;
    fs::path samples = RunLayout::sample(base) / RunLayout::samples_file;
    if (!fs::exists(samples)) samples = RunLayout::execute(base) / RunLayout::samples_file;
    if (fs::exists(results) && fs::exists(samples)) run.executed.push_back({group, read_outcomes(samples, results)});
    fs::path preferences = RunLayout::preferences(base);
    if (fs::exists(preferences / RunLayout::pairs_file)) {
      PairSet set{group, read_objects((preferences / RunLayout::pairs_file).string()), nullptr};
      if (fs::exists(preferences / RunLayout::stage_marker))
        set.stats = read_json((preferences / RunLayout::stage_marker).string());
      run.pairs.push_back(std::move(set));
    }
    fs::path train = RunLayout::train(base);
    if (fs::exists(train / RunLayout::metrics_file)) {
      TrainingLog log{group, fs::path(group.dir).filename().string(), read_objects((train / RunLayout::metrics_file).string()),
                      fs::exists(train / RunLayout::stage_marker)};
      run.training.push_back(std::move(log));
    }
  }

  // The timeline is appended to while the run goes on: a line cut by a kill is skipped, counted.
  fs::path timeline = layout.timeline();
  if (fs::exists(timeline)) {
    std::string path = timeline.string();
    for_each_jsonl_line(path, read_file(path), [&](const JsonlLine& line) {
      Json event = Json::parse(line.text, nullptr, false);
      if (event.is_object()) run.timeline.push_back(std::move(event));
      else ++run.timeline_unreadable;
    });
  }
  return run;
}

}  // namespace codealign::report
