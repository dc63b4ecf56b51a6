#include "report/browser.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <unordered_set>

#include "common/files.h"
#include "common/jsonl.h"
#include "support/test_support.h"

namespace codealign::testing {
namespace {

uint32_t big_endian(const std::string& bytes, size_t at) {
  return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
         uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
}

int paeth(int a, int b, int c) {
  int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

std::string quote(const std::string& text) { return "'" + text + "'"; }

}  // namespace

Screenshot decode_screenshot(const std::string& png_path) {
  Screenshot shot;
  if (!std::filesystem::exists(png_path)) return {0, 0, 0, 0, "no screenshot at '" + png_path + "'"};
  std::string png = read_file(png_path), idat;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return {0, 0, 0, 0, "not a PNG file"};
  int depth = 0, color_type = 0, interlace = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    uint32_t length = big_endian(png, at);
    std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) return {0, 0, 0, 0, "PNG chunk '" + type + "' runs past the end"};
    if (type == "IHDR") {
      shot.width = int(big_endian(png, at + 8));
      shot.height = int(big_endian(png, at + 12));
      depth = uint8_t(png[at + 16]);
      color_type = uint8_t(png[at + 17]);
      interlace = uint8_t(png[at + 20]);
    } else if (type == "IDAT") {
      idat.append(png, at + 8, length);
    }
    at += 12 + length;
  }
  if (depth != 8 || (color_type != 2 && color_type != 6) || interlace != 0)
    return {0, 0, 0, 0, "PNG is not 8-bit RGB/RGBA without interlacing (depth " + std::to_string(depth) +
                            ", colour type " + std::to_string(color_type) + ")"};
  size_t channels = color_type == 6 ? 4 : 3, stride = size_t(shot.width) * channels;
  std::string raw(size_t(shot.height) * (stride + 1), '\0');
  uLongf raw_size = raw.size();
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_size != raw.size())
    return {0, 0, 0, 0, "PNG image data does not inflate to " + std::to_string(raw.size()) + " bytes"};
  // Undo each row's filter (PNG spec, section 9) in place.
  std::vector<uint8_t> pixels(size_t(shot.height) * stride), zero(stride, 0);
  for (int y = 0; y < shot.height; ++y) {
    const uint8_t* in = reinterpret_cast<const uint8_t*>(raw.data()) + size_t(y) * (stride + 1);
    uint8_t* out = pixels.data() + size_t(y) * stride;
    const uint8_t* up = y ? out - stride : zero.data();
    for (size_t x = 0; x < stride; ++x) {
      int a = x >= channels ? out[x - channels] : 0, b = up[x], c = x >= channels ? up[x - channels] : 0;
      int predictor = in[0] == 0 ? 0 : in[0] == 1 ? a : in[0] == 2 ? b : in[0] == 3 ? (a + b) / 2 : paeth(a, b, c);
      if (in[0] > 4) return {0, 0, 0, 0, "PNG row " + std::to_string(y) + " has unknown filter " + std::to_string(in[0])};
      out[x] = uint8_t(in[1 + x] + predictor);
    }
  }
  std::map<uint32_t, size_t> counts;
  std::unordered_set<uint32_t> colors;
  for (size_t p = 0; p < size_t(shot.width) * size_t(shot.height); ++p) {
    const uint8_t* px = pixels.data() + p * channels;
    uint32_t rgb = uint32_t(px[0]) << 16 | uint32_t(px[1]) << 8 | px[2];
    ++counts[rgb];
    if (colors.size() < 100000) colors.insert(rgb);
  }
  size_t background = 0;
  for (const auto& [rgb, n] : counts) background = std::max(background, n);
  double total = double(shot.width) * double(shot.height);
  shot.not_background = total > 0 ? 1.0 - double(background) / total : 0;
  shot.colors = colors.size();
  return shot;
}

BrowserResult render_in_chromium(const std::string& html_path, int width, int height, int timeout_s) {
  BrowserResult result;
  if (run_command("command -v chromium >/dev/null 2>&1").status != 0) {
    result.error = "chromium is not installed (hint: scripts/setup.sh installs Debian's chromium)";
    return result;
  }
  TempDir dir;
  std::string url = "file://" + std::filesystem::absolute(html_path).string();
  std::string common = "timeout -k 5 " + std::to_string(timeout_s) + " chromium --headless --no-sandbox --disable-gpu " +
                       "--no-first-run --no-default-browser-check --disable-extensions --hide-scrollbars " +
                       "--window-size=" + std::to_string(width) + "," + std::to_string(height);
  // One run writes the screenshot and prints the DOM (after the page's scripts ran).
  auto start = std::chrono::steady_clock::now();
  std::string png = dir.path + "/page.png";
  CommandResult run = run_command(common + " --user-data-dir=" + quote(dir.path + "/profile") + " --screenshot=" +
                                  quote(png) + " --dump-dom " + quote(url) + " 2>" + quote(dir.path + "/chromium.log"));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (run.status != 0) {
    bool hung = run.status == 124 || run.status == 137;
    result.error = (hung ? "chromium did not finish within " + std::to_string(timeout_s) + " s"
                         : "chromium failed with exit status " + std::to_string(run.status)) +
                   ": " + read_file(dir.path + "/chromium.log").substr(0, 4000);
    return result;
  }
  result.dom = run.output;
  result.screenshot = decode_screenshot(png);
  return result;
}

void expect_report_renders(const std::string& run_dir) {
  std::string html = run_dir + "/report.html";
  ASSERT_TRUE(std::filesystem::exists(html)) << html;
  BrowserResult page = render_in_chromium(html);
  ASSERT_EQ(page.error, "");
  EXPECT_LT(page.seconds, 30) << "chromium is slow";
  const Screenshot& shot = page.screenshot;
  ASSERT_EQ(shot.error, "");
  EXPECT_EQ(shot.width, 1200);
  EXPECT_EQ(shot.height, 2000);
  // Text, tables and charts: a blank or error page has one colour, or a few and little ink.
  EXPECT_GT(shot.not_background, 0.03) << "the screenshot is nearly blank";
  EXPECT_GT(shot.colors, 50u) << "the screenshot has almost no colours: no charts?";

  for (const char* section : {"id=\"headline\"", "id=\"training\"", "id=\"outcomes\"", "id=\"pairs\"", "id=\"inspector\"",
                              "id=\"provenance\"", "<svg class=\"chart\""})
    EXPECT_NE(page.dom.find(section), std::string::npos) << section << " is not in the DOM";
  EXPECT_NE(page.dom.find("data-filter=\"ready\""), std::string::npos) << "the pair filter's script did not run";

  // Every pass@k in summary.json is a headline cell holding the same number.
  Json summary = Json::parse(read_file(run_dir + "/summary.json"));
  size_t cells = 0;
  for (const Json& round : summary["rounds"]) {
    std::vector<std::pair<std::string, const Json*>> records;
    if (round["round"] == 0) records.emplace_back("start", &round);
    else
      for (const auto& [method, record] : round["methods"].items()) records.emplace_back(method, &record);
    for (const auto& [method, record] : records)
      for (const char* evaluation : {"eval", "eval_sampled"}) {
        if (!record->contains(evaluation)) continue;
        for (const auto& [set, report] : (*record)[evaluation].items()) {
          std::string group = report.contains("plus") ? "plus" : "base";
          for (const auto& [metric, value] : report[group].items()) {
            if (std::string(evaluation) == "eval" && metric != "pass@1") continue;
            std::string key = "round-" + std::to_string(round["round"].get<int>()) + "/" + method + "/" + evaluation + "/" +
                              set + "/" + group + "/" + metric;
            char shown[32];
            std::snprintf(shown, sizeof shown, "%.3f", value.get<double>());
            std::string cell = "data-cell=\"" + key + "\" data-value=\"" + value.dump() + "\">" + shown + " ";
            EXPECT_NE(page.dom.find(cell), std::string::npos) << cell << " is not in the DOM";
            ++cells;
          }
        }
      }
  }
  EXPECT_GT(cells, 0u) << "summary.json has no pass@k";
}

}  // namespace codealign::testing
