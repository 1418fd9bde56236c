// `ptjs compare A B`: how two record files for the same inputs differ, with gates for CI.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "comparison.h"
#include "error.h"
#include "record_reader.h"
#include "report.h"

namespace ptjs {
namespace {

struct compare_options {
  std::string a, b;
  std::string max_flips;  // "N" or "P%"; empty: no gate
  double max_score_diff = -1;
  bool json = false;
  std::string report;
};

int run_compare(const compare_options& o) {
  try {
    const std::optional<flip_limit> flips =
        o.max_flips.empty() ? std::nullopt : std::optional<flip_limit>(parse_flip_limit(o.max_flips));
    const comparison c = compare_records(read_records(o.a), read_records(o.b), o.a, o.b);
    std::cout << (o.json ? comparison_json(c) : comparison_text(c)) << std::flush;
    if (!o.report.empty()) write_report(o.report, comparison_report(c, "ptjs compare: " + o.a + " vs " + o.b));
    const auto gate = [](const std::string& line) {
      std::cerr << "ptjs compare: gate failed: " << line << "\n";
      return 1;
    };
    if (flips && flips->exceeded_by(c))
      return gate(std::to_string(c.flips.size()) + " of " + std::to_string(c.common) + " inputs flipped > --max-flips " +
                  flips->text());
    if (o.max_score_diff >= 0 && c.max_score_diff > o.max_score_diff)
      return gate("score difference " + std::to_string(c.max_score_diff) + " (" + c.max_score_diff_file +
                  ") > --max-score-diff " + std::to_string(o.max_score_diff));
    return 0;
  } catch (const error& e) {
    std::cerr << "ptjs compare: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

void setup_compare(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<compare_options>();
  auto* cmd = app.add_subcommand("compare", "Compare two record files for the same inputs: agreement, flips, score differences");
  cmd->add_option("a", o->a, "Records A (JSONL or CSV from ptjs run)")->required();
  cmd->add_option("b", o->b, "Records B")->required();
  cmd->add_option("--max-flips", o->max_flips, "Fail (exit 1) when more inputs than N, or than P% of them, change their top-1 class");
  cmd->add_option("--max-score-diff", o->max_score_diff, "Fail (exit 1) when a score differs by more than X")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o->json, "Print the results as JSON");
  cmd->add_option("--report", o->report, "Also write a self-contained HTML report here");
  cmd->callback([o, &exit_code] { exit_code = run_compare(*o); });
}

}  // namespace ptjs
