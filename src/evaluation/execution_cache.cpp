// The execution cache: outcomes as JSON in one SQLite table keyed by Executor::job_key.
#include <sqlite3.h>

#include <cstdlib>

#include "common/error.h"
#include "common/jsonl.h"
#include "evaluation/evaluation.h"

namespace codealign::evaluation {
namespace {

Json outcome_json(const sandbox::Outcome& o) {
  return {{"verdict", sandbox::verdict_name(o.verdict)},
          {"error_type", o.error_type},
          {"message", o.message},
          {"tests_passed", o.tests_passed},
          {"tests_total", o.tests_total},
          {"tests_unprotected", o.tests_unprotected},
          {"test_passed", o.test_passed},
          {"wall_time", o.wall_s},
          {"stdout", o.stdout_text},
          {"stderr", o.stderr_text},
          {"stdout_truncated", o.stdout_truncated},
          {"stderr_truncated", o.stderr_truncated},
          {"attempts", o.attempts}};
}

// nullopt for a row this version cannot read (then the job runs again).
std::optional<sandbox::Outcome> outcome_from_json(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    sandbox::Outcome o;
    auto verdict = sandbox::verdict_from_name(j.at("verdict").get<std::string>());
    if (!verdict) return std::nullopt;
    o.verdict = *verdict;
    o.error_type = j.at("error_type").get<std::string>();
    o.message = j.at("message").get<std::string>();
    o.tests_passed = j.at("tests_passed").get<int>();
    o.tests_total = j.at("tests_total").get<int>();
    o.tests_unprotected = j.at("tests_unprotected").get<int>();
    o.test_passed = j.at("test_passed").get<std::vector<bool>>();
    o.wall_s = j.at("wall_time").get<double>();
    o.stdout_text = j.at("stdout").get<std::string>();
    o.stderr_text = j.at("stderr").get<std::string>();
    o.stdout_truncated = j.at("stdout_truncated").get<bool>();
    o.stderr_truncated = j.at("stderr_truncated").get<bool>();
    o.attempts = j.at("attempts").get<int>();
    return o;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/codealign";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/codealign";
  return "";
}

struct ExecutionCache::Database {
  sqlite3* db = nullptr;
  sqlite3_stmt* find = nullptr;
  sqlite3_stmt* store = nullptr;
  ~Database() {
    sqlite3_finalize(find);
    sqlite3_finalize(store);
    sqlite3_close(db);
  }
};

ExecutionCache::ExecutionCache(const std::string& path) : db_(std::make_unique<Database>()), path_(path) {
  auto check = [&](int status, const char* what) {
    if (status != SQLITE_OK)
      throw Error("evaluation: execution cache '" + path + "': " + what + ": " +
                  (db_->db ? sqlite3_errmsg(db_->db) : sqlite3_errstr(status)));
  };
  check(sqlite3_open_v2(path.c_str(), &db_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr), "cannot open");
  sqlite3_busy_timeout(db_->db, 60000);  // another run writing: wait for it
  check(sqlite3_exec(db_->db, "CREATE TABLE IF NOT EXISTS outcomes (key TEXT PRIMARY KEY, outcome TEXT NOT NULL)",
                     nullptr, nullptr, nullptr),
        "cannot create its table (is it an SQLite file?)");
  check(sqlite3_prepare_v2(db_->db, "SELECT outcome FROM outcomes WHERE key = ?", -1, &db_->find, nullptr), "prepare");
  check(sqlite3_prepare_v2(db_->db, "INSERT OR REPLACE INTO outcomes (key, outcome) VALUES (?, ?)", -1, &db_->store,
                           nullptr),
        "prepare");
}

ExecutionCache::~ExecutionCache() = default;

std::optional<sandbox::Outcome> ExecutionCache::find(const std::string& key) {
  sqlite3_reset(db_->find);
  sqlite3_bind_text(db_->find, 1, key.data(), int(key.size()), SQLITE_TRANSIENT);
  int status = sqlite3_step(db_->find);
  if (status == SQLITE_DONE) return std::nullopt;
  if (status != SQLITE_ROW)
    throw Error("evaluation: execution cache '" + path_ + "': cannot read: " + sqlite3_errmsg(db_->db));
  auto text = reinterpret_cast<const char*>(sqlite3_column_text(db_->find, 0));
  return outcome_from_json(text ? text : "");
}

void ExecutionCache::store(const std::vector<std::pair<std::string, sandbox::Outcome>>& outcomes) {
  if (outcomes.empty()) return;
  auto exec = [&](const char* sql) {
    if (sqlite3_exec(db_->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      throw Error("evaluation: execution cache '" + path_ + "': " + sql + ": " + sqlite3_errmsg(db_->db));
  };
  exec("BEGIN IMMEDIATE");
  for (const auto& [key, outcome] : outcomes) {
    std::string text = outcome_json(outcome).dump(-1, ' ', false, Json::error_handler_t::replace);
    sqlite3_reset(db_->store);
    sqlite3_bind_text(db_->store, 1, key.data(), int(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(db_->store, 2, text.data(), int(text.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(db_->store) != SQLITE_DONE) {
      std::string why = sqlite3_errmsg(db_->db);
      sqlite3_exec(db_->db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw Error("evaluation: execution cache '" + path_ + "': cannot write: " + why);
    }
  }
  exec("COMMIT");
}

}  // namespace codealign::evaluation
