#pragma once
// adversary report: what `phalanx-scenario run --report DIR` writes (docs/adversary.md).
//
// - DIR/report.json: every scenario and every seed's outcome (violations, evidence with
//   who accused whom and what, L1 times, counters, the command that replays it).
// - DIR/<file stem>.html per scenario: a message sequence chart of one run (the first
//   unexpected seed, else the first), run again with a trace: one lane per replica, twin
//   and client, time downwards, delivered messages as arrows labelled with their kind and
//   (view, seq), lost ones as dashed stubs, Byzantine ones in red, rejected ones crossed,
//   faults as bands, crashes and pauses on the lanes, replica events as labels. One
//   self-contained page with inline SVG: no script, nothing fetched.
//
// Thread-safety: none needed; these are functions of their arguments (write_report
// writes files).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/adversary/scenario.h"
#include "phalanx/base/result.h"

namespace phalanx::adversary {

// A chart's run records this many trace events, and draws at most this many messages
// (with the faults and events of the same stretch of time): a page a browser opens fast.
inline constexpr std::size_t kChartTraceLimit = 20'000;
inline constexpr std::size_t kChartMessagesMax = 2'000;

// One scenario's seeds, as run.
struct ScenarioReport {
  Scenario scenario;
  std::string path;  // as given on the command line: replay commands use it
  std::vector<SeedOutcome> outcomes;
  ScenarioTotals totals;
  std::optional<SeedOutcome> charted;  // chart_seed() run again with a trace
  std::string chart_file;              // the chart's file name in the report directory
};

// "phalanx-scenario run PATH --seed SEED"
std::string replay_command(std::string_view path, std::uint64_t seed);
// The seed a chart shows: the first unexpected one, else the first that ran.
std::uint64_t chart_seed(const ScenarioReport& report);
// Runs chart_seed() again with a trace of kChartTraceLimit events into `charted`.
void trace_chart_run(ScenarioReport& report);

std::string report_json(const std::vector<ScenarioReport>& reports);
// The chart of report.charted (which must be set) as an HTML page.
std::string chart_html(const ScenarioReport& report);

// Creates `dir` if needed, traces and draws each scenario's chart run (setting `charted`
// and `chart_file`: "<file stem>.html", made unique), and writes the charts and
// report.json.
Status write_report(const std::string& dir, std::vector<ScenarioReport>& reports);

}  // namespace phalanx::adversary
