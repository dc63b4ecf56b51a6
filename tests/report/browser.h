// A real browser for the report's tests: Debian's chromium, headless, renders a page to a PNG
// and dumps its DOM after the page's scripts ran. The tests fail (never skip) without chromium.
#pragma once
#include <string>

namespace codealign::testing {

// What a screenshot shows, from its decoded pixels (8-bit RGB or RGBA PNG, as chromium writes).
struct Screenshot {
  int width = 0, height = 0;
  double not_background = 0;  // fraction of pixels that differ from the most common colour
  size_t colors = 0;          // distinct colours (counted up to 100000)
  std::string error;          // why the file could not be decoded; "" when it could
};
Screenshot decode_screenshot(const std::string& png_path);

struct BrowserResult {
  std::string error;  // chromium missing, failed or hung; "" on success
  std::string dom;    // --dump-dom
  Screenshot screenshot;
  double seconds = 0;  // chromium's run
};
// Renders `html_path` with a fresh profile in a temporary directory, in one chromium run killed
// after `timeout_s` (a hung browser fails the test instead of hanging it).
BrowserResult render_in_chromium(const std::string& html_path, int width = 1200, int height = 2000, int timeout_s = 60);

// The report of `run_dir` (its report.html) in chromium: non-blank, its sections present, and
// every pass@k of summary.json in the headline, as the same number. Adds gtest failures.
void expect_report_renders(const std::string& run_dir);

}  // namespace codealign::testing
