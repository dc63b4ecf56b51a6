// HumanEval+ and MBPP+ in the evalplus release format. Inputs stay raw JSON text (they hold
// integers beyond 64 bits and Infinity); Python parses them inside the sandbox.
#include <map>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "common/raw_json.h"
#include "tasks/loaders.h"

namespace codealign::tasks {
namespace {

// evalplus's mbpp_deserialize_inputs: task numbers whose inputs need Python types JSON lacks.
std::string mbpp_input_adapter(int number) {
  static const std::map<std::string, std::set<int>> adapters = {
      {"tuple_args", {2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726,
                      740, 744, 809}},
      {"nested_tuple_args", {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}},
      {"first_arg_tuple_list", {75, 413, 444, 753}},
      {"second_arg_tuple", {106, 750}},
      {"sets_of_lists", {115}},
      {"float_complex", {124}},
      {"first_arg_tuple", {250, 405, 446, 617, 720, 763, 808}},
      {"nested_then_tuple", {259, 401, 445}},
      {"tuple_items_then_tuple", {278}},
      {"first_arg_tuple_3", {307}},
      {"dict_values_tuple", {722}},
      {"complex_arg", {252}},
      {"all_tuples", {580, 615, 791}},
  };
  for (const auto& [adapter, numbers] : adapters)
    if (numbers.count(number)) return adapter;
  return "";
}

// evalplus's special oracles, keyed by entry point as evalplus keys them.
std::string oracle_for(const std::string& benchmark, const std::string& entry_point) {
  if (benchmark == "humaneval+") return entry_point == "find_zero" ? "find_zero" : "";
  static const std::map<std::string, std::string> mbpp = {
      {"are_equivalent", "always"},        {"sum_div", "zero_or_equal"},      {"surface_Area", "surface_area"},
      {"digit_distance_nums", "digit_distance"}, {"similar_elements", "set_equal"}, {"find_char_long", "set_equal"},
      {"common_in_nested_lists", "set_equal"},   {"extract_singly", "set_equal"},   {"larg_nnum", "set_equal"},
      {"intersection_array", "set_equal"},       {"find_dissimilar", "set_equal"},  {"Diff", "set_equal"},
      {"check_str", "not_none"},                 {"text_match_three", "not_none"},  {"text_starta_endb", "not_none"},
  };
  auto it = mbpp.find(entry_point);
  return it == mbpp.end() ? "" : it->second;
}

std::string raw_field(std::string_view object, const char* name, const JsonlLine& line) {
  std::optional<std::string_view> raw;
  try {
    raw = raw_json_member(object, name);
  } catch (const Error& e) {
    throw Error(line.where() + e.what());
  }
  if (!raw) throw Error(line.where() + "field '" + name + "' is missing");
  return std::string(*raw);
}

std::string decoded_string(std::string_view object, const char* name, const JsonlLine& line) {
  Json value = Json::parse(raw_field(object, name, line), nullptr, false);
  if (!value.is_string()) throw Error(line.where() + "field '" + name + "' is not a string");
  return value.get<std::string>();
}

}  // namespace

TaskSet load_evalplus(const std::string& path, const std::string& name) {
  TaskSet set{name, path, "", {}};
  std::string text = read_source(set);
  for_each_jsonl_line(path, text, [&](const JsonlLine& line) {
    Task task;
    task.task_id = decoded_string(line.text, "task_id", line);
    task.prompt = task.code_prompt = decoded_string(line.text, "prompt", line);
    task.entry_point = decoded_string(line.text, "entry_point", line);
    task.canonical_solution = task.prompt + decoded_string(line.text, "canonical_solution", line);
    task.base_inputs_json = raw_field(line.text, "base_input", line);
    task.plus_inputs_json = raw_field(line.text, "plus_input", line);
    Json atol = Json::parse(raw_field(line.text, "atol", line), nullptr, false);
    if (!atol.is_number()) throw Error(line.where() + "field 'atol' is not a number");
    task.atol = atol.get<double>();
    task.oracle = oracle_for(name, task.entry_point);
    if (name == "mbpp+") {
      size_t slash = task.task_id.rfind('/');
      task.input_adapter = mbpp_input_adapter(std::atoi(task.task_id.c_str() + (slash == std::string::npos ? 0 : slash + 1)));
    }
    set.tasks.push_back(std::move(task));
  });
  check_unique_ids(set);
  return set;
}

}  // namespace codealign::tasks
