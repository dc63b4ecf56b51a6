// Pieces of the HTML report: escaping, numbers, and the inline SVG charts (no script, no
// external resource). Private to report/.
#pragma once
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace codealign::report {

// Text for HTML element content and quoted attribute values: & < > " ' become entities,
// control characters other than tab, newline and carriage return, and bytes that are not
// UTF-8, become U+FFFD.
std::string html_escape(std::string_view text);

// "0.500" (fixed decimals); "-" for NaN.
std::string format_fixed(double value, int decimals);
// A short number for axes and tables: up to 4 significant digits ("0.6931", "1.2e-05", "250").
std::string format_short(double value);
// "1 h 02 min", "3 min 05 s", "12.3 s".
std::string format_seconds(double seconds);

// The i-th colour of a palette that stays apart on white and for the common colour blindnesses
// (Okabe-Ito, then darker shades).
std::string palette(size_t i);

// ---- Charts --------------------------------------------------------------------------------

constexpr double no_value = NAN;

struct ChartPoint {
  double x, y;
  double low = no_value, high = no_value;  // an interval drawn as a whisker, when both are set
  std::string tip = "";                    // the point's tooltip ("" for series, x and y)
};
struct ChartSeries {
  std::string label, color;
  std::vector<ChartPoint> points;  // in x order
};
struct ChartOptions {
  std::string title, x_label, y_label;
  int width = 380, height = 220;
  double y_min = no_value, y_max = no_value;  // fixed ends of the y axis (else the data's, padded)
  bool integer_x = false;                     // ticks at whole numbers only (rounds, steps)
};
// Lines with a dot at every point (so that a one-step series shows), whiskers where a point has
// an interval, axes with rounded ticks, and a legend below.
std::string line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

struct BarSegment {
  std::string label, color;
  double value;
};
struct StackedBar {
  std::string label;
  std::vector<BarSegment> segments;  // drawn left to right as fractions of their sum
};
// One horizontal 100% bar per row, counts inside the wide segments, a <title> on every segment.
std::string stacked_bars(const std::vector<StackedBar>& bars, int width);

struct HistogramBin {
  std::string label;
  double count;
};
std::string histogram(const std::vector<HistogramBin>& bins, const ChartOptions& options);

}  // namespace codealign::report
