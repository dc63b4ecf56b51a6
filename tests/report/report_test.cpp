// The report's pieces (escaping, the line diff, the Wilson interval) checked by hand, and a
// whole report built from a small run directory written here in align's file formats.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "common/error.h"
#include "common/files.h"
#include "common/jsonl.h"
#include "report/diff.h"
#include "report/html.h"
#include "report/report.h"
#include "report/browser.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

namespace fs = std::filesystem;
using report::DiffKind;

TEST(HtmlEscape, EscapesMarkupQuotesControlsAndBadBytes) {
  EXPECT_EQ(report::html_escape("</script><b a=\"1\" b='2'>&amp;"),
            "&lt;/script&gt;&lt;b a=&quot;1&quot; b=&#39;2&#39;&gt;&amp;amp;");
  EXPECT_EQ(report::html_escape("def f():\n\treturn 'é' # 字\r\n"), "def f():\n\treturn &#39;é&#39; # 字\r\n");
  EXPECT_EQ(report::html_escape(std::string("a\0b\x1b[0m\x7f", 8)), "a\uFFFDb\uFFFD[0m\uFFFD");
  EXPECT_EQ(report::html_escape("\xff ok \xe2\x82"), "\uFFFD ok \uFFFD\uFFFD");  // not UTF-8; a cut sequence
  EXPECT_EQ(report::html_escape("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");           // a surrogate is not UTF-8 either
}

std::string steps_text(const std::vector<report::DiffStep>& steps) {
  std::string text;
  for (const auto& s : steps)
    text += s.kind == DiffKind::both     ? " =" + std::to_string(s.a) + std::to_string(s.b)
            : s.kind == DiffKind::only_a ? " -" + std::to_string(s.a)
                                         : " +" + std::to_string(s.b);
  return text;
}

TEST(LineDiff, SplitsLinesAsAnEditorShowsThem) {
  EXPECT_EQ(report::split_lines(""), std::vector<std::string>{});
  EXPECT_EQ(report::split_lines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(report::split_lines("a\nb"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(report::split_lines("\n\nc"), (std::vector<std::string>{"", "", "c"}));
}

TEST(LineDiff, KeepsALongestCommonSubsequenceAndPairsChangedLinesSideBySide) {
  std::vector<std::string> chosen = {"def f(x):", "    y = x + 1", "    return y"};
  std::vector<std::string> rejected = {"def f(x):", "    y = x - 1", "    print(y)", "    return y"};
  auto steps = report::diff_lines(chosen, rejected);
  EXPECT_EQ(steps_text(steps), " =00 -1 +1 +2 =23");
  auto rows = report::side_by_side(steps);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_FALSE(rows[0].changed);
  EXPECT_TRUE(rows[1].changed && rows[1].a == 1 && rows[1].b == 1);
  EXPECT_TRUE(rows[2].changed && rows[2].a == report::SideBySideRow::none && rows[2].b == 2);
  EXPECT_TRUE(!rows[3].changed && rows[3].a == 2 && rows[3].b == 3);

  // The LCS of "abcbdab" and "bdcaba" has 4 lines; every line of both appears once, in order.
  std::vector<std::string> a = {"a", "b", "c", "b", "d", "a", "b"}, b = {"b", "d", "c", "a", "b", "a"};
  steps = report::diff_lines(a, b);
  size_t common = 0, next_a = 0, next_b = 0;
  for (const auto& s : steps) {
    if (s.kind != DiffKind::only_b) {
      EXPECT_EQ(s.a, next_a++);
    }
    if (s.kind != DiffKind::only_a) {
      EXPECT_EQ(s.b, next_b++);
    }
    if (s.kind == DiffKind::both) {
      EXPECT_EQ(a[s.a], b[s.b]);
      ++common;
    }
  }
  EXPECT_EQ(common, 4u);
  EXPECT_EQ(next_a, a.size());
  EXPECT_EQ(next_b, b.size());

  EXPECT_EQ(steps_text(report::diff_lines({}, {"x"})), " +0");
  EXPECT_EQ(steps_text(report::diff_lines({"x", "y"}, {})), " -0 -1");
  // Beyond the cell budget the middle is not searched: common ends still match.
  EXPECT_EQ(steps_text(report::diff_lines({"s", "a", "b", "e"}, {"s", "b", "a", "e"}, 3)), " =00 -1 -2 +1 +2 =33");
}

TEST(WilsonInterval, MatchesHandComputedValues) {
  // 8 of 10: p = 0.8, z = 1.96: centre (0.8 + 0.19207) / 1.38415 = 0.71673, half-width
  // 1.96 * sqrt(0.016 + 0.009604) / 1.38415 = 0.22658.
  report::Interval ci = report::wilson_interval(8, 10);
  EXPECT_NEAR(ci.low, 0.4902, 1e-4);
  EXPECT_NEAR(ci.high, 0.9433, 1e-4);
  ci = report::wilson_interval(0, 10);  // [0, z^2 / (n + z^2)]
  EXPECT_DOUBLE_EQ(ci.low, 0);
  EXPECT_NEAR(ci.high, 0.2775, 1e-4);
  ci = report::wilson_interval(10, 10);
  EXPECT_NEAR(ci.low, 0.7225, 1e-4);
  EXPECT_DOUBLE_EQ(ci.high, 1);
  ci = report::wilson_interval(0, 0);
  EXPECT_EQ(std::make_pair(ci.low, ci.high), std::make_pair(0.0, 1.0));
}

// The screenshot check decodes PNG itself: a 5x5 RGB image whose rows use each of PNG's five
// filters, white but for 5 pixels of 3 colours, decodes to exactly those counts.
TEST(Screenshot, DecodesEveryRowFilter) {
  const int w = 5, h = 5;
  std::vector<uint8_t> pixels(w * h * 3, 255);
  auto set = [&](int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t* p = &pixels[(y * w + x) * 3];
    p[0] = r, p[1] = g, p[2] = b;
  };
  set(1, 0, 200, 10, 10), set(2, 1, 10, 200, 10), set(3, 2, 10, 200, 10), set(0, 3, 10, 10, 200), set(4, 4, 200, 10, 10);
  std::string raw;
  for (int y = 0; y < h; ++y) {
    int filter = y;  // none, sub, up, average, paeth
    raw += char(filter);
    for (int x = 0; x < w * 3; ++x) {
      int v = pixels[y * w * 3 + x], a = x >= 3 ? pixels[y * w * 3 + x - 3] : 0, b = y ? pixels[(y - 1) * w * 3 + x] : 0,
          c = x >= 3 && y ? pixels[(y - 1) * w * 3 + x - 3] : 0;
      int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      int predictor[] = {0, a, b, (a + b) / 2, pa <= pb && pa <= pc ? a : pb <= pc ? b : c};
      raw += char(uint8_t(v - predictor[filter]));
    }
  }
  std::string compressed(compressBound(raw.size()), '\0');
  uLongf size = compressed.size();
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(compressed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                     raw.size()), Z_OK);
  compressed.resize(size);
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string out;
    for (int shift : {24, 16, 8, 0}) out += char(uint8_t(data.size() >> shift));
    return out + type + data + std::string(4, '\0');  // the CRC is not checked
  };
  std::string ihdr = {0, 0, 0, char(w), 0, 0, 0, char(h), 8, 2, 0, 0, 0};
  TempDir dir;
  write_text(dir.path + "/x.png", "\x89PNG\r\n\x1a\n" + chunk("IHDR", ihdr) + chunk("IDAT", compressed) + chunk("IEND", ""));
  Screenshot shot = decode_screenshot(dir.path + "/x.png");
  ASSERT_EQ(shot.error, "");
  EXPECT_EQ(shot.width, 5);
  EXPECT_EQ(shot.height, 5);
  EXPECT_DOUBLE_EQ(shot.not_background, 5.0 / 25);
  EXPECT_EQ(shot.colors, 4u);
  write_text(dir.path + "/x.png", "GIF89a");
  EXPECT_EQ(decode_screenshot(dir.path + "/x.png").error, "not a PNG file");
}

// ---- A whole report ------------------------------------------------------------------------

// One round of DPO on two tasks: four executed samples, two pairs, two training steps, in the
// files align writes (pipeline/pipeline.h, docs/FORMATS.md).
class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = dir_.path + "/run";
    for (const char* stage : {"round-0/eval/eval", "round-1/shared/sample", "round-1/shared/execute",
                              "round-1/shared/preferences", "round-1/dpo/train", "round-1/dpo/eval/eval"})
      fs::create_directories(run_ + "/" + stage);
    write_text(run_ + "/config.toml", "model=\"/models/tiny\"\ntrain-tasks=\"train.jsonl\"\nmethod=[\"dpo\"]\n"
                                      "rounds=1\nseed=7\ntrain-seed=42\n");
    write_text(run_ + "/settings.json",
               R"({"model": "/models/tiny", "train_tasks": "train.jsonl", "methods": ["dpo"], "rounds": 1,
                   "eval_sets": ["eval", "mbpp:test"], "seeds": {"sampling": 7, "dpo_data_order": 42}})");
    Json eval0 = {{"tasks", 10}, {"samples", 10}, {"verdicts", {{"passed", 8}, {"failed", 2}}}, {"base", {{"pass@1", 0.8}}}};
    Json eval1 = {{"tasks", 10}, {"samples", 10}, {"verdicts", {{"passed", 9}, {"failed", 1}}}, {"base", {{"pass@1", 0.9}}}};
    Json sampled = {{"tasks", 10}, {"samples", 40}, {"base", {{"pass@1", 0.875}, {"pass@2", 0.95}}}};
    Json summary = {{"methods", {"dpo"}},
                    {"train_tasks", "train.jsonl"},
                    {"rounds",
                     {{{"round", 0}, {"eval", {{"eval", eval0}}}},
                      {{"round", 1},
                       {"samples", {{"shared", {{"pairs", 2}}}}},
                       {"methods",
                        {{"dpo",
                          {{"examples", 2},
                           {"metrics", {{"loss", 0.6}}},
                           {"model", "round-1/dpo/train"},
                           {"eval", {{"eval", eval1}}},
                           {"eval_sampled", {{"eval", sampled}}}}}}}}}}};
    write_text(run_ + "/summary.json", summary.dump(2) + "\n");

    struct Sample {
      const char *task, *completion, *verdict, *error_type, *message;
    };
    const Sample samples[] = {{"t/0", " fine\n", "passed", "", ""},
                              {"t/0", " oops\n)\n", "syntax_error", "SyntaxError", "unmatched ')'"},
                              {"t/1", "\nreturn x\n", "passed", "", ""},
                              {"t/1", "\nreturn 1/0 # </pre><script>alert(1)</script>\n", "runtime_error",
                               "ZeroDivisionError", "division by zero <b>"}};
    std::string samples_text, results_text;
    for (const Sample& s : samples) {
      samples_text += Json{{"task_id", s.task}, {"completion", s.completion}, {"completion_ids", {1, 2}}}.dump() + "\n";
      bool passed = std::string(s.verdict) == "passed";
      results_text += Json{{"task_id", s.task}, {"completion", s.completion}, {"result", passed ? "passed" : "failed: x"},
                           {"passed", passed}, {"verdict", s.verdict}, {"error_type", s.error_type},
                           {"message", s.message}, {"tests_passed", passed ? 2 : 0}, {"tests_total", 2},
                           {"tests_unprotected", s.task == std::string("t/1") ? 1 : 0}, {"wall_time", 0.01}}.dump() + "\n";
    }
    write_text(run_ + "/round-1/shared/sample/samples.jsonl", samples_text);
    write_text(run_ + "/round-1/shared/execute/results.jsonl", results_text);
    std::string pairs;
    for (int i : {0, 2})
      pairs += Json{{"prompt", "def f(x):\n"}, {"chosen", samples[i].completion}, {"rejected", samples[i + 1].completion},
                    {"task_id", samples[i].task}, {"chosen_verdict", "passed"},
                    {"rejected_verdict", samples[i + 1].verdict}, {"chosen_score", 2.0},
                    {"rejected_score", i == 0 ? 0.0 : 0.03}, {"round", 1}, {"model", "/models/tiny"}}.dump() + "\n";
    write_text(run_ + "/round-1/shared/preferences/pairs.jsonl", pairs);
    write_text(run_ + "/round-1/shared/preferences/stage.json",
               R"({"samples": 4, "tasks": 2, "tasks_mixed": 2, "tasks_all_pass": 0, "tasks_none_pass": 0, "pairs": 2,
                   "mean_score_gap": 1.985, "rft_examples": 2})");
    write_text(run_ + "/round-1/dpo/train/metrics.jsonl",
               R"({"loss": 0.6931, "rewards/chosen": 0, "rewards/rejected": 0, "rewards/accuracies": 0, "rewards/margins": 0, "grad_norm": 1.5, "learning_rate": 1e-06, "step": 1, "epoch": 0.5})" "\n"
               R"({"loss": 0.6, "rewards/chosen": 0.1, "rewards/rejected": -0.1, "rewards/accuracies": 1, "rewards/margins": 0.2, "grad_norm": 1.2, "learning_rate": 5e-07, "step": 2, "epoch": 1})" "\n");
    write_text(run_ + "/round-1/dpo/train/stage.json", R"({"examples": 2})");
    write_text(run_ + "/timeline.jsonl",
               R"j({"event": "start", "version": "codealign 9.9.9 (test)", "resume": false, "time": "2024-05-01T12:00:00Z"})j" "\n"
               R"j({"event": "stage", "stage": "round-0/eval/eval", "seconds": 3.5, "time": "2024-05-01T12:00:04Z"})j" "\n"
               R"j({"event": "stage", "stage": "round-1/shared/sample", "seconds": 75, "time": "2024-05-01T12:01:19Z"})j" "\n"
               R"j({"event": "stage", "stage": "round-1/dpo/train", "seconds": 20, "time": "2024-05-01T12:01:39Z"})j" "\n"
               R"j({"event": "end", "total_seconds": 99.5, "time": "2024-05-01T12:01:40Z"})j" "\n"
               R"j({"event": "start", "vers)j");  // a line a kill cut short
  }

  TempDir dir_;
  std::string run_;
};

bool has(const std::string& html, const std::string& text) { return html.find(text) != std::string::npos; }

TEST_F(Report, HoldsEverySectionWithTheRunsNumbers) {
  report::Options options;
  options.generator = "codealign test";
  std::string html = report::render_report(run_, options);
  // The outcome mix counts the samples whose verdict rests on tests run in the program's process.
  size_t unprotected = html.find("data-cell=\"unprotected/");
  ASSERT_NE(unprotected, std::string::npos);
  EXPECT_EQ(html.substr(html.find("\">", unprotected) + 2, 6), "2</td>");
  for (const char* section : {"id=\"headline\"", "id=\"training\"", "id=\"outcomes\"", "id=\"pairs\"", "id=\"inspector\"",
                              "id=\"provenance\""})
    EXPECT_TRUE(has(html, section)) << section;
  // pass@1 with its Wilson interval: 8/10 -> [0.490, 0.943], 9/10 -> [0.596, 0.982].
  EXPECT_TRUE(has(html, "data-cell=\"round-0/start/eval/eval/base/pass@1\" data-value=\"0.8\">0.800 "
                        "<span class=\"ci\">[0.490, 0.943]</span>"));
  EXPECT_TRUE(has(html, "data-cell=\"round-1/dpo/eval/eval/base/pass@1\" data-value=\"0.9\">0.900 "
                        "<span class=\"ci\">[0.596, 0.982]</span>"));
  EXPECT_TRUE(has(html, "data-cell=\"round-1/dpo/eval_sampled/eval/base/pass@2\" data-value=\"0.95\">0.950 "));
  EXPECT_TRUE(has(html, "Wilson score interval"));
  EXPECT_TRUE(has(html, "+10.0 points; the 95% intervals overlap, so this is no clear difference"));
  // Training curves and the last metrics; the outcome mix; pair statistics.
  EXPECT_TRUE(has(html, "aria-label=\"dpo: rewards/margins\""));
  EXPECT_TRUE(has(html, "aria-label=\"dpo: learning rate\""));
  EXPECT_TRUE(has(html, "<td>round 1 · dpo</td><td class=\"num\">2</td><td class=\"num\">0.6931</td><td class=\"num\">0.6</td>"));
  EXPECT_TRUE(has(html, "round 1 · shared (4): syntax_error 1 (25.0%)"));
  EXPECT_TRUE(has(html, "<td class=\"num\">1.00, 1</td><td class=\"num\">1.985, 1.985</td>"));
  // Configuration and provenance, the unreadable timeline line said so.
  EXPECT_TRUE(has(html, "<th>run made by</th><td>codealign 9.9.9 (test)</td>"));
  EXPECT_TRUE(has(html, "<th>report written by</th><td>codealign test</td>"));
  EXPECT_TRUE(has(html, "<th>model</th><td>/models/tiny</td>"));
  EXPECT_TRUE(has(html, "<th>seed (dpo_data_order)</th><td>42</td>"));
  EXPECT_TRUE(has(html, "<th>evaluation sets</th><td>eval, mbpp:test</td>"));
  EXPECT_TRUE(has(html, "<td>sample</td><td class=\"num\">1 min 15 s</td>"));
  EXPECT_TRUE(has(html, "1 line(s) of timeline.jsonl did not parse"));
  EXPECT_TRUE(has(html, "<pre class=\"config\">model=&quot;/models/tiny&quot;"));
  // Self-contained: nothing is fetched.
  for (const char* external : {"http://", "https://", "src=", "<link", "@import", "url("})
    EXPECT_FALSE(has(html, external)) << external;
}

TEST_F(Report, PairInspectorEscapesTextMarksDifferingLinesAndShowsOutcomes) {
  std::string html = report::render_report(run_);
  EXPECT_FALSE(has(html, "<script>alert(1)")) << "a program's text must not become markup";
  EXPECT_TRUE(has(html, "<td class=\"code only-rejected\">return 1/0 # &lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  EXPECT_TRUE(has(html, "<td class=\"code only-chosen\">return x</td>"));
  EXPECT_TRUE(has(html, "<td class=\"ln\">1</td><td class=\"code\"></td>")) << "the common empty first line";
  EXPECT_TRUE(has(html, "<pre class=\"msg\">ZeroDivisionError: division by zero &lt;b&gt;</pre>"));
  EXPECT_TRUE(has(html, "<pre class=\"msg\">SyntaxError: unmatched &#39;)&#39;</pre>"));
  EXPECT_TRUE(has(html, "data-set=\"round-1/shared\" data-task=\"t/1\" data-chosen=\"passed\" data-rejected=\"runtime_error\""));
  EXPECT_TRUE(has(html, "Showing <b>2 of 2</b> pairs."));

  report::Options one_pair;
  one_pair.max_pairs = 1;
  html = report::render_report(run_, one_pair);
  EXPECT_TRUE(has(html, "Showing <b>1 of 2</b> pairs (a report shows at most 1"));
  EXPECT_EQ(html.find("data-task=\"t/1\" data-chosen"), std::string::npos) << "the first pair only";
}

TEST_F(Report, AnUnfinishedRunGetsAPageOfWhatItHas) {
  fs::remove(run_ + "/summary.json");
  fs::remove(run_ + "/timeline.jsonl");
  std::string html = report::render_report(run_);
  EXPECT_TRUE(has(html, "summary.json is missing: the run has not finished"));
  EXPECT_TRUE(has(html, "This run has no timeline.jsonl"));
  EXPECT_TRUE(has(html, "id=\"inspector\""));
}

TEST_F(Report, BrokenOrMissingFilesAreNamed) {
  auto message = [&](const std::string& dir) {
    try {
      report::render_report(dir);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(dir_.path + "/none"), "report: run directory '" + dir_.path + "/none' does not exist");
  fs::create_directories(dir_.path + "/empty");
  EXPECT_EQ(message(dir_.path + "/empty"), "report: '" + dir_.path + "/empty' is not a run directory of codealign "
                                           "align (no summary.json, config.toml or round-0/)");
  write_text(run_ + "/round-1/shared/preferences/pairs.jsonl", "{\"prompt\": \"x\"}\n{oops\n");
  EXPECT_EQ(message(run_), run_ + "/round-1/shared/preferences/pairs.jsonl:2: invalid JSON");
  write_text(run_ + "/round-1/shared/execute/results.jsonl", "{\"task_id\": \"t/0\"}\n");
  EXPECT_EQ(message(run_), "report: '" + run_ + "/round-1/shared/execute/results.jsonl' has 1 results for the 4 "
                           "samples of '" + run_ + "/round-1/shared/sample/samples.jsonl'");
}

TEST_F(Report, CommandWritesTheFileAndNamesIt) {
  CommandResult result = run_codealign("report " + run_);
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output, "report: " + run_ + "/report.html\n");
  std::string html = read_file(run_ + "/report.html");
  EXPECT_TRUE(has(html, "<th>report written by</th><td>codealign ")) << "the binary's version";
  result = run_codealign("report " + run_ + " --out " + dir_.path + "/elsewhere.html --max-pairs 1");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_TRUE(has(read_file(dir_.path + "/elsewhere.html"), "Showing <b>1 of 2</b>"));
  result = run_codealign("report " + dir_.path + "/none");
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.output, "codealign: error: report: run directory '" + dir_.path + "/none' does not exist\n");
  result = run_codealign("report " + run_ + " --out " + dir_.path + "/no/such/dir/r.html");
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(has(result.output, "codealign: error: io: cannot open '" + dir_.path + "/no/such/dir/r.html.tmp.")) << result.output;
}

}  // namespace
}  // namespace codealign::testing
