#include "sandbox/harness_result.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace codealign::sandbox {
namespace {

using Json = nlohmann::json;

// Typed reads of the result's fields: a missing or mistyped field is named, never a JSON
// library exception from deep inside.
class Fields {
 public:
  explicit Fields(const Json& object) : object_(object) {}

  const Json* find(const char* name) const {
    auto found = object_.find(name);
    return found == object_.end() || found->is_null() ? nullptr : &*found;
  }
  const Json& at(const char* name) const {
    const Json* value = find(name);
    if (!value) throw bad(name, "is missing");
    return *value;
  }
  std::string text(const char* name) const {
    const Json& value = at(name);
    if (!value.is_string()) throw bad(name, "must be a string");
    return value.get<std::string>();
  }
  bool flag(const char* name) const {
    const Json& value = at(name);
    if (!value.is_boolean()) throw bad(name, "must be true or false");
    return value.get<bool>();
  }
  int count(const char* name, int fallback = -1) const {
    const Json* value = find(name);
    if (!value && fallback >= 0) return fallback;
    if (!value || !value->is_number_integer() || value->get<int64_t>() < 0 || value->get<int64_t>() > INT32_MAX)
      throw bad(name, "must be a non-negative integer");
    return int(value->get<int64_t>());
  }
  double seconds(const Json& value, const char* name) const {
    if (!value.is_number() || !(value.get<double>() >= 0)) throw bad(name, "must be a non-negative number");
    return value.get<double>();
  }
  template <class Item, class Read>
  std::vector<Item> list(const char* name, Read read) const {
    const Json& value = at(name);
    if (!value.is_array()) throw bad(name, "must be a list");
    std::vector<Item> items;
    for (const Json& item : value) items.push_back(read(item));
    return items;
  }
  Error bad(const char* name, const std::string& why) const {
    return Error(std::string("sandbox: the harness's result field '") + name + "' " + why);
  }

 private:
  const Json& object_;
};

void read_optional_fields(const Fields& fields, Outcome& o) {
  if (fields.find("outputs")) {
    o.outputs_json = fields.text("outputs");
    o.input_times_s = fields.list<double>("times", [&](const Json& t) { return fields.seconds(t, "times"); });
  }
  if (const Json* code = fields.find("exit_code")) {
    if (!code->is_number_integer() || code->get<int64_t>() < INT32_MIN || code->get<int64_t>() > INT32_MAX)
      throw fields.bad("exit_code", "must be an integer");
    o.exit_code = int(code->get<int64_t>());
  }
  if (const Json* files = fields.find("files")) {
    if (!files->is_object()) throw fields.bad("files", "must be an object of base64 strings");
    for (const auto& [path, content] : files->items()) {
      if (!content.is_string()) throw fields.bad("files", "must be an object of base64 strings");
      o.files_base64[path] = content.get<std::string>();
    }
  }
}

}  // namespace

Outcome parse_harness_result(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) throw Error("sandbox: the harness sent a result that is not a JSON object");
  Fields fields(j);
  if (const Json* failure = fields.find("harness_error"))
    throw Error("sandbox: harness failed: " + (failure->is_string() ? failure->get<std::string>() : failure->dump()));
  Outcome o;
  std::string verdict = fields.text("verdict");
  auto known = verdict_from_name(verdict);
  if (!known) throw Error("sandbox: unknown verdict '" + verdict + "' from the harness");
  o.verdict = *known;
  o.error_type = fields.text("error_type");
  o.message = fields.text("message");
  o.tests_passed = fields.count("tests_passed");
  o.tests_total = fields.count("tests_total");
  o.tests_unprotected = fields.count("tests_unprotected", 0);
  o.test_passed = fields.list<bool>("test_passed", [&](const Json& passed) {
    if (!passed.is_boolean()) throw fields.bad("test_passed", "must be a list of true or false");
    return passed.get<bool>();
  });
  o.wall_s = fields.seconds(fields.at("wall"), "wall");
  o.stdout_text = fields.text("stdout");
  o.stderr_text = fields.text("stderr");
  o.stdout_truncated = fields.flag("stdout_truncated");
  o.stderr_truncated = fields.flag("stderr_truncated");
  read_optional_fields(fields, o);
  return o;
}

}  // namespace codealign::sandbox
