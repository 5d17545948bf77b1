// report.json and the files of a report directory (report.h). The chart itself is in
// report_chart.cc.
#include "phalanx/adversary/report.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace phalanx::adversary {

namespace {

// A JSON document written in order: values, arrays and objects, with commas where they
// belong. Strings are escaped; numbers are integers or milliseconds with 3 decimals.
class Json {
 public:
  Json& begin_object(std::string_view key = {}) { return open(key, '{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array(std::string_view key = {}) { return open(key, '['); }
  Json& end_array() { return close(']'); }

  Json& field(std::string_view key, std::string_view text) {
    separate(key);
    quote(text);
    return *this;
  }
  Json& field(std::string_view key, const char* text) { return field(key, std::string_view(text)); }
  Json& field(std::string_view key, bool value) {
    separate(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  Json& field(std::string_view key, std::uint64_t value) {
    separate(key);
    out_ += std::to_string(value);
    return *this;
  }
  Json& field(std::string_view key, double value) {
    separate(key);
    char text[48];
    std::snprintf(text, sizeof text, "%.3f", value);
    out_ += text;
    return *this;
  }
  Json& null(std::string_view key) {
    separate(key);
    out_ += "null";
    return *this;
  }
  // Nanoseconds as milliseconds; nullopt as null.
  Json& ms(std::string_view key, std::optional<pbft::Instant> at) {
    if (!at) return null(key);
    return field(key, static_cast<double>(*at) / static_cast<double>(pbft::kMillisecond));
  }
  template <typename Ids>
  Json& ids(std::string_view key, const Ids& values) {
    begin_array(key);
    for (auto value : values) field({}, static_cast<std::uint64_t>(value));
    return end_array();
  }
  std::string text() && { return std::move(out_) + "\n"; }

 private:
  Json& open(std::string_view key, char bracket) {
    separate(key);
    out_ += bracket;
    first_ = true;
    ++depth_;
    return *this;
  }
  Json& close(char bracket) {
    --depth_;
    if (!first_) newline();
    out_ += bracket;
    first_ = false;
    return *this;
  }
  void newline() {
    out_ += '\n';
    out_.append(2 * depth_, ' ');
  }
  void separate(std::string_view key) {
    if (!first_) out_ += ',';
    if (depth_ > 0) newline();
    first_ = false;
    if (!key.empty()) {
      quote(key);
      out_ += ": ";
    }
  }
  void quote(std::string_view text) {
    out_ += '"';
    for (char c : text) {
      auto byte = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += c;
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (byte < 0x20 || byte == 0x7f) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", byte);
        out_ += escape;
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
  std::size_t depth_ = 0;
};

void write_outcome(Json& json, const ScenarioReport& report, const SeedOutcome& outcome) {
  json.begin_object();
  json.field("seed", outcome.seed)
      .field("as_expected", outcome.expected)
      .field("violated", outcome.violated)
      .field("why", outcome.unexpected)
      .field("replay", replay_command(report.path, outcome.seed))
      .field("stop", to_string(outcome.stop));
  json.begin_object("requests")
      .field("completed", outcome.completed_requests)
      .field("expected", outcome.expected_requests)
      .end_object();
  json.ms("sim_time_ms", outcome.sim_time)
      .ms("last_fault_end_ms", outcome.last_fault_end)
      .ms("last_completion_ms", outcome.last_completion)
      .ms("l1_recovery_ms", outcome.recovery)
      .field("view_changes", outcome.view_changes)
      .field("state_transfers", outcome.state_transfers)
      .field("rejected_messages", outcome.rejected)
      .field("crashes", outcome.crashes)
      .field("byzantine_messages", outcome.byzantine_messages);
  json.begin_object("dropped_by_core");
  for (const auto& [reason, count] : outcome.dropped_by_core) json.field(reason, count);
  json.end_object();
  json.field("trace_hash", outcome.trace_hash.hex());
  json.begin_array("violations");
  for (const PropertyViolation& violation : outcome.violations) {
    json.begin_object()
        .field("property", to_string(violation.property))
        .field("listed", violation.listed)
        .field("message", violation.message)
        .end_object();
  }
  json.end_array();
  json.field("evidence_count", outcome.evidence_count);
  json.begin_array("evidence");
  for (const AccusationRecord& accusation : outcome.evidence) {
    json.begin_object().field("accused", std::uint64_t{accusation.accused});
    if (accusation.accuser)
      json.field("accuser", std::uint64_t{*accusation.accuser});
    else
      json.null("accuser");
    json.field("what", accusation.what).end_object();
  }
  json.end_array();
  json.ids("caught", outcome.caught);
  json.begin_array("notes");
  for (const std::string& note : outcome.notes) json.field({}, note);
  json.end_array();
  json.end_object();
}

void write_scenario(Json& json, const ScenarioReport& report) {
  const Scenario& scenario = report.scenario;
  const Expectation& expect = scenario.expect;
  const ScenarioTotals& totals = report.totals;
  json.begin_object();
  json.field("file", report.path)
      .field("name", scenario.name)
      .field("description", scenario.description)
      .field("replicas", std::uint64_t{scenario.replicas})
      .field("f", std::uint64_t{scenario.f()})
      .field("clients", std::uint64_t{scenario.clients})
      .field("requests_per_client", std::uint64_t{scenario.requests_per_client});
  json.begin_array("byzantine");
  for (const ByzantineReplica& byzantine : scenario.byzantine) {
    json.begin_object()
        .field("replica", std::uint64_t{byzantine.replica})
        .field("behaviour", byzantine.behaviour)
        .begin_object("params");
    for (const auto& [key, value] : byzantine.params) json.field(key, value);
    json.end_object().end_object();
  }
  json.end_array();
  json.ids("twins", scenario.twins);
  json.begin_array("faults");
  for (const Fault& fault : scenario.faults) json.field({}, describe(fault));
  json.end_array();
  json.begin_object("expect").field(
      "outcome", expect.outcome == Expectation::Outcome::kSafe ? "safe" : "violation");
  json.begin_array("properties");
  for (ScenarioProperty property : expect.properties) json.field({}, to_string(property));
  json.end_array();
  json.ms("liveness_bound_ms", expect.liveness_bound).ids("caught", expect.caught);
  if (expect.outcome == Expectation::Outcome::kViolation)
    json.field("violation_seeds_min", expect.violation_seeds_min);
  json.end_object();

  json.field("as_expected", totals.expected)
      .field("why", totals.unexpected)
      .field("seeds", totals.seeds)
      .ids("unexpected_seeds", totals.failing)
      .field("seeds_with_violations", totals.seeds_with_violations);
  json.begin_object("requests")
      .field("completed", totals.completed_requests)
      .field("expected", totals.expected_requests)
      .end_object();
  json.field("view_changes", totals.view_changes)
      .field("evidence", totals.evidence)
      .ids("caught", totals.caught)
      .ms("worst_l1_recovery_ms", totals.worst_recovery)
      .field("some_seed_incomplete", totals.any_incomplete);
  if (report.chart_file.empty()) {
    json.null("chart").null("chart_seed");
  } else {
    json.field("chart", report.chart_file).field("chart_seed", report.charted->seed);
  }
  json.begin_array("runs");
  for (const SeedOutcome& outcome : report.outcomes) write_outcome(json, report, outcome);
  json.end_array();
  json.end_object();
}

Status write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return Error{path.string() + ": cannot create: " + std::strerror(errno)};
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) return Error{path.string() + ": cannot write: " + std::strerror(errno)};
  return ok_status();
}

}  // namespace

std::string replay_command(std::string_view path, std::uint64_t seed) {
  return "phalanx-scenario run " + std::string(path) + " --seed " + std::to_string(seed);
}

std::uint64_t chart_seed(const ScenarioReport& report) {
  if (!report.totals.failing.empty()) return report.totals.failing.front();
  for (const SeedOutcome& outcome : report.outcomes)
    if (!outcome.expected) return outcome.seed;
  return report.outcomes.empty() ? 1 : report.outcomes.front().seed;
}

void trace_chart_run(ScenarioReport& report) {
  RunSettings settings;
  settings.trace_limit = kChartTraceLimit;
  report.charted = run_scenario(report.scenario, chart_seed(report), settings);
}

std::string report_json(const std::vector<ScenarioReport>& reports) {
  Json json;
  bool all_expected = true;
  for (const ScenarioReport& report : reports)
    all_expected = all_expected && report.totals.expected;
  json.begin_object()
      .field("tool", "phalanx-scenario")
      .field("format", std::uint64_t{1})
      .field("all_as_expected", all_expected);
  json.begin_array("scenarios");
  for (const ScenarioReport& report : reports) write_scenario(json, report);
  json.end_array().end_object();
  return std::move(json).text();
}

Status write_report(const std::string& dir, std::vector<ScenarioReport>& reports) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Error{dir + ": cannot create the report directory: " + error.message()};
  std::set<std::string> names;
  for (ScenarioReport& report : reports) {
    if (report.outcomes.empty()) continue;
    std::string stem = std::filesystem::path(report.path).stem().string();
    if (stem.empty()) stem = "scenario";
    std::string name = stem + ".html";
    for (int copy = 2; names.count(name) != 0; ++copy)
      name = stem + "-" + std::to_string(copy) + ".html";
    names.insert(name);
    if (!report.charted) trace_chart_run(report);
    report.chart_file = name;
    auto written = write_file(std::filesystem::path(dir) / name, chart_html(report));
    if (!written.ok()) return written;
  }
  return write_file(std::filesystem::path(dir) / "report.json", report_json(reports));
}

}  // namespace phalanx::adversary
