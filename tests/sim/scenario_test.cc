// Scenario files (docs/adversary.md): the parser reports every problem of a file with its
// line and refuses what cannot be promised; the runner plays a scenario deterministically
// and says when the outcome is not the expected one (a liveness bound missed, a harmless
// run where a violation was expected, a Byzantine replica never caught); the report is
// JSON that parses and a chart with an SVG.
#include "phalanx/adversary/scenario.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/report.h"

namespace phalanx::adversary {
namespace {

constexpr pbft::Instant kMs = pbft::kMillisecond;

Scenario parse_ok(const std::string& text) {
  auto parsed = parse_scenario(text, "test.toml");
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() ? std::move(parsed).value() : Scenario{};
}

std::string parse_error(const std::string& text) {
  auto parsed = parse_scenario(text, "test.toml");
  EXPECT_FALSE(parsed.ok()) << "the scenario parsed";
  return parsed.ok() ? std::string() : parsed.error().message;
}

const std::string kHeader = R"(name = "test"
description = "a test scenario"
)";

// --- parsing ------------------------------------------------------------------------------

TEST(ScenarioParse, ValidFileWithEveryKindOfFault) {
  Scenario scenario = parse_ok(kHeader + R"(seeds = 7
[cluster]
replicas = 7
clients = 3
requests_per_client = 5
think_time_ms = 15
time_limit_s = 30
settle_s = 2
storage = "log"
twins = [4]
[cluster.options]
checkpoint_interval = 16
view_timeout_initial_ms = 400
[cluster.client_options]
retry_timeout_ms = 200
[network]
latency_ms = [2, 8]
drop = 0.05
duplicate = 0
[[byzantine]]
replica = 1
behaviour = "corrupt-chunks"
[[fault]]
kind = "partition"
groups = [[0, 1, "client:0"], [2, 3, "twin:4"]]
at_ms = 10
until_ms = 500
[[fault]]
kind = "isolate"
node = "client:2"
at_ms = 20
until_ms = 40
[[fault]]
kind = "cut"
from = 5
to = 6
at_ms = 30
[[fault]]
kind = "heal"
at_ms = 600
[[fault]]
kind = "link"
between = [0, "twin:4"]
latency_ms = 20
at_ms = 100
until_ms = 200
[[fault]]
kind = "crash"
replica = 2
at_ms = 50
restart_ms = 300
[[fault]]
kind = "crash"
replica = 2
at_ms = 400
[[fault]]
kind = "pause"
replica = 3
at_ms = 60
until_ms = 70
[[fault]]
kind = "rejoin"
replica = 5
at_ms = 70
restart_ms = 90
[[fault]]
kind = "clock_rate"
node = 6
rate = 1.5
at_ms = 80
until_ms = 700
[[fault]]
kind = "clock_jump"
node = "client:1"
by_ms = 5000
at_ms = 90
[expect]
outcome = "safe"
properties = ["S1", "S2", "L1", "S5"]
liveness_bound_ms = 9000
caught = [1]
)");
  EXPECT_EQ(scenario.seeds, 7u);
  EXPECT_EQ(scenario.replicas, 7u);
  EXPECT_EQ(scenario.f(), 2u);
  EXPECT_EQ(scenario.clients, 3u);
  EXPECT_EQ(scenario.think_time, 15 * kMs);
  EXPECT_EQ(scenario.time_limit, 30 * pbft::kSecond);
  EXPECT_EQ(scenario.settle_time, 2 * pbft::kSecond);
  EXPECT_EQ(scenario.storage, SimClusterOptions::Storage::kLog);
  EXPECT_EQ(scenario.twins, (std::set<pbft::ReplicaId>{4}));
  EXPECT_EQ(scenario.replica_options.checkpoint_interval, 16u);
  EXPECT_EQ(scenario.replica_options.view_timeout_initial, 400 * kMs);
  EXPECT_EQ(scenario.client_options.retry_timeout, 200 * kMs);
  EXPECT_EQ(scenario.network.latency_min_ns, 2 * kMs);
  EXPECT_EQ(scenario.network.latency_max_ns, 8 * kMs);
  EXPECT_DOUBLE_EQ(scenario.network.drop_probability, 0.05);
  ASSERT_EQ(scenario.byzantine.size(), 1u);
  EXPECT_EQ(scenario.byzantine[0].behaviour, "corrupt-chunks");
  ASSERT_EQ(scenario.faults.size(), 11u);
  const Fault& partition = scenario.faults[0];
  EXPECT_EQ(partition.kind, Fault::Kind::kPartition);
  ASSERT_EQ(partition.groups.size(), 2u);
  EXPECT_EQ(partition.groups[0][2], (NodeRef{NodeRef::Kind::kClient, 0}));
  EXPECT_EQ(partition.groups[1][2], (NodeRef{NodeRef::Kind::kTwin, 4}));
  EXPECT_EQ(partition.end, 500 * kMs);
  const Fault& link = scenario.faults[4];
  EXPECT_EQ(link.link.latency_min_ns, 20 * kMs);
  EXPECT_DOUBLE_EQ(link.link.drop_probability, 0.05);  // from [network]
  EXPECT_EQ(scenario.faults[6].end, std::nullopt);     // a crash for good
  EXPECT_DOUBLE_EQ(scenario.faults[9].rate, 1.5);
  EXPECT_EQ(scenario.faults[10].by, 5000 * kMs);
  EXPECT_EQ(scenario.faulty(), (std::set<pbft::ReplicaId>{1, 4}));
  EXPECT_EQ(scenario.last_fault_end(), 700 * kMs);
  EXPECT_EQ(scenario.expect.properties.size(), 4u);
  EXPECT_FALSE(scenario.expect.in_scope(ScenarioProperty::kS4));
  EXPECT_EQ(scenario.expect.liveness_bound, 9000 * kMs);
  EXPECT_EQ(scenario.expect.caught, (std::set<pbft::ReplicaId>{1}));
}

TEST(ScenarioParse, DefaultsAndAllPropertiesWhenLeftOut) {
  Scenario scenario = parse_ok(kHeader + "[cluster]\nreplicas = 4\n[expect]\noutcome = \"safe\"\n");
  EXPECT_EQ(scenario.seeds, kScenarioSeedsDefault);
  EXPECT_EQ(scenario.clients, 2u);
  EXPECT_EQ(scenario.expect.properties.size(), kScenarioPropertyCount);
  EXPECT_EQ(scenario.storage, SimClusterOptions::Storage::kMemory);
  EXPECT_EQ(scenario.last_fault_end(), 0u);
}

TEST(ScenarioParse, ReportsEveryProblemWithItsLine) {
  std::string error = parse_error(R"(name = "broken"
description = "many problems at once"
colour = "blue"
[cluster]
replicas = 4
requests_per_client = 0
[network]
drop = 1.5
[[byzantine]]
replica = 9
behaviour = "corrupt-chunks"
[[byzantine]]
replica = 2
behaviour = "teleport"
[[fault]]
kind = "crash"
replica = 1
at_ms = 500
until_ms = 900
[[fault]]
kind = "pause"
replica = 1
at_ms = 500
until_ms = 400
[[fault]]
kind = "earthquake"
at_ms = 1
[[fault]]
kind = "isolate"
node = "client:5"
at_ms = 1
[expect]
outcome = "safe"
properties = ["S1", "S9"]
)");
  for (const char* expected : {
           "test.toml:3: top level: unknown key 'colour'",
           "test.toml:6: [cluster] requests_per_client = 0 is out of range",
           "test.toml:8: [network] drop = 1.5 is out of range 0..1",
           "test.toml:10: [[byzantine]] #1: replica = 9 is not a replica",
           "test.toml:14: [[byzantine]] replica 2: unknown Byzantine behaviour 'teleport'",
           "test.toml:19: [[fault]] #1 (crash): 'until_ms' does not apply to crash",
           "test.toml:24: [[fault]] #2 (pause): until_ms = 400 must come after at_ms = 500",
           "test.toml:26: [[fault]] #3: unknown kind 'earthquake'",
           "test.toml:30: [[fault]] #4 (isolate) node: 'client:5': there are 2 clients",
           "test.toml:34: [expect] properties: 'S9' is not one of",
       }) {
    EXPECT_NE(error.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n"
                                                       << error;
  }
  // Replica 9 does not exist: it is not counted among the faulty ones (only replica 2 is).
  EXPECT_EQ(error.find("replicas are faulty"), std::string::npos) << error;
}

TEST(ScenarioParse, UnknownKeysAreErrorsWithSuggestions) {
  std::string error = parse_error(kHeader + R"([cluster]
replicas = 4
clients = 2
requets_per_client = 3
[cluster.options]
checkpoint_intervall = 8
[[fault]]
kind = "crash"
replica = 1
at_ms = 5
restart_after = 10
[expect]
outcome = "safe"
liveness_bound = 5
)");
  EXPECT_NE(error.find("test.toml:6: [cluster]: unknown key 'requets_per_client' (did you mean "
                       "'requests_per_client'?)"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:8: [cluster.options]: unknown key 'checkpoint_intervall' (did "
                       "you mean 'checkpoint_interval'?)"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:13: [[fault]] #1 (crash): unknown key 'restart_after'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:16: [expect]: unknown key 'liveness_bound' (did you mean "
                       "'liveness_bound_ms'?)"),
            std::string::npos)
      << error;
}

TEST(ScenarioParse, MoreThanFFaultyReplicasCannotBeSafe) {
  const std::string body = R"([cluster]
replicas = 4
twins = [2]
[[byzantine]]
replica = 1
behaviour = "corrupt-chunks"
[[fault]]
kind = "amnesia"
replica = 3
at_ms = 10
restart_ms = 20
[expect]
)";
  std::string error = parse_error(kHeader + body + "outcome = \"safe\"\n");
  EXPECT_NE(error.find("test.toml:15: 3 replicas are faulty (1, 2, 3"), std::string::npos) << error;
  EXPECT_NE(error.find("write outcome = \"violation\""), std::string::npos) << error;
  Scenario scenario = parse_ok(kHeader + body + "outcome = \"violation\"\nproperties = [\"S1\"]\n");
  EXPECT_EQ(scenario.faulty().size(), 3u);
}

TEST(ScenarioParse, RefusesOverlappingCrashesAndCatchingACorrectReplica) {
  std::string error = parse_error(kHeader + R"([cluster]
replicas = 4
[[fault]]
kind = "crash"
replica = 2
at_ms = 100
[[fault]]
kind = "rejoin"
replica = 2
at_ms = 500
restart_ms = 600
[[fault]]
kind = "crash"
replica = 1
at_ms = 200000
[expect]
outcome = "safe"
caught = [3]
)");
  EXPECT_NE(error.find("test.toml:9: [[fault]] rejoin of replica 2 at 500 ms: the replica is down "
                       "then (crash at line 5, never restarted)"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:14: [[fault]] #3 (crash): it happens at 200000 ms, not before "
                       "the time limit"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("test.toml:20: [expect] caught: replica 3 is correct"), std::string::npos)
      << error;
}

TEST(ScenarioParse, TomlSyntaxErrorHasLineAndColumn) {
  std::string error = parse_error(kHeader + "[cluster\nreplicas = 4\n");
  EXPECT_EQ(error.rfind("test.toml:3:", 0), 0u) << error;
  EXPECT_NE(error.find("TOML syntax error"), std::string::npos) << error;
}

TEST(ScenarioParse, TheExampleFilesParse) {
  auto directory = std::filesystem::path(__FILE__).parent_path() / "../../adversary/scenarios";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    auto loaded = load_scenario(entry.path().string());
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  }
  EXPECT_GE(files, 3u);
}

// --- running ------------------------------------------------------------------------------

const std::string kCrashAndRestart = kHeader + R"([cluster]
replicas = 4
clients = 2
requests_per_client = 15
time_limit_s = 30
[network]
latency_ms = [1, 5]
drop = 0.02
[[fault]]
kind = "crash"
replica = 0
at_ms = 20
restart_ms = 400
[[fault]]
kind = "partition"
groups = [[1], [2, 3]]
at_ms = 30
until_ms = 200
[expect]
outcome = "safe"
)";

TEST(ScenarioRun, CrashAndRestartRunsAsExpectedAndReplays) {
  Scenario scenario = parse_ok(kCrashAndRestart + "liveness_bound_ms = 10000\n");
  SeedOutcome first = run_scenario(scenario, 3);
  EXPECT_TRUE(first.expected) << first.unexpected << "\n" << first.summary;
  EXPECT_TRUE(first.violations.empty());
  EXPECT_EQ(first.completed_requests, 30u);
  EXPECT_EQ(first.crashes, 1u);
  EXPECT_GE(first.view_changes, 1u);  // the primary crashed
  EXPECT_EQ(first.last_fault_end, 400 * kMs);
  ASSERT_TRUE(first.recovery.has_value());
  SeedOutcome again = run_scenario(scenario, 3);
  EXPECT_EQ(again.trace_hash, first.trace_hash);
  EXPECT_EQ(again.recovery, first.recovery);
  EXPECT_EQ(again.summary, first.summary);
  SeedOutcome other = run_scenario(scenario, 4);
  EXPECT_NE(other.trace_hash, first.trace_hash);
}

TEST(ScenarioRun, LivenessBoundTooSmallIsUnexpected) {
  Scenario scenario = parse_ok(kCrashAndRestart + "liveness_bound_ms = 1\n");
  SeedOutcome outcome = run_scenario(scenario, 3);
  ASSERT_TRUE(outcome.recovery.has_value());
  ASSERT_GT(*outcome.recovery, 1 * kMs) << "the workload must outlast the faults";
  EXPECT_FALSE(outcome.expected);
  EXPECT_NE(outcome.unexpected.find("L1 liveness: the last request completed"), std::string::npos)
      << outcome.unexpected;
  ScenarioTotals totals = total(scenario, {outcome});
  EXPECT_FALSE(totals.expected);
  EXPECT_EQ(totals.failing, (std::vector<std::uint64_t>{3}));
}

TEST(ScenarioRun, PartitionThatNeverHealsStopsProgressAndFailsL1) {
  Scenario scenario = parse_ok(kHeader + R"([cluster]
replicas = 4
requests_per_client = 3
time_limit_s = 3
[[fault]]
kind = "partition"
groups = [[0, 1], [2, 3]]
at_ms = 0
[expect]
outcome = "safe"
)");
  SeedOutcome outcome = run_scenario(scenario, 1);
  EXPECT_EQ(outcome.completed_requests, 0u);
  EXPECT_FALSE(outcome.recovery.has_value());
  EXPECT_FALSE(outcome.expected);
  EXPECT_EQ(outcome.violations.back().property, ScenarioProperty::kL1);
}

TEST(ScenarioRun, HarmlessRunOfAViolationScenarioIsUnexpected) {
  Scenario scenario = parse_ok(kHeader + R"([cluster]
replicas = 4
requests_per_client = 5
[expect]
outcome = "violation"
properties = ["S1", "S2"]
)");
  std::vector<SeedOutcome> outcomes = {run_scenario(scenario, 1), run_scenario(scenario, 2)};
  for (const SeedOutcome& outcome : outcomes) {
    EXPECT_FALSE(outcome.violated);
    EXPECT_FALSE(outcome.expected);
    EXPECT_NE(outcome.unexpected.find("no violation of S1, S2"), std::string::npos);
  }
  ScenarioTotals totals = total(scenario, outcomes);
  EXPECT_FALSE(totals.expected);
  EXPECT_NE(totals.unexpected.find("only 0 of 2 seeds showed a violation"), std::string::npos)
      << totals.unexpected;
  EXPECT_EQ(totals.failing, (std::vector<std::uint64_t>{1, 2}));
}

TEST(ScenarioRun, ByzantineReplicaNeverCaughtIsUnexpected) {
  // corrupt-chunks never signs two conflicting messages: nobody can hold evidence.
  Scenario scenario = parse_ok(kHeader + R"([cluster]
replicas = 4
requests_per_client = 5
[[byzantine]]
replica = 1
behaviour = "corrupt-chunks"
[expect]
outcome = "safe"
caught = [1]
)");
  SeedOutcome outcome = run_scenario(scenario, 1);
  EXPECT_EQ(outcome.completed_requests, 10u);
  EXPECT_FALSE(outcome.expected);
  EXPECT_NE(outcome.unexpected.find("S5 accountability: replica 1 was not caught"),
            std::string::npos)
      << outcome.unexpected;
}

// --- the report ---------------------------------------------------------------------------

// A JSON value and nothing after it (RFC 8259 grammar, without unicode checks).
class JsonChecker {
 public:
  explicit JsonChecker(const std::string& text) : text_(text) {}
  bool valid() {
    bool ok = value();
    space();
    return ok && at_ == text_.size();
  }

 private:
  void space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool eat(char c) {
    space();
    if (at_ < text_.size() && text_[at_] == c) return ++at_, true;
    return false;
  }
  bool literal(std::string_view word) {
    if (text_.compare(at_, word.size(), word) != 0) return false;
    at_ += word.size();
    return true;
  }
  bool string() {
    if (!eat('"')) return false;
    while (at_ < text_.size() && text_[at_] != '"') {
      if (static_cast<unsigned char>(text_[at_]) < 0x20) return false;
      at_ += text_[at_] == '\\' ? 2 : 1;
    }
    return eat('"');
  }
  bool number() {
    std::size_t start = at_;
    while (at_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[at_])) ||
                                  std::string_view("+-.eE").find(text_[at_]) != std::string::npos))
      ++at_;
    return at_ > start;
  }
  bool value() {
    space();
    if (at_ >= text_.size()) return false;
    char c = text_[at_];
    if (c == '{') return members('}', true);
    if (c == '[') return members(']', false);
    if (c == '"') return string();
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }
  bool members(char close, bool object) {
    ++at_;
    if (eat(close)) return true;
    do {
      if (object && !(string() && eat(':'))) return false;
      if (!value()) return false;
    } while (eat(','));
    return eat(close);
  }

  const std::string& text_;
  std::size_t at_ = 0;
};

std::string read(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ScenarioReportTest, WritesJsonThatParsesAndAChartWithAnSvg) {
  ScenarioReport report;
  report.scenario = parse_ok(kCrashAndRestart + "liveness_bound_ms = 10000\n");
  report.path = "scenarios/crash \"quoted\".toml";
  report.outcomes = {run_scenario(report.scenario, 1), run_scenario(report.scenario, 2)};
  report.totals = total(report.scenario, report.outcomes);
  std::vector<ScenarioReport> reports = {std::move(report)};
  auto dir = std::filesystem::temp_directory_path() /
             ("phalanx-scenario-report-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto written = write_report(dir.string(), reports);
  ASSERT_TRUE(written.ok()) << written.error().message;

  std::string json = read(dir / "report.json");
  EXPECT_TRUE(JsonChecker(json).valid()) << json.substr(0, 2000);
  EXPECT_NE(json.find("\"replay\": \"phalanx-scenario run scenarios/crash \\\"quoted\\\".toml "
                      "--seed 2\""),
            std::string::npos);
  EXPECT_NE(json.find("\"l1_recovery_ms\""), std::string::npos);

  ASSERT_EQ(reports[0].chart_file, "crash \"quoted\".html");
  ASSERT_TRUE(reports[0].charted.has_value());
  EXPECT_EQ(reports[0].charted->trace_hash, reports[0].outcomes[0].trace_hash)
      << "tracing must not change the run";
  std::string html = read(dir / reports[0].chart_file);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("</svg>"), std::string::npos);
  EXPECT_NE(html.find("replica 3"), std::string::npos);      // a lane
  EXPECT_NE(html.find("&#9889; crash"), std::string::npos);  // the fault on its lane
  EXPECT_NE(html.find("marker-end"), std::string::npos);     // message arrows
  EXPECT_LT(html.size(), 2'000'000u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace phalanx::adversary

// --- the scenario suite itself ------------------------------------------------------------

namespace phalanx::adversary {
namespace {

// The suite in adversary/scenarios is what ctest runs (label `scenario`): at least 25
// files, at least 5,000 seeded runs in all, every Byzantine behaviour and every kind of
// fault in some file, and at least one file that expects a violation (more than f liars).
TEST(ScenarioSuite, CoversEveryBehaviourAndFaultWithFiveThousandRuns) {
  const std::filesystem::path dir =
      std::filesystem::path(PHALANX_SOURCE_DIR) / "adversary/scenarios";
  std::size_t files = 0;
  std::uint64_t runs = 0;
  bool expects_violation = false;
  bool has_twins = false;
  std::set<std::string> behaviours;
  std::set<Fault::Kind> faults;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    auto scenario = load_scenario(entry.path().string());
    ASSERT_TRUE(scenario.ok()) << scenario.error().message;
    ++files;
    runs += scenario.value().seeds;
    expects_violation |= scenario.value().expect.outcome == Expectation::Outcome::kViolation;
    has_twins |= !scenario.value().twins.empty();
    for (const auto& byzantine : scenario.value().byzantine) behaviours.insert(byzantine.behaviour);
    for (const auto& fault : scenario.value().faults) faults.insert(fault.kind);
  }
  EXPECT_GE(files, 25u);
  EXPECT_GE(runs, 5000u);
  EXPECT_TRUE(expects_violation);
  EXPECT_TRUE(has_twins);
  for (auto name : behaviour_names())
    EXPECT_TRUE(behaviours.count(std::string(name))) << "no scenario uses behaviour " << name;
  for (auto kind :
       {Fault::Kind::kPartition, Fault::Kind::kIsolate, Fault::Kind::kCut, Fault::Kind::kLink,
        Fault::Kind::kCrash, Fault::Kind::kPause, Fault::Kind::kRejoin, Fault::Kind::kAmnesia,
        Fault::Kind::kClockRate, Fault::Kind::kClockJump})
    EXPECT_TRUE(faults.count(kind)) << "no scenario has a fault of kind " << to_string(kind);
}

}  // namespace
}  // namespace phalanx::adversary
