// phalanx-scenario: runs adversarial scenario files in the simulator (docs/adversary.md).
//
//   phalanx-scenario run FILE... [--seeds N] [--seed S] [--report DIR] [--quiet]
//   phalanx-scenario list FILE...
//   phalanx-scenario twins [--rounds R] [--sample N] [--case I] [--quiet]
//
// `run` plays every file over seeds 1..N (N: --seeds, else the file's `seeds`, capped by
// the environment variable PHALANX_SIM_SEEDS when it is set), or over
// seed S alone, shows progress on stderr, and prints a summary table. Every scenario that
// did not go as its file expects is explained, with the command that replays each failing
// seed. --report DIR writes DIR/report.json and one chart per scenario (report.h).
//
// Exit codes: 0 every outcome as expected; 1 an unexpected outcome; 2 bad arguments or a
// scenario file with problems (all of them are printed, and nothing runs).
#include "phalanx/adversary/scenario.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "phalanx/adversary/report.h"
#include "phalanx/adversary/twins.h"

namespace {

using namespace phalanx;
using namespace phalanx::adversary;
using Clock = std::chrono::steady_clock;

constexpr auto kProgressInterval = std::chrono::seconds(3);  // when stderr is no terminal
constexpr std::size_t kFailingSeedsShownMax = 10;

std::string ms_text(std::optional<pbft::Instant> at) {
  if (!at) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", static_cast<double>(*at) / 1e6);
  return text;
}

std::string ids_text(const std::set<pbft::ReplicaId>& ids) {
  std::string text;
  for (pbft::ReplicaId id : ids) text += (text.empty() ? "" : ",") + std::to_string(id);
  return text.empty() ? "-" : text;
}

// Shows "NAME: 120/200 seeds": on one line rewritten in place on a terminal, else a line
// every few seconds.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) == 1) {}
  void update(const std::string& name, std::size_t done, std::size_t total) {
    if (quiet_) return;
    auto now = Clock::now();
    if (terminal_) {
      std::fprintf(stderr, "\r%s: %zu/%zu seeds\033[K", name.c_str(), done, total);
      if (done == total) std::fprintf(stderr, "\n");
      return;
    }
    if (done == total || now - last_ >= kProgressInterval) {
      std::fprintf(stderr, "%s: %zu/%zu seeds\n", name.c_str(), done, total);
      last_ = now;
    }
  }

 private:
  bool quiet_;
  bool terminal_;
  Clock::time_point last_ = Clock::now();
};

std::vector<Scenario> load_all(const std::vector<std::string>& files, bool& failed) {
  std::vector<Scenario> scenarios;
  for (const std::string& file : files) {
    auto loaded = load_scenario(file);
    if (!loaded.ok()) {
      std::cerr << loaded.error().message << "\n";
      failed = true;
      continue;
    }
    scenarios.push_back(std::move(loaded).value());
  }
  return scenarios;
}

void print_table(const std::vector<ScenarioReport>& reports) {
  const char* header[] = {"scenario", "seeds",    "unexpected", "violations", "requests",
                          "view chg", "evidence", "caught",     "worst L1 ms"};
  std::vector<std::vector<std::string>> rows;
  for (const ScenarioReport& report : reports) {
    const ScenarioTotals& totals = report.totals;
    std::uint64_t unexpected = totals.failing.size();
    rows.push_back(
        {report.scenario.name + (totals.expected ? "" : "  [UNEXPECTED]"),
         std::to_string(totals.seeds), std::to_string(unexpected),
         std::to_string(totals.seeds_with_violations),
         std::to_string(totals.completed_requests) + "/" + std::to_string(totals.expected_requests),
         std::to_string(totals.view_changes), std::to_string(totals.evidence),
         ids_text(totals.caught),
         ms_text(totals.worst_recovery) + (totals.any_incomplete ? " (incomplete)" : "")});
  }
  std::vector<std::size_t> width;
  for (const char* title : header) width.push_back(std::string(title).size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      std::string pad(width[i] - cell.size(), ' ');
      line += i == 0 ? cell + pad : "  " + pad + cell;  // names left, numbers right
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(std::vector<std::string>(std::begin(header), std::end(header)));
  std::size_t total_width = 0;
  for (std::size_t column : width) total_width += column + 2;
  std::printf("%s\n", std::string(total_width - 2, '-').c_str());
  for (const auto& row : rows) print_row(row);
}

void print_failures(const ScenarioReport& report) {
  const ScenarioTotals& totals = report.totals;
  if (totals.expected) return;
  std::printf("\nUNEXPECTED: %s (%s): %s\n", report.scenario.name.c_str(), report.path.c_str(),
              totals.unexpected.c_str());
  std::size_t shown = 0;
  for (std::uint64_t seed : totals.failing) {
    if (shown++ == kFailingSeedsShownMax) {
      std::printf("  ... and %zu more seeds (all in --report)\n",
                  totals.failing.size() - kFailingSeedsShownMax);
      break;
    }
    const SeedOutcome* outcome = nullptr;
    for (const SeedOutcome& candidate : report.outcomes)
      if (candidate.seed == seed) outcome = &candidate;
    std::printf("  seed %llu: %s\n", static_cast<unsigned long long>(seed),
                outcome ? outcome->unexpected.c_str() : "");
    if (outcome) {
      for (const std::string& note : outcome->notes) std::printf("    note: %s\n", note.c_str());
      std::printf("    %s\n", outcome->summary.c_str());
    }
    std::printf("    replay: %s\n", replay_command(report.path, seed).c_str());
  }
}

int run(const std::vector<std::string>& files, std::optional<std::uint64_t> seeds,
        std::optional<std::uint64_t> only_seed, const std::string& report_dir, bool quiet) {
  bool failed = false;
  std::vector<Scenario> scenarios = load_all(files, failed);
  if (failed) return 2;
  Progress progress(quiet);
  std::vector<ScenarioReport> reports;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    ScenarioReport report;
    report.scenario = std::move(scenarios[i]);
    report.path = files[i];
    std::vector<std::uint64_t> to_run;
    if (only_seed) {
      to_run.push_back(*only_seed);
    } else {
      // PHALANX_SIM_SEEDS_MAX (set by the sanitizer presets) and PHALANX_SIM_SEEDS cap a
      // file's own count; an explicit --seeds is taken as given.
      std::uint64_t count = report.scenario.seeds;
      for (const char* name : {"PHALANX_SIM_SEEDS", "PHALANX_SIM_SEEDS_MAX"})
        if (const char* cap = std::getenv(name); cap && *cap)
          count = std::min<std::uint64_t>(count, std::strtoull(cap, nullptr, 10));
      for (std::uint64_t seed = 1; seed <= seeds.value_or(count); ++seed) to_run.push_back(seed);
    }
    for (std::uint64_t seed : to_run) {
      report.outcomes.push_back(run_scenario(report.scenario, seed));
      progress.update(report.scenario.name, report.outcomes.size(), to_run.size());
    }
    report.totals = total(report.scenario, report.outcomes);
    reports.push_back(std::move(report));
  }
  print_table(reports);
  bool all_expected = true;
  for (const ScenarioReport& report : reports) {
    print_failures(report);
    all_expected = all_expected && report.totals.expected;
  }
  if (!report_dir.empty()) {
    auto written = write_report(report_dir, reports);
    if (!written.ok()) {
      std::cerr << "phalanx-scenario: " << written.error().message << "\n";
      return 2;
    }
    std::printf("\nreport: %s/report.json", report_dir.c_str());
    for (const ScenarioReport& report : reports)
      if (!report.chart_file.empty())
        std::printf(", %s/%s (seed %llu)", report_dir.c_str(), report.chart_file.c_str(),
                    static_cast<unsigned long long>(report.charted->seed));
    std::printf("\n");
  }
  return all_expected ? 0 : 1;
}

int list(const std::vector<std::string>& files) {
  bool failed = false;
  std::vector<Scenario> scenarios = load_all(files, failed);
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& scenario = scenarios[i];
    const Expectation& expect = scenario.expect;
    std::printf("%s%s (%s)\n  %s\n", i == 0 ? "" : "\n", scenario.name.c_str(),
                scenario.source.c_str(), scenario.description.c_str());
    std::printf("  cluster: n=%u f=%u, %u clients x %u requests, %s storage, %llu seeds\n",
                scenario.replicas, scenario.f(), scenario.clients, scenario.requests_per_client,
                scenario.storage == SimClusterOptions::Storage::kLog ? "log" : "memory",
                static_cast<unsigned long long>(scenario.seeds));
    std::string byzantine;
    for (const ByzantineReplica& entry : scenario.byzantine) {
      byzantine +=
          (byzantine.empty() ? "" : ", ") + std::to_string(entry.replica) + ":" + entry.behaviour;
      for (const auto& [key, value] : entry.params) byzantine += " " + key + "=" + value;
    }
    for (pbft::ReplicaId id : scenario.twins)
      byzantine += (byzantine.empty() ? "" : ", ") + std::to_string(id) + ":twins";
    std::printf("  byzantine: %s\n", byzantine.empty() ? "none" : byzantine.c_str());
    std::printf("  faults: %s\n", scenario.faults.empty() ? "none" : "");
    for (const Fault& fault : scenario.faults) std::printf("    %s\n", describe(fault).c_str());
    std::string properties;
    for (ScenarioProperty property : expect.properties)
      properties += (properties.empty() ? "" : ",") + std::string(to_string(property));
    if (expect.outcome == Expectation::Outcome::kSafe) {
      std::printf("  expect: safe; %s hold", properties.c_str());
    } else {
      std::printf("  expect: violation of %s in at least %.0f%% of seeds", properties.c_str(),
                  expect.violation_seeds_min * 100);
    }
    if (expect.liveness_bound)
      std::printf("; L1 within %s ms after the last fault", ms_text(expect.liveness_bound).c_str());
    if (!expect.caught.empty()) std::printf("; caught: %s", ids_text(expect.caught).c_str());
    std::printf("\n");
  }
  return failed ? 2 : 0;
}

// Twins (twins.h): every case of the enumerated space, or a sample of the larger one.
int twins(std::uint32_t rounds, std::optional<std::uint64_t> sample,
          std::optional<std::uint64_t> only, bool quiet) {
  TwinsSpace space{4, rounds};
  std::vector<std::pair<std::uint64_t, TwinsCase>> cases;
  if (sample) {
    for (std::uint64_t seed = 1; seed <= *sample; ++seed) {
      if (only && seed != *only) continue;
      net::Rng rng(seed);
      cases.emplace_back(seed, sample_twins(space, rng));
    }
  } else {
    auto all = enumerate_twins(space);
    for (std::uint64_t index = 0; index < all.size(); ++index)
      if (!only || index == *only) cases.emplace_back(index, std::move(all[index]));
  }
  Progress progress(quiet);
  std::size_t failed = 0, caught = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [id, twins_case] = cases[i];
    TwinsSettings settings;
    if (sample) settings.seed = id;
    TwinsOutcome outcome = run_twins(twins_case, settings);
    caught += outcome.evidence > 0;
    progress.update(sample ? "twins (sampled)" : "twins", i + 1, cases.size());
    if (outcome.passed) continue;
    ++failed;
    std::printf("FAILED %s %llu: %s\n  %s\n", sample ? "seed" : "case",
                static_cast<unsigned long long>(id), twins_case.describe().c_str(),
                outcome.run.summary().c_str());
    for (const auto& violation : outcome.violations)
      std::printf("  %s\n", to_string(violation).c_str());
    std::printf("  replay: phalanx-scenario twins --rounds %u %s%llu\n", rounds,
                sample ? ("--sample " + std::to_string(*sample) + " --case ").c_str() : "--case ",
                static_cast<unsigned long long>(id));
  }
  std::printf("twins: %zu cases (%s, %u rounds), %zu failed, the twinned replica caught in %zu\n",
              cases.size(), sample ? "sampled from every partition" : "every separating partition",
              rounds, failed, caught);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs adversarial scenario files in the simulator (docs/adversary.md)."};
  app.require_subcommand(1);
  std::vector<std::string> files;
  std::optional<std::uint64_t> seeds, seed;
  std::string report_dir;
  bool quiet = false;
  auto* run_command = app.add_subcommand("run", "run scenarios over many seeds; summary table");
  run_command->add_option("files", files, "scenario files (TOML)")->required();
  auto* seeds_option =
      run_command->add_option("--seeds", seeds, "run seeds 1..N (default: the file's seeds)")
          ->check(CLI::Range(std::uint64_t{1}, kScenarioSeedsMax));
  run_command->add_option("--seed", seed, "run this seed only")->excludes(seeds_option);
  run_command->add_option("--report", report_dir, "write DIR/report.json and a chart per scenario");
  run_command->add_flag("--quiet", quiet, "no progress on stderr");
  auto* list_command = app.add_subcommand("list", "describe scenarios without running them");
  list_command->add_option("files", files, "scenario files (TOML)")->required();
  std::uint32_t rounds = 3;
  std::optional<std::uint64_t> sample, twins_case;
  auto* twins_command =
      app.add_subcommand("twins", "run Twins cases: every partition schedule, or a sample");
  twins_command->add_option("--rounds", rounds, "rounds per case (default 3)")
      ->check(CLI::Range(1, 6));
  twins_command->add_option("--sample", sample,
                            "N random cases of the larger space (any partition) instead");
  twins_command->add_option("--case", twins_case, "run this case (index, or seed with --sample)");
  twins_command->add_flag("--quiet", quiet, "no progress on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  if (*list_command) return list(files);
  if (*twins_command) return twins(rounds, sample, twins_case, quiet);
  return run(files, seeds, seed, report_dir, quiet);
}
