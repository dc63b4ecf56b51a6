// `codealign report`: the HTML report of a run directory of `codealign align` (report/report.h).
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "report/report.h"

extern const char* const codealign_version;

namespace codealign::cli {

Command add_report_command(CLI::App& app) {
  struct Options {
    std::string run_dir, out;
    report::Options report;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "report", "Write one self-contained HTML page about an align run: pass@k, training curves, outcomes, pairs");
  sub->add_option("run_dir", o->run_dir, "Run directory of codealign align (its --out)")->required();
  sub->add_option("-o,--out", o->out, "HTML file to write (default: RUN_DIR/report.html)");
  sub->add_option("--max-pairs", o->report.max_pairs, "Pairs shown in the pair inspector at most")
      ->capture_default_str()
      ->check(at_least(0));
  sub->add_option("--max-lines", o->report.max_lines, "Lines of a program or prompt shown at most")
      ->capture_default_str()
      ->check(at_least(1));
  return [o] {
    std::string out = o->out.empty() ? (std::filesystem::path(o->run_dir) / "report.html").string() : o->out;
    o->report.generator = codealign_version;
    report::write_report(o->run_dir, out, o->report);
    std::cout << "report: " << out << "\n";
    return exit_ok;
  };
}

}  // namespace codealign::cli
