// The built-in suite: compositions of building blocks (builtin_families.cpp) turned into tasks,
// the held-out split, and the sets "builtin:train" and "builtin:heldout".
//
// One task: a composition, its blocks' parameters, an argument and a function name, wordings,
// 12 random inputs run through the blocks in C++, a bug that one of them exposes, then 5 tests
// (an exposing one first, then the most distinct results) and a docstring example. A draft that
// finds no such bug or too few distinct results is drawn again; a composition that gives no task
// in 40 drafts (e.g. the digit count of a remainder, always 1) is dropped from its set.
#include <algorithm>
#include <future>
#include <optional>
#include <unordered_set>

#include "common/error.h"
#include "common/hash.h"
#include "tasks/builtin.h"
#include "tasks/tasks.h"

namespace codealign::tasks {
namespace builtin {

Value integer_value(long long n) { return Value{Value::Kind::integer, n, {}, {}, {}, {}}; }
Value boolean_value(bool b) { return Value{Value::Kind::boolean, b ? 1 : 0, {}, {}, {}, {}}; }
Value text_value(std::string s) { return Value{Value::Kind::text, 0, std::move(s), {}, {}, {}}; }
Value numbers_value(std::vector<long long> ns) { return Value{Value::Kind::numbers, 0, {}, std::move(ns), {}, {}}; }
Value words_value(std::vector<std::string> ws) { return Value{Value::Kind::words, 0, {}, {}, std::move(ws), {}}; }

std::string python_str_literal(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

namespace {

template <class T, class F>
std::string joined(const std::vector<T>& items, F literal, const char* open, const char* close) {
  std::string out = open;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + literal(items[i]);
  return out + close;
}

}  // namespace

std::string python_literal(const Value& v) {
  switch (v.kind) {
    case Value::Kind::integer: return std::to_string(v.number);
    case Value::Kind::boolean: return v.number ? "True" : "False";
    case Value::Kind::text: return python_str_literal(v.text);
    case Value::Kind::numbers: return joined(v.numbers, [](long long x) { return std::to_string(x); }, "[", "]");
    case Value::Kind::words: return joined(v.words, python_str_literal, "[", "]");
    case Value::Kind::keys: return joined(v.words, [](const std::string& k) { return k; }, "[", "]");
    case Value::Kind::counts:
      return joined(v.counts, [](const auto& kc) { return kc.first + ": " + std::to_string(kc.second); }, "{", "}");
  }
  return "";
}

bool python_equal(const Value& a, const Value& b) {
  using Kind = Value::Kind;
  auto numeric = [](Kind k) { return k == Kind::integer || k == Kind::boolean; };
  if (numeric(a.kind) && numeric(b.kind)) return a.number == b.number;  // True == 1
  if (a.kind != b.kind) return false;
  if (a.kind == Kind::text) return a.text == b.text;
  if (a.kind == Kind::numbers) return a.numbers == b.numbers;
  if (a.kind != Kind::counts) return a.words == b.words;
  auto x = a.counts, y = b.counts;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

}  // namespace builtin

namespace {

using namespace builtin;

constexpr size_t train_size = 20000, heldout_size = 300;
constexpr size_t candidate_inputs = 12, tests_per_task = 5, attempts_per_composition = 40;

// ============================================================================ compositions

struct Composition {
  const Family* family;
  std::vector<const Block*> blocks;  // one per slot; nullptr: the slot is left empty
  std::string key;                   // "list:keep_even>->sum"
};

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// About one composition in ten is held out, by a fixed hash of its name (no seed involved).
bool is_held_out(const Composition& composition) { return fnv1a(composition.key) % 10 == 0; }

bool excluded(const Family& family, const std::vector<const Block*>& blocks) {
  for (size_t i = 0; i < blocks.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (blocks[i] && blocks[j] && std::string(blocks[i]->name) == blocks[j]->name) return true;
  for (const auto& pattern : family.excluded) {
    bool all = true;
    for (size_t i = 0; i < blocks.size() && all; ++i) {
      std::string want = pattern[i], have = blocks[i] ? blocks[i]->name : "-";
      all = want == "*" || want == have;
    }
    if (all) return true;
  }
  return false;
}

void add_compositions(const Family& family, std::vector<const Block*>& prefix, std::vector<Composition>& out) {
  size_t slot = prefix.size();
  if (slot == family.slots.size()) {
    if (excluded(family, prefix)) return;
    std::string key = std::string(family.name) + ":";
    for (size_t i = 0; i < prefix.size(); ++i)
      key += (i ? ">" : "") + std::string(prefix[i] ? prefix[i]->name : "-");
    out.push_back({&family, prefix, key});
    return;
  }
  if (family.slots[slot].optional) {
    prefix.push_back(nullptr);
    add_compositions(family, prefix, out);
    prefix.pop_back();
  }
  for (const Block& block : family.slots[slot].blocks) {
    prefix.push_back(&block);
    add_compositions(family, prefix, out);
    prefix.pop_back();
  }
}

// Every composition of every family, in a fixed order.
const std::vector<Composition>& all_compositions() {
  static const std::vector<Composition> all = [] {
    std::vector<Composition> out;
    for (const Family& family : families()) {
      std::vector<const Block*> prefix;
      add_compositions(family, prefix, out);
    }
    return out;
  }();
  return all;
}

// ============================================================================ one task

// The value of placeholder `name` ("k" for {k}), or nullopt if it is none.
std::optional<std::string> placeholder(std::string_view name, const std::string& arg, const Params& p,
                                       const std::string& noun) {
  if (name == "v") return arg;
  if (name == "k") return std::to_string(p.k);
  if (name == "k+1") return std::to_string(p.k + 1);
  if (name == "k-1") return std::to_string(p.k - 1);
  if (name == "c") return std::string(1, p.c);
  if (name == "d") return std::string(1, p.d);
  if (name == "noun") return noun;
  return std::nullopt;
}

// Fills the placeholders {v} {k} {k+1} {k-1} {c} {d} {noun}; other braces stay as they are.
std::string substitute(std::string_view text, const std::string& arg, const Params& p, const std::string& noun) {
  std::string out;
  out.reserve(text.size() + 16);
  size_t done = 0;  // text[0, done) is in `out`
  for (size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) break;
    std::optional<std::string> value = placeholder(text.substr(open + 1, close - open - 1), arg, p, noun);
    if (!value) continue;
    out.append(text.substr(done, open - done)).append(*value);
    done = close + 1;
  }
  return out.append(text.substr(done));
}

// Runs the composition on `value`; slot `bug_slot` (if any) runs `bug` instead of its code.
Step run(const Composition& c, const std::vector<Params>& params, Value& value, size_t bug_slot = SIZE_MAX,
         const Code* bug = nullptr) {
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    if (!c.blocks[i]) continue;
    const Code& code = i == bug_slot ? *bug : c.blocks[i]->code;
    if (Step step = code.apply(value, params[i]); step != Step::ok) return step;
  }
  return Step::ok;
}

struct Case {
  Value input, output;
};

struct Bug {
  size_t slot;
  const Code* code;
  std::vector<size_t> exposing;  // the cases on which it returns something else, or raises
};

template <class T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

std::vector<Params> draw_params(const Composition& c, Rng& rng) {
  std::vector<Params> params(c.blocks.size());
  std::string letters = c.family->letters;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!c.blocks[i]) continue;
    params[i].k = rng.between(c.blocks[i]->k_min, c.blocks[i]->k_max);
    if (letters.empty()) continue;
    params[i].c = letters[rng.below(letters.size())];
    do params[i].d = letters[rng.below(letters.size())];
    while (params[i].d == params[i].c);
  }
  return params;
}

// Distinct random inputs on which the reference runs, with its results.
std::vector<Case> draw_cases(const Composition& c, const std::vector<Params>& params, Rng& rng) {
  std::vector<Case> cases;
  cases.reserve(candidate_inputs);
  for (size_t i = 0; i < candidate_inputs; ++i) {
    Case next{c.family->draw_input(rng, params), {}};
    bool seen = std::any_of(cases.begin(), cases.end(),
                            [&](const Case& other) { return python_equal(other.input, next.input); });
    next.output = next.input;
    if (!seen && run(c, params, next.output) == Step::ok) cases.push_back(std::move(next));
  }
  return cases;
}

// The first bug, in a seeded order, that some case exposes.
std::optional<Bug> choose_bug(const Composition& c, const std::vector<Params>& params, const std::vector<Case>& cases,
                              Rng& rng) {
  std::vector<Bug> bugs;
  for (size_t slot = 0; slot < c.blocks.size(); ++slot)
    if (c.blocks[slot])
      for (const Code& code : c.blocks[slot]->bugs) bugs.push_back({slot, &code, {}});
  shuffle(bugs, rng);
  for (Bug& bug : bugs) {
    for (size_t i = 0; i < cases.size(); ++i) {
      Value value = cases[i].input;
      Step step = run(c, params, value, bug.slot, bug.code);
      bool differs = step == Step::raises || (step == Step::ok && !python_equal(value, cases[i].output));
      if (differs) bug.exposing.push_back(i);
    }
    if (!bug.exposing.empty()) return bug;
  }
  return std::nullopt;
}

// An exposing case first, then cases with results not yet seen, then the rest in order.
std::vector<size_t> choose_tests(const std::vector<Case>& cases, const Bug& bug) {
  std::vector<size_t> tests = {bug.exposing.front()};
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < cases.size() && tests.size() < tests_per_task; ++i) {
      bool taken = false, fresh = true;
      for (size_t t : tests) {
        taken = taken || t == i;
        fresh = fresh && !python_equal(cases[t].output, cases[i].output);
      }
      if (!taken && (fresh || pass == 1)) tests.push_back(i);
    }
  return tests;
}

size_t distinct_results(const std::vector<Case>& cases, const std::vector<size_t>& tests) {
  size_t distinct = 0;
  for (size_t i = 0; i < tests.size(); ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first = first && !python_equal(cases[tests[j]].output, cases[tests[i]].output);
    distinct += first;
  }
  return distinct;
}

// 0, [], '' or {}: a result that shows little as an example.
bool is_blank(const Value& v) {
  return v.kind == Value::Kind::integer ? v.number == 0
                                        : v.text.empty() && v.numbers.empty() && v.words.empty() && v.counts.empty() &&
                                              v.kind != Value::Kind::boolean;
}

// The docstring's example: a case outside the tests, preferably with a result that is not blank.
size_t choose_example(const std::vector<Case>& cases, const std::vector<size_t>& tests) {
  std::optional<size_t> fallback;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (std::find(tests.begin(), tests.end(), i) != tests.end()) continue;
    if (!is_blank(cases[i].output)) return i;
    if (!fallback) fallback = i;
  }
  return fallback ? *fallback : tests.back();
}

std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = char(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// "P1.", "P1, then p2.", "P1, p2, and p3." and their variants.
std::string sentence(const std::vector<std::string>& phrases, Rng& rng) {
  std::string out = capitalized(phrases[0]);
  if (phrases.size() == 2) out += (rng.percent(50) ? ", then " : " and ") + phrases[1];
  if (phrases.size() == 3)
    out += rng.percent(50) ? ", then " + phrases[1] + ", and " + phrases[2]
                           : ", " + phrases[1] + ", and then " + phrases[2];
  return out + ".";
}

// Words wrapped to lines of at most 76 characters, each indented by four spaces.
std::string wrapped(const std::string& text) {
  std::string out, line;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.find(' ', start), text.size());
    std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > 76) {
      out += "    " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + "    " + line + "\n";
}

std::string function_name(const Composition& c, const std::vector<Params>& params, Rng& rng) {
  static const std::vector<std::string> generic = {"solve", "compute", "process", "transform"};
  if (rng.percent(15)) return rng.pick(generic);
  std::vector<std::string> words;
  for (size_t i = 0; i < c.blocks.size(); ++i)
    if (c.blocks[i]) words.push_back(substitute(rng.pick(c.blocks[i]->words), "", params[i], ""));
  std::string name;
  for (const std::string& w : words) name += (name.empty() ? "" : "_") + w;
  // A one-word name could be a built-in the body calls ("sum", "max").
  return words.size() == 1 ? name + "_" + c.family->noun : name;
}

std::string body(const Composition& c, const std::vector<Params>& params, const std::string& arg, const Bug* bug) {
  std::string out;
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    if (!c.blocks[i]) continue;
    const Code& code = bug && bug->slot == i ? *bug->code : c.blocks[i]->code;
    std::string lines = substitute(code.python, arg, params[i], "");
    for (size_t start = 0; start < lines.size();) {
      size_t end = std::min(lines.find('\n', start), lines.size());
      out += "    " + lines.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  return out;
}

std::string prompt(const Composition& c, const std::vector<Params>& params, const std::string& arg,
                   const std::string& name, const Case& example, Rng& rng) {
  std::string noun;
  std::vector<std::string> phrases;
  for (const Block* block : c.blocks)
    if (block && *block->noun) noun = block->noun;
  for (size_t i = 0; i < c.blocks.size(); ++i)
    if (c.blocks[i]) phrases.push_back(substitute(rng.pick(c.blocks[i]->phrases), arg, params[i], noun));
  std::string intro = substitute(rng.pick(c.family->intros), arg, {}, noun);
  std::string text = (intro.empty() ? "" : intro + " ") + sentence(phrases, rng);
  std::string doc = wrapped(text);
  doc.replace(0, 4, "    \"\"\"");
  return "def " + name + "(" + arg + "):\n" + doc + "    >>> " + name + "(" + python_literal(example.input) +
         ")\n    " + python_literal(example.output) + "\n    \"\"\"\n";
}

std::string assertion(const std::string& name, const Case& test) {
  return "def check(candidate):\n    assert candidate(" + python_literal(test.input) +
         ") == " + python_literal(test.output) + "\n\ncheck(" + name + ")\n";
}

std::optional<BuiltinTask> draft_task(const Composition& c, Rng& rng) {
  std::vector<Params> params = draw_params(c, rng);
  std::vector<Case> cases = draw_cases(c, params, rng);
  std::optional<Bug> bug = choose_bug(c, params, cases, rng);
  if (!bug) return std::nullopt;
  std::vector<size_t> tests = choose_tests(cases, *bug);
  bool boolean = cases[tests[0]].output.kind == Value::Kind::boolean;
  if (tests.size() < tests_per_task || distinct_results(cases, tests) < (boolean ? 2u : 3u)) return std::nullopt;

  BuiltinTask out;
  std::string arg = rng.pick(c.family->args), name = function_name(c, params, rng);
  Task& task = out.task;
  task.prompt = task.code_prompt = prompt(c, params, arg, name, cases[choose_example(cases, tests)], rng);
  task.entry_point = name;
  task.canonical_solution = task.prompt + body(c, params, arg, nullptr);
  task.buggy_completion = body(c, params, arg, &*bug);
  for (size_t i : tests) task.tests.push_back(assertion(name, cases[i]));
  for (const Block* block : c.blocks)
    if (block) out.blocks.push_back(std::string(c.family->name) + "." + block->name);
  return out;
}

void check_set_name(const std::string& set, const std::string& where) {
  const auto& names = builtin_set_names();
  if (std::find(names.begin(), names.end(), set) == names.end())
    throw Error("tasks: " + where + "unknown built-in set '" + set + "'" + did_you_mean(set, names) +
                "; expected one of: train, heldout");
}

// One family's compositions of a set in a seeded order, taken in turn, with its own random
// stream and prompts: the families of a set are drawn independently (and in parallel).
struct Pool {
  std::vector<const Composition*> compositions;
  std::vector<bool> dead;  // no task came of it in attempts_per_composition tries
  size_t next = 0;
  Rng rng{0};
  std::unordered_set<uint64_t> prompts;  // hashes of the prompts drawn so far
};

// The next task of the pool's next live composition whose prompt is new; nullopt once all are dead.
std::optional<BuiltinTask> next_task(Pool& pool) {
  while (std::find(pool.dead.begin(), pool.dead.end(), false) != pool.dead.end()) {
    size_t at = pool.next++ % pool.compositions.size();
    if (pool.dead[at]) continue;
    for (size_t attempt = 0; attempt < attempts_per_composition; ++attempt) {
      std::optional<BuiltinTask> task = draft_task(*pool.compositions[at], pool.rng);
      if (task && pool.prompts.insert(fnv1a(task->task.prompt)).second) return task;
    }
    pool.dead[at] = true;
  }
  return std::nullopt;
}

// `count` tasks of one pool.
std::vector<BuiltinTask> draw_tasks(Pool& pool, size_t count, const std::string& set) {
  std::vector<BuiltinTask> tasks;
  tasks.reserve(count);
  while (tasks.size() < count) {
    std::optional<BuiltinTask> task = next_task(pool);
    if (!task) throw Error("tasks: the built-in set '" + set + "' ran out of compositions");
    tasks.push_back(std::move(*task));
  }
  return tasks;
}

}  // namespace

// ============================================================================ the sets

const std::vector<std::string>& builtin_set_names() {
  static const std::vector<std::string> names = {"train", "heldout"};
  return names;
}

std::vector<BuiltinTask> generate_builtin_tasks(const std::string& set, uint64_t seed, size_t count) {
  check_set_name(set, "");
  bool heldout = set == "heldout";
  if (count == 0) count = heldout ? heldout_size : train_size;
  std::vector<Pool> pools(families().size());
  for (const Composition& c : all_compositions())
    if (is_held_out(c) == heldout) pools[size_t(c.family - families().data())].compositions.push_back(&c);
  std::erase_if(pools, [](const Pool& pool) { return pool.compositions.empty(); });
  for (Pool& pool : pools) {
    pool.rng = Rng(seed ^ fnv1a(set + "/" + pool.compositions[0]->family->name));
    shuffle(pool.compositions, pool.rng);
    pool.dead.assign(pool.compositions.size(), false);
  }
  // The families take turns (task i is of family i % families), and each takes its compositions
  // in turn, so that any prefix of the set spreads evenly over both.
  std::vector<std::future<std::vector<BuiltinTask>>> drawn;
  for (size_t f = 0; f < pools.size(); ++f) {
    size_t share = count / pools.size() + (f < count % pools.size() ? 1 : 0);
    drawn.push_back(std::async(std::launch::async, draw_tasks, std::ref(pools[f]), share, std::cref(set)));
  }
  std::vector<std::vector<BuiltinTask>> by_family;
  for (auto& family : drawn) by_family.push_back(family.get());
  std::vector<BuiltinTask> tasks;
  tasks.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    tasks.push_back(std::move(by_family[i % pools.size()][i / pools.size()]));
    tasks.back().task.task_id = "builtin/" + set + "/" + std::to_string(i);
    tasks.back().task.split = set;
  }
  return tasks;
}

TaskSet load_builtin_set(const std::string& set) {
  check_set_name(set, "'builtin:" + set + "': ");
  TaskSet out{"builtin:" + set, "builtin:" + set, "", {}};
  ContentHash hash;
  hash.add("codealign builtin tasks");
  for (BuiltinTask& b : generate_builtin_tasks(set)) {
    const Task& t = b.task;
    hash.add(t.task_id).add(t.prompt).add(t.canonical_solution).add(t.buggy_completion);
    for (const std::string& test : t.tests) hash.add(test);
    out.tasks.push_back(std::move(b.task));
  }
  out.source_hash = hash.hex();
  return out;
}

}  // namespace codealign::tasks
