// The built-in suite's building blocks (private to the tasks part). A family of tasks is a
// chain of slots (for lists: filter -> map -> reduction); a composition fills each slot with
// one block, or leaves an optional slot empty. A block is one line or two of Python, the same
// step in C++ (which computes the expected results), a few wordings for the docstring, and the
// realistic bugs a learner makes in it. builtin.cpp turns compositions into tasks;
// builtin_families.cpp holds the blocks.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace codealign::tasks::builtin {

// splitmix64: the same numbers on every platform (std's distributions are not), so that a seed
// names the same suite everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return size_t(next() % n); }
  long long between(long long lo, long long hi) { return lo + (long long)below(size_t(hi - lo + 1)); }
  bool percent(int p) { return below(100) < size_t(p); }
  template <class T>
  const T& pick(const std::vector<T>& items) { return items[below(items.size())]; }

 private:
  uint64_t state_;
};

// The values the generated functions take and return, enough to compute results and to write
// them as Python literals.
struct Value {
  enum class Kind { integer, boolean, text, numbers, words, keys, counts };
  Kind kind = Kind::integer;
  long long number = 0;            // integer, boolean
  std::string text;                // text
  std::vector<long long> numbers;  // numbers: a list of ints
  std::vector<std::string> words;  // words: a list of str; keys: a list of Python literals (dict keys)
  std::vector<std::pair<std::string, long long>> counts;  // a dict {key literal: count}, in insertion order
};

Value integer_value(long long n);
Value boolean_value(bool b);
Value text_value(std::string s);
Value numbers_value(std::vector<long long> ns);
Value words_value(std::vector<std::string> ws);

// The value as Python's repr() writes it ('abc', [1, 2], {'a': 2}, True).
std::string python_literal(const Value& value);
// repr() of a str as the suite's texts need it: they hold no quotes (for one, repr would switch
// to double quotes; this escapes it), so single quotes as Python writes them.
std::string python_str_literal(const std::string& s);
// Python's ==: dicts compare without regard to order.
bool python_equal(const Value& a, const Value& b);

// What one step did to a value: ok; the Python line would raise (a reference solution must not
// meet such an input, a buggy one fails on it); or a number would leave int64 (input unusable).
enum class Step { ok, raises, overflow };

// A block's own parameters, drawn once per task: a small integer and two distinct letters.
struct Params {
  long long k = 0;
  char c = 'a', d = 'b';
};

using Apply = std::function<Step(Value& value, const Params& params)>;

// One way to write a block: Python lines (indented relative to the function body) with
// placeholders {v} (the argument), {k}, {k+1}, {k-1}, {c}, {d}; and what they compute.
struct Code {
  std::string python;
  Apply apply;
};

struct Block {
  const char* name;                  // unique in its family, e.g. "keep_even"
  std::vector<const char*> phrases;   // wordings of the step, e.g. "keep only the even numbers"
  std::vector<const char*> words;    // name fragments of the function, e.g. "even", "evens"
  Code code;
  std::vector<Code> bugs;            // plausible mistakes; may be empty
  long long k_min = 0, k_max = 0;    // the range of {k}
  const char* noun = "";             // for later phrases' {noun} (dict keys: "first letter")
};

struct Slot {
  std::vector<Block> blocks;
  bool optional = false;
};

struct Family {
  const char* name;                  // "list", "string", "number", "dict"
  std::vector<const char*> args;     // argument names
  std::vector<const char*> intros;   // the docstring's first sentence ({v}); "" for none
  const char* noun;                  // added to a one-word function name: "sum" -> "sum_of_list"
  const char* letters;               // where {c} and {d} come from
  std::vector<Slot> slots;
  // Compositions left out as degenerate: block names per slot, "-" an empty slot, "*" any.
  std::vector<std::vector<const char*>> excluded;
  // A random argument; `params` (one per slot) let it favour edge values (K, K+1, 0).
  Value (*draw_input)(Rng& rng, const std::vector<Params>& params);
};

const std::vector<Family>& families();

// Python's // and % (rounding toward negative infinity).
long long floor_div(long long a, long long b);
long long floor_mod(long long a, long long b);

}  // namespace codealign::tasks::builtin
