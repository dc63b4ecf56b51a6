// The families of the built-in suite: their slots, blocks, wordings and bugs (see builtin.h).
// Each block's Python and its C++ step must mean the same thing; the builtin tests run every
// held-out task and a sample of training tasks through the sandbox to hold them to it.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "tasks/builtin.h"

namespace codealign::tasks::builtin {
namespace {

using Kind = Value::Kind;

// ============================================================================ step helpers

// Applies `fits` (which updates x and says whether it stayed in int64) to every number.
template <class F>
Step each_number(Value& v, F fits) {
  for (long long& x : v.numbers)
    if (!fits(x)) return Step::overflow;
  return Step::ok;
}

template <class F>
Step keep_numbers(Value& v, F keep) {
  std::erase_if(v.numbers, [&](long long x) { return !keep(x); });
  return Step::ok;
}

template <class F>
Step keep_words(Value& v, F keep) {
  std::erase_if(v.words, [&](const std::string& w) { return !keep(w); });
  return Step::ok;
}

Step become(Value& v, Value result) {
  v = std::move(result);
  return Step::ok;
}

bool add_fits(long long& x, long long y) { return !__builtin_add_overflow(x, y, &x); }
bool mul_fits(long long& x, long long y) { return !__builtin_mul_overflow(x, y, &x); }

Step sum_of(Value& v) {
  long long total = 0;
  for (long long x : v.numbers)
    if (!add_fits(total, x)) return Step::overflow;
  return become(v, integer_value(total));
}

Step product_of(Value& v, long long start) {
  long long product = start;
  for (long long x : v.numbers)
    if (!mul_fits(product, x)) return Step::overflow;
  return become(v, integer_value(product));
}

Step max_of(Value& v) {
  auto it = std::max_element(v.numbers.begin(), v.numbers.end());
  return become(v, integer_value(it == v.numbers.end() ? 0 : *it));
}

Step min_of(Value& v) {
  auto it = std::min_element(v.numbers.begin(), v.numbers.end());
  return become(v, integer_value(it == v.numbers.end() ? 0 : *it));
}

bool is_vowel(char c, bool with_upper) {
  return std::string_view(with_upper ? "aeiouAEIOU" : "aeiou").find(c) != std::string_view::npos;
}

template <class F>
Step keep_chars(Value& v, F keep) {
  std::erase_if(v.text, [&](char c) { return !keep(c); });
  return Step::ok;
}

// str.replace(old, new, count) for one-character old and new ("" for new: removal).
Step replace_char(Value& v, char old, const std::string& replacement, size_t count) {
  std::string out;
  size_t done = 0;
  for (char c : v.text) {
    if (c == old && done < count) {
      out += replacement;
      ++done;
    } else {
      out += c;
    }
  }
  v.text = out;
  return Step::ok;
}

template <class F>
void map_chars_of(std::string& s, F f) {
  for (char& c : s) c = char(f(static_cast<unsigned char>(c)));
}

template <class F>
Step map_chars(Value& v, F f) {
  map_chars_of(v.text, f);
  return Step::ok;
}

// str.capitalize() and str.title() on ASCII text.
Step capitalize(Value& v) {
  for (size_t i = 0; i < v.text.size(); ++i)
    v.text[i] = char(i == 0 ? std::toupper(static_cast<unsigned char>(v.text[i]))
                            : std::tolower(static_cast<unsigned char>(v.text[i])));
  return Step::ok;
}

Step title(Value& v) {
  bool after_letter = false;
  for (char& c : v.text) {
    bool letter = std::isalpha(static_cast<unsigned char>(c));
    auto byte = static_cast<unsigned char>(c);
    if (letter) c = char(after_letter ? std::tolower(byte) : std::toupper(byte));
    after_letter = letter;
  }
  return Step::ok;
}

// len(s.split()): runs of spaces separate words, and none are empty.
long long word_count(const std::string& s) {
  long long words = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::string text_literal(const std::string& s) { return python_str_literal(s); }

long long length(const std::string& s) { return (long long)s.size(); }

using Key = std::optional<std::string>;

// keys = [key(w) for w in words]; counts = {k: keys.count(k) for k in keys}
Step count_by(Value& v, std::optional<std::string> (*key)(const std::string& w)) {
  Value counts;
  counts.kind = Kind::counts;
  for (const std::string& w : v.words) {
    std::optional<std::string> k = key(w);
    if (!k) return Step::raises;
    auto it = std::find_if(counts.counts.begin(), counts.counts.end(), [&](const auto& kc) { return kc.first == *k; });
    if (it == counts.counts.end()) counts.counts.push_back({*k, 1});
    else ++it->second;
  }
  return become(v, counts);
}

Step repeated_keys(Value& v, long long more_than) {
  Value keys;
  keys.kind = Kind::keys;
  for (const auto& [k, n] : v.counts)
    if (n > more_than) keys.words.push_back(k);
  return become(v, keys);
}

// ============================================================================ lists of integers

// "{v} = [x for x in {v} if CONDITION]"
Code keep_code(const std::string& condition, bool (*keep)(long long x, long long k)) {
  return {"{v} = [x for x in {v} if " + condition + "]", [keep](Value& v, const Params& p) {
            return keep_numbers(v, [&](long long x) { return keep(x, p.k); });
          }};
}

// "{v} = [EXPRESSION for x in {v}]"; `apply` updates x and says whether it stayed in int64.
Code map_code(const std::string& expression, bool (*apply)(long long& x, long long k)) {
  return {"{v} = [" + expression + " for x in {v}]", [apply](Value& v, const Params& p) {
            return each_number(v, [&](long long& x) { return apply(x, p.k); });
          }};
}

// "return EXPRESSION"
Code result_code(const std::string& expression, Apply apply) { return {"return " + expression, std::move(apply)}; }

// Steps whose result is an int, a bool or a str computed from the value.
Apply integer_result(long long (*f)(const Value& v)) {
  return [f](Value& v, const Params&) { return become(v, integer_value(f(v))); };
}
Apply boolean_result(bool (*f)(const Value& v)) {
  return [f](Value& v, const Params&) { return become(v, boolean_value(f(v))); };
}
Apply text_result(std::string (*f)(const Value& v, const Params& p)) {
  return [f](Value& v, const Params& p) { return become(v, text_value(f(v, p))); };
}

Slot list_filters() {
  return {{
              {"keep_even", {"keep only the even numbers", "drop the odd numbers", "select the even numbers"},
               {"even", "evens"},
               keep_code("x % 2 == 0", [](long long x, long long) { return floor_mod(x, 2) == 0; }),
               {keep_code("x % 2 == 1", [](long long x, long long) { return floor_mod(x, 2) == 1; })}},
              {"keep_odd", {"keep only the odd numbers", "drop the even numbers", "select the odd numbers"},
               {"odd", "odds"},
               keep_code("x % 2 == 1", [](long long x, long long) { return floor_mod(x, 2) == 1; }),
               {keep_code("x % 2 == 0", [](long long x, long long) { return floor_mod(x, 2) == 0; })}},
              {"keep_positive", {"keep only the positive numbers", "drop the numbers that are zero or negative"},
               {"positive", "pos"},
               keep_code("x > 0", [](long long x, long long) { return x > 0; }),
               {keep_code("x >= 0", [](long long x, long long) { return x >= 0; })}},
              {"keep_negative", {"keep only the negative numbers", "drop the numbers that are zero or positive"},
               {"negative", "neg"},
               keep_code("x < 0", [](long long x, long long) { return x < 0; }),
               {keep_code("x <= 0", [](long long x, long long) { return x <= 0; })}},
              {"keep_greater",
               {"keep only the numbers greater than {k}", "drop every number that is not greater than {k}"},
               {"above_{k}", "over_{k}"},
               keep_code("x > {k}", [](long long x, long long k) { return x > k; }),
               {keep_code("x >= {k}", [](long long x, long long k) { return x >= k; })},
               1, 6},
              {"keep_less", {"keep only the numbers less than {k}", "drop every number that is {k} or more"},
               {"below_{k}", "under_{k}"},
               keep_code("x < {k}", [](long long x, long long k) { return x < k; }),
               {keep_code("x <= {k}", [](long long x, long long k) { return x <= k; })},
               1, 6},
              {"keep_multiple", {"keep only the multiples of {k}", "keep the numbers divisible by {k}"},
               {"multiples_of_{k}", "div_by_{k}"},
               keep_code("x % {k} == 0", [](long long x, long long k) { return floor_mod(x, k) == 0; }),
               {keep_code("x % {k+1} == 0", [](long long x, long long k) { return floor_mod(x, k + 1) == 0; })},
               2, 5},
          },
          true};
}

Slot list_maps() {
  return {{
              {"square", {"square each number", "replace every number with its square"},
               {"squared", "squares"},
               map_code("x * x", [](long long& x, long long) { return mul_fits(x, x); }),
               {map_code("x * 2", [](long long& x, long long) { return mul_fits(x, 2); })}},
              {"add", {"add {k} to each number", "increase every number by {k}"},
               {"plus_{k}", "add_{k}"},
               map_code("x + {k}", [](long long& x, long long k) { return add_fits(x, k); }),
               {map_code("x + {k+1}", [](long long& x, long long k) { return add_fits(x, k + 1); })},
               1, 9},
              {"subtract", {"subtract {k} from each number", "decrease every number by {k}"},
               {"minus_{k}", "sub_{k}"},
               map_code("x - {k}", [](long long& x, long long k) { return add_fits(x, -k); }),
               {map_code("{k} - x", [](long long& x, long long k) { x = -x; return add_fits(x, k); })},
               1, 9},
              {"multiply", {"multiply each number by {k}", "scale every number by {k}"},
               {"times_{k}", "scaled_{k}"},
               map_code("x * {k}", [](long long& x, long long k) { return mul_fits(x, k); }),
               {map_code("x + {k}", [](long long& x, long long k) { return add_fits(x, k); })},
               2, 5},
              {"negate", {"negate each number", "flip the sign of every number"},
               {"negated", "flipped"},
               map_code("-x", [](long long& x, long long) { x = -x; return true; }),
               {map_code("abs(x)", [](long long& x, long long) { x = std::abs(x); return true; })}},
              {"absolute", {"replace each number with its absolute value", "drop the sign of every number"},
               {"abs", "absolute"},
               map_code("abs(x)", [](long long& x, long long) { x = std::abs(x); return true; }),
               {map_code("max(x, 0)", [](long long& x, long long) { x = std::max(x, 0LL); return true; })}},
          },
          true};
}

Slot list_reductions() {
  const Apply sum = [](Value& v, const Params&) { return sum_of(v); };
  const Apply max = [](Value& v, const Params&) { return max_of(v); };
  const Apply min = [](Value& v, const Params&) { return min_of(v); };
  const Apply count = integer_result([](const Value& v) { return (long long)v.numbers.size(); });
  return {{
              {"sum", {"return their sum", "return the sum of the numbers", "add the numbers up and return the total"},
               {"sum", "total"},
               result_code("sum({v})", sum),
               {result_code("max({v}, default=0)", max)}},
              {"max",
               {"return the largest number (0 if there is none)", "return the maximum, or 0 if no numbers are left"},
               {"max", "largest"},
               result_code("max({v}, default=0)", max),
               {result_code("min({v}, default=0)", min)}},
              {"min",
               {"return the smallest number (0 if there is none)", "return the minimum, or 0 if no numbers are left"},
               {"min", "smallest"},
               result_code("min({v}, default=0)", min),
               {result_code("max({v}, default=0)", max)}},
              {"count", {"return how many numbers there are", "return the count of the numbers"},
               {"count", "how_many"},
               result_code("len({v})", count),
               {result_code("sum({v})", sum)}},
              {"product",
               {"return their product (1 if there are none)", "multiply the numbers together and return the product"},
               {"product", "prod"},
               {"result = 1\nfor x in {v}:\n    result *= x\nreturn result",
                [](Value& v, const Params&) { return product_of(v, 1); }},
               {{"result = 0\nfor x in {v}:\n    result *= x\nreturn result",
                 [](Value& v, const Params&) { return product_of(v, 0); }}}},
              {"list", {"return the resulting list", "return the new list"},
               {"list", "values"},
               result_code("{v}", [](Value&, const Params&) { return Step::ok; }),
               {result_code("sorted({v})", [](Value& v, const Params&) {
                 std::sort(v.numbers.begin(), v.numbers.end());
                 return Step::ok;
               })}},
          },
          false};
}

Value draw_numbers(Rng& rng, const std::vector<Params>& params) {
  std::vector<long long> numbers(rng.below(8));
  for (long long& x : numbers) {
    long long k = rng.pick(params).k;
    const long long edges[] = {0, k, k + 1, k - 1, -k};
    x = rng.percent(30) ? edges[rng.below(std::size(edges))] : rng.between(-9, 12);
  }
  return numbers_value(numbers);
}

// ============================================================================ strings

// "{v} = {v}.METHOD"
Code text_code(const std::string& method, Apply apply) { return {"{v} = {v}." + method, std::move(apply)}; }

// "{v} = "".join(c for c in {v} if c [not ]in VOWELS)"
Code vowels_code(bool keep, bool with_upper) {
  std::string python = std::string("{v} = \"\".join(c for c in {v} if c ") + (keep ? "in" : "not in") +
                       (with_upper ? " \"aeiouAEIOU\")" : " \"aeiou\")");
  return {python, [keep, with_upper](Value& v, const Params&) {
            return keep_chars(v, [&](char c) { return is_vowel(c, with_upper) == keep; });
          }};
}

Slot string_selections() {
  return {{
              {"keep_vowels",
               {"keep only its vowels", "remove every character that is not a vowel (upper or lower case)"},
               {"vowels", "only_vowels"},
               vowels_code(true, true),
               {vowels_code(true, false)}},
              {"remove_vowels", {"remove its vowels (upper or lower case)", "delete every vowel from it"},
               {"no_vowels", "consonants"},
               vowels_code(false, true),
               {vowels_code(false, false)}},
              {"remove_char", {"remove every '{c}' from it", "delete all occurrences of '{c}'"},
               {"without_{c}", "drop_{c}"},
               text_code("replace(\"{c}\", \"\")",
                         [](Value& v, const Params& p) { return replace_char(v, p.c, "", SIZE_MAX); }),
               {text_code("replace(\"{c}\", \"\", 1)",
                          [](Value& v, const Params& p) { return replace_char(v, p.c, "", 1); })}},
              {"replace_char", {"replace every '{c}' with '{d}'", "change each '{c}' into a '{d}'"},
               {"{c}_to_{d}", "swap_{c}_{d}"},
               text_code("replace(\"{c}\", \"{d}\")",
                         [](Value& v, const Params& p) { return replace_char(v, p.c, std::string(1, p.d), SIZE_MAX); }),
               {text_code("replace(\"{d}\", \"{c}\")", [](Value& v, const Params& p) {
                 return replace_char(v, p.d, std::string(1, p.c), SIZE_MAX);
               })}},
              {"remove_spaces", {"remove the spaces", "delete every space from it"},
               {"no_spaces", "squeezed"},
               text_code("replace(\" \", \"\")",
                         [](Value& v, const Params&) { return replace_char(v, ' ', "", SIZE_MAX); }),
               {text_code("replace(\" \", \"\", 1)",
                          [](Value& v, const Params&) { return replace_char(v, ' ', "", 1); })}},
          },
          true};
}

Slot string_shapes() {
  return {{
              {"upper", {"convert it to upper case", "make every letter upper case"},
               {"upper", "shout"},
               text_code("upper()", [](Value& v, const Params&) { return map_chars(v, ::toupper); }),
               {text_code("capitalize()", [](Value& v, const Params&) { return capitalize(v); })}},
              {"lower", {"convert it to lower case", "make every letter lower case"},
               {"lower", "quiet"},
               text_code("lower()", [](Value& v, const Params&) { return map_chars(v, ::tolower); }),
               {text_code("title()", [](Value& v, const Params&) { return title(v); })}},
              {"reverse", {"reverse it", "turn it around, last character first"},
               {"reversed", "backwards"},
               {"{v} = {v}[::-1]",
                [](Value& v, const Params&) {
                  std::reverse(v.text.begin(), v.text.end());
                  return Step::ok;
                }},
               {{"{v} = {v}[:0:-1]", [](Value& v, const Params&) {
                  std::string s = v.text.empty() ? "" : v.text.substr(1);
                  std::reverse(s.begin(), s.end());
                  return become(v, text_value(s));
                }}}},
          },
          true};
}

Slot string_results() {
  return {{
              {"text", {"return the result", "return the new string"},
               {"text", "string"},
               result_code("{v}", [](Value&, const Params&) { return Step::ok; }),
               {}},
              {"length", {"return its length", "return the number of characters"},
               {"length", "size"},
               result_code("len({v})", integer_result([](const Value& v) { return (long long)v.text.size(); })),
               {result_code("len(set({v}))", [](Value& v, const Params&) {
                 std::string s = v.text;
                 std::sort(s.begin(), s.end());
                 return become(v, integer_value(std::unique(s.begin(), s.end()) - s.begin()));
               })}},
              {"words", {"return the number of words", "return how many words it has"},
               {"word_count", "words"},
               result_code("len({v}.split())",
                           integer_result([](const Value& v) { return word_count(v.text); })),
               {result_code("{v}.count(\" \")", integer_result([](const Value& v) {
                 return (long long)std::count(v.text.begin(), v.text.end(), ' ');
               }))}},
              {"prefix",
               {"return its first {k} characters", "return the first {k} characters (all of it if it is shorter)"},
               {"first_{k}", "head_{k}"},
               result_code("{v}[:{k}]", text_result([](const Value& v, const Params& p) {
                 return v.text.substr(0, size_t(p.k));
               })),
               {result_code("{v}[:{k-1}]", text_result([](const Value& v, const Params& p) {
                 return v.text.substr(0, size_t(p.k - 1));
               }))},
               2, 5},
          },
          false};
}

const std::vector<std::string> string_words = {
    "apple", "banana", "cherry", "dog",   "eagle", "forest", "garden", "house", "island", "jungle",
    "kite",  "lemon",  "mango",  "night", "ocean", "piano",  "queen",  "river", "stone",  "tiger",
    "code",  "data",   "hello",  "world", "water", "yellow", "zebra",  "green", "table",  "sun"};

Value draw_text(Rng& rng, const std::vector<Params>&) {
  std::string text;
  size_t words = 1 + rng.below(4);
  for (size_t i = 0; i < words; ++i) {
    std::string word = rng.pick(string_words);
    size_t shape = rng.below(100);
    if (shape < 25) word[0] = char(std::toupper(static_cast<unsigned char>(word[0])));
    else if (shape < 35) map_chars_of(word, ::toupper);
    text += (i ? " " : "") + word;
  }
  return text_value(text);
}

// ============================================================================ integers

// "{v} = EXPRESSION"; `apply` updates n and says whether it stayed in int64.
Code step_code(const std::string& expression, bool (*apply)(long long& n, long long k)) {
  return {"{v} = " + expression,
          [apply](Value& v, const Params& p) { return apply(v.number, p.k) ? Step::ok : Step::overflow; }};
}

std::vector<Block> arithmetic_steps() {
  return {
      {"add", {"add {k} to it", "increase it by {k}"},
       {"plus_{k}", "add_{k}"},
       step_code("{v} + {k}", [](long long& n, long long k) { return add_fits(n, k); }),
       {step_code("{v} + {k+1}", [](long long& n, long long k) { return add_fits(n, k + 1); })},
       1, 9},
      {"subtract", {"subtract {k} from it", "decrease it by {k}"},
       {"minus_{k}", "sub_{k}"},
       step_code("{v} - {k}", [](long long& n, long long k) { return add_fits(n, -k); }),
       {step_code("{k} - {v}", [](long long& n, long long k) { n = -n; return add_fits(n, k); })},
       1, 9},
      {"multiply", {"multiply it by {k}", "scale it by {k}"},
       {"times_{k}", "mul_{k}"},
       step_code("{v} * {k}", [](long long& n, long long k) { return mul_fits(n, k); }),
       {step_code("{v} * {k+1}", [](long long& n, long long k) { return mul_fits(n, k + 1); })},
       2, 5},
      {"floor_divide", {"divide it by {k}, rounding down", "floor-divide it by {k}"},
       {"div_{k}", "floor_div_{k}"},
       step_code("{v} // {k}", [](long long& n, long long k) { n = floor_div(n, k); return true; }),
       {step_code("{v} % {k}", [](long long& n, long long k) { n = floor_mod(n, k); return true; })},
       2, 5},
      {"modulo", {"replace it with its remainder when divided by {k}", "take it modulo {k}"},
       {"mod_{k}", "rem_{k}"},
       step_code("{v} % {k}", [](long long& n, long long k) { n = floor_mod(n, k); return true; }),
       {step_code("{v} // {k}", [](long long& n, long long k) { n = floor_div(n, k); return true; })},
       3, 9},
      {"square", {"square it", "multiply it by itself"},
       {"squared", "square"},
       step_code("{v} * {v}", [](long long& n, long long) { return mul_fits(n, n); }),
       {step_code("{v} * 2", [](long long& n, long long) { return mul_fits(n, 2); })}},
      {"negate", {"negate it", "flip its sign"},
       {"negated", "negate"},
       step_code("-{v}", [](long long& n, long long) { n = -n; return true; }),
       {step_code("abs({v})", [](long long& n, long long) { n = std::abs(n); return true; })}},
      {"absolute", {"take its absolute value", "drop its sign"},
       {"abs_value", "absolute"},
       step_code("abs({v})", [](long long& n, long long) { n = std::abs(n); return true; }),
       {step_code("max({v}, 0)", [](long long& n, long long) { n = std::max(n, 0LL); return true; })}},
  };
}

// sum(int(d) for d in str(n)): int('-') raises.
Step digit_sum(Value& v, bool ignore_sign) {
  if (v.number < 0 && !ignore_sign) return Step::raises;
  long long sum = 0;
  for (char c : std::to_string(std::abs(v.number))) sum += c - '0';
  return become(v, integer_value(sum));
}

long long digits(long long n) { return (long long)std::to_string(n).size(); }

Slot arithmetic_results() {
  return {{
              {"value", {"return the result", "return the new value"},
               {"result", "value"},
               result_code("{v}", [](Value&, const Params&) { return Step::ok; }),
               {}},
              {"last_digit", {"return its last digit", "return the last digit of the result (ignoring the sign)"},
               {"last_digit", "final_digit"},
               result_code("abs({v}) % 10",
                           integer_result([](const Value& v) { return std::abs(v.number) % 10; })),
               {result_code("{v} % 10",
                            integer_result([](const Value& v) { return floor_mod(v.number, 10); }))}},
              {"digit_count",
               {"return how many digits it has", "return the number of digits of the result (ignoring the sign)"},
               {"digit_count", "num_digits"},
               result_code("len(str(abs({v})))",
                           integer_result([](const Value& v) { return digits(std::abs(v.number)); })),
               {result_code("len(str({v}))",
                            integer_result([](const Value& v) { return digits(v.number); }))}},
              {"digit_sum", {"return the sum of its digits", "return its digit sum (ignoring the sign)"},
               {"digit_sum", "sum_digits"},
               result_code("sum(int(d) for d in str(abs({v})))",
                           [](Value& v, const Params&) { return digit_sum(v, true); }),
               {result_code("sum(int(d) for d in str({v}))",
                            [](Value& v, const Params&) { return digit_sum(v, false); })}},
              {"is_even", {"return True if it is even and False otherwise", "return whether it is even"},
               {"is_even", "even"},
               result_code("{v} % 2 == 0", boolean_result([](const Value& v) { return floor_mod(v.number, 2) == 0; })),
               {result_code("{v} % 2 == 1",
                            boolean_result([](const Value& v) { return floor_mod(v.number, 2) == 1; }))}},
              {"is_positive",
               {"return True if it is greater than zero and False otherwise", "return whether it is positive"},
               {"is_positive", "positive"},
               result_code("{v} > 0", boolean_result([](const Value& v) { return v.number > 0; })),
               {result_code("{v} >= 0", boolean_result([](const Value& v) { return v.number >= 0; }))}},
          },
          false};
}

Value draw_integer(Rng& rng, const std::vector<Params>& params) {
  long long k = rng.pick(params).k;
  const long long edges[] = {0, 1, -1, k, -k, k + 1, k - 1, 10, -10, 100};
  if (rng.percent(30)) return integer_value(edges[rng.below(std::size(edges))]);
  return integer_value(rng.percent(75) ? rng.between(-40, 99) : rng.between(-999, 999));
}

// ============================================================================ counting words

// "{v} = [w for w in {v} if CONDITION]"
Code word_filter_code(const std::string& condition, bool (*keep)(const std::string& w, const Params& p)) {
  return {"{v} = [w for w in {v} if " + condition + "]", [keep](Value& v, const Params& p) {
            return keep_words(v, [&](const std::string& w) { return keep(w, p); });
          }};
}

Slot word_filters() {
  return {{
              {"keep_longer",
               {"ignore the words of {k} letters or fewer", "keep only the words longer than {k} letters"},
               {"long", "longer_than_{k}"},
               word_filter_code("len(w) > {k}", [](const std::string& w, const Params& p) { return length(w) > p.k; }),
               {word_filter_code("len(w) >= {k}",
                                 [](const std::string& w, const Params& p) { return length(w) >= p.k; })},
               2, 5},
              {"keep_shorter",
               {"ignore the words of {k} letters or more", "keep only the words shorter than {k} letters"},
               {"short", "shorter_than_{k}"},
               word_filter_code("len(w) < {k}", [](const std::string& w, const Params& p) { return length(w) < p.k; }),
               {word_filter_code("len(w) <= {k}",
                                 [](const std::string& w, const Params& p) { return length(w) <= p.k; })},
               3, 6},
              {"keep_starting",
               {"keep only the words that start with '{c}'", "ignore the words that do not begin with '{c}'"},
               {"starting_{c}", "{c}_words"},
               word_filter_code("w.startswith(\"{c}\")",
                                [](const std::string& w, const Params& p) { return w[0] == p.c; }),
               {word_filter_code("\"{c}\" in w", [](const std::string& w, const Params& p) {
                 return w.find(p.c) != std::string::npos;
               })}},
          },
          true};
}

// "keys = [EXPRESSION for w in {v}]" and "counts = {k: keys.count(k) for k in keys}". `key`
// gives a word's key as a Python literal, or nullopt where the Python would raise.
Code key_code(const std::string& expression, std::optional<std::string> (*key)(const std::string& w)) {
  return {"keys = [" + expression + " for w in {v}]\ncounts = {k: keys.count(k) for k in keys}",
          [key](Value& v, const Params&) { return count_by(v, key); }};
}

Slot word_keys() {
  return {{
              {"by_word", {"count how many times each word occurs", "count every word"},
               {"word", "by_word"},
               key_code("w", [](const std::string& w) -> Key { return text_literal(w); }),
               {}, 0, 0, "word"},
              {"by_first_letter",
               {"count the words by their first letter", "group the words by first letter and count each group"},
               {"first_letter", "initial"},
               key_code("w[0]", [](const std::string& w) -> Key { return text_literal(w.substr(0, 1)); }),
               {key_code("w[1]", [](const std::string& w) -> Key { return text_literal(w.substr(1, 1)); })},
               0, 0, "first letter"},
              {"by_last_letter",
               {"count the words by their last letter", "group the words by last letter and count each group"},
               {"last_letter", "final_letter"},
               key_code("w[-1]", [](const std::string& w) -> Key { return text_literal(w.substr(w.size() - 1)); }),
               {key_code("w[len(w)]", [](const std::string&) -> Key { return std::nullopt; })},  // IndexError
               0, 0, "last letter"},
              {"by_length", {"count the words by their length", "group the words by length and count each group"},
               {"length", "by_length"},
               key_code("len(w)", [](const std::string& w) -> Key { return std::to_string(w.size()); }),
               {key_code("len(w) - 1", [](const std::string& w) -> Key { return std::to_string(w.size() - 1); })},
               0, 0, "length"},
          },
          false};
}

long long most_common(const Value& v) {
  long long most = 0;
  for (const auto& kc : v.counts) most = std::max(most, kc.second);
  return most;
}

long long least_common(const Value& v) {
  long long least = v.counts.empty() ? 0 : v.counts.front().second;
  for (const auto& kc : v.counts) least = std::min(least, kc.second);
  return least;
}

long long total_count(const Value& v) {
  long long total = 0;
  for (const auto& kc : v.counts) total += kc.second;
  return total;
}

Slot word_results() {
  return {{
              {"counts",
               {"return a dictionary that maps each {noun} to its count",
                "return the counts as a dict keyed by {noun}"},
               {"counts", "histogram"},
               result_code("counts", [](Value&, const Params&) { return Step::ok; }),
               {}},
              {"distinct", {"return how many different {noun}s there are", "return the number of distinct {noun}s"},
               {"distinct", "num_kinds"},
               result_code("len(counts)", integer_result([](const Value& v) { return (long long)v.counts.size(); })),
               {result_code("len(keys)", integer_result([](const Value& v) { return total_count(v); }))}},
              {"most",
               {"return the largest count (0 if there are no words)",
                "return how often the most common {noun} occurs (0 for no words)"},
               {"max_count", "top_count"},
               result_code("max(counts.values(), default=0)",
                           integer_result([](const Value& v) { return most_common(v); })),
               {result_code("min(counts.values(), default=0)",
                            integer_result([](const Value& v) { return least_common(v); }))}},
              {"repeated",
               {"return the list of {noun}s that occur more than once, in order of first appearance",
                "return the {noun}s seen at least twice, in the order they first appear"},
               {"repeated", "dupes"},
               result_code("[k for k in counts if counts[k] > 1]",
                           [](Value& v, const Params&) { return repeated_keys(v, 1); }),
               {result_code("[k for k in counts if counts[k] >= 1]",
                            [](Value& v, const Params&) { return repeated_keys(v, 0); })}},
          },
          false};
}

const std::vector<std::string> counting_words = {"ox",  "ant", "apple", "axe", "bee",    "bear", "banana", "cat",
                                                 "cake", "carrot", "dog", "duck", "dragon", "egg",  "eel",    "eagle"};

Value draw_words(Rng& rng, const std::vector<Params>&) {
  std::vector<size_t> pool;  // 5 distinct words, so that some repeat
  while (pool.size() < 5) {
    size_t w = rng.below(counting_words.size());
    if (std::find(pool.begin(), pool.end(), w) == pool.end()) pool.push_back(w);
  }
  std::vector<std::string> words(rng.below(8));
  for (std::string& w : words) w = counting_words[rng.pick(pool)];
  return words_value(std::move(words));
}

}  // namespace

// ============================================================================ the families

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {"list",
       {"nums", "numbers", "values", "xs"},
       {"{v} is a list of integers.", "Take a list of integers {v}.", "You are given a list of integers {v}.", ""},
       "of_list",
       "",
       {list_filters(), list_maps(), list_reductions()},
       {{"-", "-", "list"}},
       draw_numbers},
      {"string",
       {"s", "text", "phrase", "line"},
       {"{v} is a string.", "Take a string {v}.", "You are given a string {v}.", "The argument {v} is a string."},
       "of_text",
       "aeinorstlu",
       {string_selections(), string_shapes(), string_results()},
       {{"-", "-", "text"}, {"keep_vowels", "*", "words"}, {"remove_spaces", "*", "words"}},
       draw_text},
      {"number",
       {"n", "x", "num", "value"},
       {"{v} is an integer.", "Take an integer {v}.", "You are given an integer {v}.",
        "The argument {v} is an integer."},
       "of_number",
       "",
       {{arithmetic_steps(), false}, {arithmetic_steps(), true}, arithmetic_results()},
       {},
       draw_integer},
      {"dict",
       {"words", "items", "names", "tokens"},
       {"{v} is a list of words.", "Take a list of words {v}.", "You are given a list of words {v}.", ""},
       "of_words",
       "abcde",
       {word_filters(), word_keys(), word_results()},
       {},
       draw_words},
  };
  return all;
}

long long floor_div(long long a, long long b) {
  long long q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

long long floor_mod(long long a, long long b) {
  long long r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

}  // namespace codealign::tasks::builtin
