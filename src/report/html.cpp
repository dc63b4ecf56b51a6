// Escaping, number formats and the inline SVG charts of the report.
#include "report/html.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace codealign::report {
namespace {

const char* const replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 sequence at text[i] and its code point, or 0 if it is not one.
size_t utf8_sequence(std::string_view text, size_t i, unsigned& code) {
  unsigned char c = text[i];
  size_t extra;
  unsigned min;
  if (c < 0x80) {
    code = c;
    return 1;
  }
  if ((c & 0xE0) == 0xC0) extra = 1, min = 0x80, code = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) extra = 2, min = 0x800, code = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) extra = 3, min = 0x10000, code = c & 0x07;
  else return 0;
  if (i + extra >= text.size()) return 0;
  for (size_t k = 1; k <= extra; ++k) {
    unsigned char d = text[i + k];
    if ((d & 0xC0) != 0x80) return 0;
    code = (code << 6) | (d & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return extra + 1;
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// SVG coordinates: one decimal is finer than a pixel.
std::string px(double value) { return format("%.1f", value); }

// Rounded tick positions covering [low, high]: steps of 1, 2 or 5 times a power of ten.
std::vector<double> ticks(double low, double high, int wanted, bool integer) {
  double raw = (high - low) / std::max(1, wanted);
  double power = std::pow(10.0, std::floor(std::log10(raw > 0 ? raw : 1.0)));
  double step = power;
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (factor * power >= raw) {
      step = factor * power;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  std::vector<double> values;
  for (double v = std::ceil(low / step - 1e-9) * step; v <= high + step * 1e-9; v += step)
    values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return values;
}

struct Range {
  double low = INFINITY, high = -INFINITY;
  void add(double v) {
    if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v);
  }
  // An empty or single-valued range widened so that it can be drawn; `pad` adds that fraction.
  void settle(double pad) {
    if (!std::isfinite(low)) low = 0, high = 1;
    if (high - low < 1e-12) {
      double half = std::max(std::abs(low) * 0.1, 0.5);
      low -= half, high += half;
    } else {
      double margin = (high - low) * pad;
      low -= margin, high += margin;
    }
  }
};

std::string svg_open(int width, int height, const std::string& label) {
  return "<svg class=\"chart\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" role=\"img\" aria-label=\"" + html_escape(label) + "\"><title>" + html_escape(label) + "</title>";
}

std::string text(double x, double y, const std::string& content, const char* anchor = "start",
                 const char* css_class = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" +
         (*css_class ? std::string(" class=\"") + css_class + "\"" : "") + ">" + html_escape(content) + "</text>";
}

// Legend entries laid out in rows of `width`; returns the markup and adds its height to `height`.
std::string legend(const std::vector<std::pair<std::string, std::string>>& entries, double top, int width,
                   int& height) {
  std::string out;
  double x = 8, y = top + 12;
  for (const auto& [label, color] : entries) {
    double w = 22 + 6.5 * double(label.size());
    if (x + w > width && x > 8) x = 8, y += 16;
    out += "<rect x=\"" + px(x) + "\" y=\"" + px(y - 9) + "\" width=\"12\" height=\"10\" fill=\"" + color + "\"/>";
    out += text(x + 16, y, label, "start", "legend");
    x += w + 10;
  }
  height = int(y + 8);
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t i = 0; i < text.size();) {
    unsigned code;
    size_t length = utf8_sequence(text, i, code);
    if (length == 0) {  // a byte that starts no UTF-8 sequence
      out += replacement;
      ++i;
      continue;
    }
    switch (code) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((code < 0x20 && code != '\t' && code != '\n' && code != '\r') || (code >= 0x7F && code < 0xA0))
          out += replacement;
        else
          out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string format_fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_short(double value) {
  if (std::isnan(value)) return "-";
  return format("%.4g", value);
}

std::string format_seconds(double seconds) {
  if (std::isnan(seconds)) return "-";
  char text[64];
  if (seconds < 60) std::snprintf(text, sizeof text, "%.1f s", seconds);
  else if (seconds < 3600) std::snprintf(text, sizeof text, "%d min %02d s", int(seconds / 60), int(seconds) % 60);
  else std::snprintf(text, sizeof text, "%d h %02d min", int(seconds / 3600), int(seconds / 60) % 60);
  return text;
}

std::string palette(size_t i) {
  static const char* const colors[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                                       "#7A6A00", "#004D80", "#8F5E00", "#006B4F", "#8C3B6F", "#555555"};
  return colors[i % (sizeof colors / sizeof colors[0])];
}

std::string line_chart(const std::vector<ChartSeries>& series, const ChartOptions& o) {
  const double left = 62, right = 14, top = 26, bottom = 38;
  Range xs, ys;
  for (const ChartSeries& s : series)
    for (const ChartPoint& p : s.points) {
      xs.add(p.x);
      ys.add(p.y);
      ys.add(p.low);
      ys.add(p.high);
    }
  bool empty = !std::isfinite(xs.low);
  xs.settle(0.04);
  ys.settle(0.06);
  if (!std::isnan(o.y_min)) ys.low = o.y_min;
  if (!std::isnan(o.y_max)) ys.high = o.y_max;
  double plot_w = o.width - left - right, plot_h = o.height - top - bottom;
  auto X = [&](double x) { return left + (x - xs.low) / (xs.high - xs.low) * plot_w; };
  auto Y = [&](double y) { return top + (1 - (y - ys.low) / (ys.high - ys.low)) * plot_h; };

  std::string body;
  body += text(left, 16, o.title, "start", "chart-title");
  for (double t : ticks(ys.low, ys.high, 4, false)) {
    body += "<line class=\"grid\" x1=\"" + px(left) + "\" x2=\"" + px(left + plot_w) + "\" y1=\"" + px(Y(t)) +
            "\" y2=\"" + px(Y(t)) + "\"/>";
    body += text(left - 6, Y(t) + 4, format_short(t), "end", "tick");
  }
  for (double t : ticks(xs.low, xs.high, 5, o.integer_x)) {
    body += "<line class=\"axis\" x1=\"" + px(X(t)) + "\" x2=\"" + px(X(t)) + "\" y1=\"" + px(top + plot_h) +
            "\" y2=\"" + px(top + plot_h + 4) + "\"/>";
    body += text(X(t), top + plot_h + 16, format_short(t), "middle", "tick");
  }
  body += "<rect class=\"frame\" x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(plot_w) + "\" height=\"" +
          px(plot_h) + "\"/>";
  body += text(left + plot_w / 2, o.height - 6, o.x_label, "middle", "axis-label");
  if (empty) body += text(left + plot_w / 2, top + plot_h / 2, "no data", "middle", "tick");

  std::vector<std::pair<std::string, std::string>> entries;
  for (const ChartSeries& s : series) {
    entries.emplace_back(s.label, s.color);
    std::string points;
    for (const ChartPoint& p : s.points) points += px(X(p.x)) + "," + px(Y(p.y)) + " ";
    if (s.points.size() > 1)
      body += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.6\" points=\"" + points + "\"/>";
    for (const ChartPoint& p : s.points) {
      std::string tip = !p.tip.empty() ? p.tip
                        : s.label + ": " + o.x_label + " " + format_short(p.x) + ", " + o.y_label + " " + format_short(p.y);
      if (std::isfinite(p.low) && std::isfinite(p.high)) {
        if (p.tip.empty()) tip += " [" + format_short(p.low) + ", " + format_short(p.high) + "]";
        double x = X(p.x);
        body += "<path stroke=\"" + s.color + "\" stroke-width=\"1.2\" fill=\"none\" d=\"M" + px(x) + " " + px(Y(p.low)) +
                "V" + px(Y(p.high)) + "M" + px(x - 4) + " " + px(Y(p.low)) + "h8M" + px(x - 4) + " " + px(Y(p.high)) +
                "h8\"/>";
      }
      body += "<circle cx=\"" + px(X(p.x)) + "\" cy=\"" + px(Y(p.y)) + "\" r=\"" + (s.points.size() > 60 ? "1.5" : "3") +
              "\" fill=\"" + s.color + "\"><title>" + html_escape(tip) + "</title></circle>";
    }
  }
  int height = o.height;
  body += legend(entries, o.height, o.width, height);
  // The y label runs along the axis.
  body += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(12," + px(top + plot_h / 2) +
          ") rotate(-90)\">" + html_escape(o.y_label) + "</text>";
  return svg_open(o.width, height, o.title) + body + "</svg>";
}

std::string stacked_bars(const std::vector<StackedBar>& bars, int width) {
  const double label_w = 190, row_h = 26, bar_h = 18;
  double bar_w = width - label_w - 12;
  std::string body;
  std::vector<std::pair<std::string, std::string>> entries;
  double y = 6;
  for (const StackedBar& bar : bars) {
    double total = 0;
    for (const BarSegment& s : bar.segments) total += s.value;
    body += text(label_w - 8, y + 13, bar.label, "end", "bar-label");
    double x = label_w;
    for (const BarSegment& s : bar.segments) {
      if (std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == s.label; }) == entries.end())
        entries.emplace_back(s.label, s.color);
      if (s.value <= 0 || total <= 0) continue;
      double w = s.value / total * bar_w;
      body += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(bar_h) +
              "\" fill=\"" + s.color + "\"><title>" + html_escape(bar.label + ": " + s.label + " " + format_short(s.value) +
              " (" + format_fixed(100 * s.value / total, 1) + "%)") + "</title></rect>";
      if (w > 30) body += text(x + w / 2, y + 13, format_short(s.value), "middle", "bar-count");
      x += w;
    }
    if (total <= 0) body += text(label_w + 4, y + 13, "no samples", "start", "tick");
    y += row_h;
  }
  int height = 0;
  body += legend(entries, y, width, height);
  return svg_open(width, height, "outcome mix") + body + "</svg>";
}

std::string histogram(const std::vector<HistogramBin>& bins, const ChartOptions& o) {
  const double left = 44, right = 10, top = 26, bottom = 40;
  double plot_w = o.width - left - right, plot_h = o.height - top - bottom;
  double most = 0;
  for (const HistogramBin& b : bins) most = std::max(most, b.count);
  // The axis ends at the first tick at or above the tallest bar.
  std::vector<double> y_ticks = ticks(0, std::max(1.0, most), 4, true);
  double step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  while (y_ticks.back() < most) y_ticks.push_back(y_ticks.back() + step);
  double y_high = y_ticks.back();
  auto Y = [&](double v) { return top + (1 - v / y_high) * plot_h; };
  std::string body = text(left, 16, o.title, "start", "chart-title");
  for (double t : y_ticks) {
    body += "<line class=\"grid\" x1=\"" + px(left) + "\" x2=\"" + px(left + plot_w) + "\" y1=\"" + px(Y(t)) +
            "\" y2=\"" + px(Y(t)) + "\"/>";
    body += text(left - 6, Y(t) + 4, format_short(t), "end", "tick");
  }
  double slot = bins.empty() ? plot_w : plot_w / double(bins.size());
  size_t label_every = std::max<size_t>(1, size_t(std::ceil(36.0 / std::max(slot, 1.0))));
  for (size_t i = 0; i < bins.size(); ++i) {
    double x = left + slot * double(i);
    if (bins[i].count > 0)
      body += "<rect class=\"bar\" x=\"" + px(x + 1) + "\" y=\"" + px(Y(bins[i].count)) + "\" width=\"" +
              px(std::max(1.0, slot - 2)) + "\" height=\"" + px(top + plot_h - Y(bins[i].count)) + "\"><title>" +
              html_escape(bins[i].label + ": " + format_short(bins[i].count)) + "</title></rect>";
    if (i % label_every == 0) body += text(x + slot / 2, top + plot_h + 14, bins[i].label, "middle", "tick");
  }
  body += "<rect class=\"frame\" x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(plot_w) + "\" height=\"" +
          px(plot_h) + "\"/>";
  body += text(left + plot_w / 2, o.height - 6, o.x_label, "middle", "axis-label");
  body += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(12," + px(top + plot_h / 2) +
          ") rotate(-90)\">" + html_escape(o.y_label) + "</text>";
  return svg_open(o.width, o.height, o.title) + body + "</svg>";
}

}  // namespace codealign::report
