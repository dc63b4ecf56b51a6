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

// "round-12" -> 12; anything else -> -1.
int round_number(const std::string& name) {
  if (!name.starts_with("round-") || name.size() == 6) return -1;
  int n = 0;
  for (char c : name.substr(6)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// samples.jsonl and results.jsonl of one execute stage, line by line.
std::vector<SampleOutcome> read_outcomes(const fs::path& stage) {
  std::string samples_path = (stage / "samples.jsonl").string(), results_path = (stage / "results.jsonl").string();
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

// key=value lines as CLI11 writes them (config.toml); "quoted" values lose their quotes.
std::vector<std::pair<std::string, std::string>> parse_options(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> options;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || line[0] == '[' || eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t\r");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      Json parsed = Json::parse(value, nullptr, false);  // TOML's basic strings escape as JSON's do
      value = parsed.is_string() ? parsed.get<std::string>() : value.substr(1, value.size() - 2);
    }
    options.emplace_back(key, value);
  }
  return options;
}

}  // namespace

std::string RunFiles::option(const std::string& key) const {
  for (const auto& [k, v] : config)
    if (k == key) return v;
  return "";
}

RunFiles read_run(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error("report: run directory '" + dir + "' does not exist");
  fs::path root(dir);
  RunFiles run;
  run.dir = dir;
  bool has_rounds = fs::exists(root / "round-0");
  if (fs::exists(root / "summary.json")) run.summary = read_json((root / "summary.json").string());
  if (fs::exists(root / "config.toml")) {
    run.config_toml = read_file((root / "config.toml").string());
    run.config = parse_options(run.config_toml);
  }
  if (run.summary.is_null() && run.config_toml.empty() && !has_rounds)
    throw Error("report: '" + dir + "' is not a run directory of codealign align (no summary.json, config.toml or "
                "round-0/)");

  // The methods in the order the run names them; policy "shared" first.
  std::vector<std::string> order = {"shared"};
  if (run.summary.contains("methods"))
    for (const Json& m : run.summary["methods"]) order.push_back(m.get<std::string>());
  auto rank = [&](const std::string& name) {
    return size_t(std::find(order.begin(), order.end(), name) - order.begin());
  };

  std::vector<std::pair<int, fs::path>> rounds;
  for (const auto& entry : fs::directory_iterator(root))
    if (int n = round_number(entry.path().filename().string()); n >= 1 && entry.is_directory())
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
      groups.push_back({"round-" + std::to_string(n) + "/" + name, "round " + std::to_string(n) + " · " + name, n});
  }
  if (fs::is_directory(root / "off-policy")) groups.push_back({"off-policy", "off-policy", 0});

  for (const StageGroup& group : groups) {
    fs::path base = root / group.dir;
    if (fs::exists(base / "execute" / "results.jsonl") && fs::exists(base / "execute" / "samples.jsonl"))
      run.executed.push_back({group, read_outcomes(base / "execute")});
    if (fs::exists(base / "preferences" / "pairs.jsonl")) {
      PairSet set{group, read_objects((base / "preferences" / "pairs.jsonl").string()), nullptr};
      if (fs::exists(base / "preferences" / "stage.json"))
        set.stats = read_json((base / "preferences" / "stage.json").string());
      run.pairs.push_back(std::move(set));
    }
    if (fs::exists(base / "train" / "metrics.jsonl")) {
      TrainingLog log{group, fs::path(group.dir).filename().string(),
                      read_objects((base / "train" / "metrics.jsonl").string()),
                      fs::exists(base / "train" / "stage.json")};
      run.training.push_back(std::move(log));
    }
  }

  // The timeline is appended to while the run goes on: a line cut by a kill is skipped, counted.
  fs::path timeline = root / "timeline.jsonl";
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
