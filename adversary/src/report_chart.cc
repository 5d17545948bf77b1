// The message sequence chart of one run (report.h): an HTML page with inline SVG, written
// by hand. Time runs downwards on a compressed scale: each instant something happens gets
// its own row, a stretch of time takes space in proportion up to a cap, and longer idle
// stretches are cut short and marked, so that a chart of a 30 s run with bursts of
// messages stays readable. The left axis gives the true simulated times.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "phalanx/adversary/report.h"
#include "phalanx/base/assert.h"

namespace phalanx::adversary {

namespace {

constexpr double kLaneWidthPx = 150;
constexpr double kAxisWidthPx = 110;
constexpr double kTopPx = 60;
// A typical message (the median latency) spans this much, whatever the network's latency.
constexpr double kMessagePx = 40;
constexpr double kPxPerMsMin = 2;
constexpr double kPxPerMsMax = 400;
constexpr double kRowMinPx = 6;           // between two distinct instants
constexpr std::size_t kLaneTextMax = 28;  // characters of a label on a lane (all in its title)
constexpr double kGapMaxPx = 120;         // longer stretches are cut short
constexpr double kTimeLabelPx = 48;       // between two time labels
constexpr double kHeaderEveryPx = 1400;   // lane names repeated down the chart

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

std::string ms_text(pbft::Instant at) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(at) / 1e6);
  return text;
}

// "pre-prepare" for PRE_PREPARE.
std::string kind_name(wire::Kind kind) {
  if (!wire::Kind_IsValid(kind) || kind == wire::KIND_UNSPECIFIED) return "garbage";
  std::string name = wire::Kind_Name(kind);
  for (char& c : name)
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// One colour per message kind, by its number (0: bytes that are no envelope).
constexpr const char* kKindColours[] = {"#7f7f7f", "#1f77b4", "#2ca02c", "#9467bd", "#17becf",
                                        "#bcbd22", "#8c564b", "#e377c2", "#ff7f0e", "#c7c7c7",
                                        "#393b79", "#637939", "#8c6d31", "#843c39"};
constexpr std::size_t kKindColourCount = sizeof kKindColours / sizeof kKindColours[0];
std::size_t colour_index(wire::Kind kind) {
  auto index = static_cast<std::size_t>(kind);
  return index < kKindColourCount ? index : 0;
}

bool is_message(TraceEvent::Kind kind) {
  return kind == TraceEvent::Kind::kDelivered || kind == TraceEvent::Kind::kRejected ||
         kind == TraceEvent::Kind::kLost || kind == TraceEvent::Kind::kFiltered;
}

std::string slot_text(const TraceEvent& event) {
  if (event.view && event.seq)
    return "(" + std::to_string(*event.view) + "," + std::to_string(*event.seq) + ")";
  if (event.view) return "(v" + std::to_string(*event.view) + ")";
  if (event.seq) return "(s" + std::to_string(*event.seq) + ")";
  return {};
}

// Lanes: replicas, then twins, then clients (SimCluster's node ids put clients first).
struct Lanes {
  std::vector<std::string> names;
  std::map<std::size_t, std::string> roles;  // by lane: a Byzantine replica's behaviour
  std::vector<std::size_t> lane_of_node;

  explicit Lanes(const Scenario& scenario) {
    const std::uint32_t n = scenario.replicas;
    const std::size_t twins = scenario.twins.size();
    lane_of_node.resize(n + scenario.clients + twins);
    names.resize(lane_of_node.size());
    std::map<pbft::ReplicaId, std::string> behaviour;
    for (const ByzantineReplica& byzantine : scenario.byzantine)
      behaviour[byzantine.replica] = byzantine.behaviour;
    for (pbft::ReplicaId id = 0; id < n; ++id) {
      lane_of_node[id] = id;
      names[id] = "replica " + std::to_string(id);
      if (behaviour.count(id)) roles[id] = behaviour[id];
    }
    std::size_t twin_index = 0;
    for (pbft::ReplicaId id : scenario.twins) {
      lane_of_node[n + scenario.clients + twin_index] = n + twin_index;
      names[n + twin_index] = "replica " + std::to_string(id) + " (twin)";
      ++twin_index;
    }
    for (std::uint32_t client = 0; client < scenario.clients; ++client) {
      lane_of_node[n + client] = n + twins + client;
      names[n + twins + client] = "client " + std::to_string(client);
    }
  }
  bool known(net::NodeId node) const { return node < lane_of_node.size(); }
  double x(net::NodeId node) const {
    return kAxisWidthPx + (static_cast<double>(lane_of_node[node]) + 0.5) * kLaneWidthPx;
  }
  double width() const {
    return kAxisWidthPx + static_cast<double>(names.size()) * kLaneWidthPx + 40;
  }
};

// The compressed time axis: y of each instant drawn.
class TimeAxis {
 public:
  TimeAxis(std::vector<pbft::Instant> instants, double px_per_ms) {
    std::sort(instants.begin(), instants.end());
    instants.erase(std::unique(instants.begin(), instants.end()), instants.end());
    double y = kTopPx + 30;
    pbft::Instant previous = 0;
    for (pbft::Instant at : instants) {
      double span = static_cast<double>(at - previous) / 1e6 * px_per_ms;
      if (!y_.empty()) {
        if (span > kGapMaxPx) cuts_.emplace_back(y + kGapMaxPx / 2, at - previous);
        y += std::clamp(span, kRowMinPx, kGapMaxPx);
      }
      y_[at] = y;
      previous = at;
    }
    bottom_ = y + 40;
  }
  double y(pbft::Instant at) const {
    auto found = y_.lower_bound(at);
    return found == y_.end() ? bottom_ - 40 : found->second;
  }
  double bottom() const { return bottom_; }
  const std::map<pbft::Instant, double>& rows() const { return y_; }
  // Stretches cut short: where (y) and how long they really were.
  const std::vector<std::pair<double, pbft::Instant>>& cuts() const { return cuts_; }

 private:
  std::map<pbft::Instant, double> y_;
  std::vector<std::pair<double, pbft::Instant>> cuts_;
  double bottom_ = kTopPx;
};

// Which trace events the chart draws: the first kChartMessagesMax messages and everything
// else up to the last of them.
struct Selection {
  std::vector<const TraceEvent*> events;
  std::size_t messages = 0;
  std::size_t messages_recorded = 0;
  bool cut_short = false;
};

Selection select(const std::vector<TraceEvent>& trace, const Lanes& lanes) {
  Selection selection;
  for (const TraceEvent& event : trace) {
    if (is_message(event.kind)) ++selection.messages_recorded;
  }
  pbft::Instant window_end = ~pbft::Instant{0};
  for (const TraceEvent& event : trace) {
    if (event.at > window_end) {
      selection.cut_short = true;
      break;
    }
    if (is_message(event.kind) || event.kind == TraceEvent::Kind::kByzantineSent) {
      if (!lanes.known(event.from) || !lanes.known(event.to)) continue;
      if (is_message(event.kind) && ++selection.messages == kChartMessagesMax)
        window_end = event.at;
    }
    selection.events.push_back(&event);
  }
  return selection;
}

// A lane is drawn as up, down (crashed) or paused, from the cluster's own fault notes.
void draw_lane_states(std::string& svg, const Selection& selection, const Lanes& lanes,
                      const TimeAxis& axis) {
  enum class State { kUp, kDown, kPaused };
  std::vector<std::pair<State, double>> current(lanes.lane_of_node.size(),
                                                {State::kUp, kTopPx + 20});
  auto segment = [&](net::NodeId node, double until) {
    auto [state, from] = current[node];
    const char* style = state == State::kUp     ? "lane"
                        : state == State::kDown ? "lane down"
                                                : "lane paused";
    double x = lanes.x(node);
    svg += "<line class=\"" + std::string(style) + "\" x1=\"" + number(x) + "\" y1=\"" +
           number(from) + "\" x2=\"" + number(x) + "\" y2=\"" + number(until) + "\"/>\n";
  };
  for (const TraceEvent* event : selection.events) {
    if (event->kind != TraceEvent::Kind::kFault || !lanes.known(event->from)) continue;
    State next = current[event->from].first;
    if (event->text == "crash")
      next = State::kDown;
    else if (event->text == "pause")
      next = State::kPaused;
    else if (event->text == "resume" || event->text.starts_with("restart") ||
             event->text.starts_with("rejoin"))
      next = State::kUp;
    if (next == current[event->from].first) continue;
    double y = axis.y(event->at);
    segment(event->from, y);
    current[event->from] = {next, y};
  }
  for (net::NodeId node = 0; node < current.size(); ++node) segment(node, axis.bottom());
}

void draw_message(std::string& svg, const TraceEvent& event, const Lanes& lanes,
                  const TimeAxis& axis) {
  double x1 = lanes.x(event.from), x2 = lanes.x(event.to);
  double y1 = axis.y(event.sent_at), y2 = axis.y(event.at);
  std::size_t colour = colour_index(event.message);
  std::string name = kind_name(event.message);
  std::string title =
      name + " " + slot_text(event) + " from " + lanes.names[lanes.lane_of_node[event.from]] +
      " to " + lanes.names[lanes.lane_of_node[event.to]] + ", sent " + ms_text(event.sent_at);
  std::string css = "m k" + std::to_string(colour);
  if (event.byzantine) css += " byz";
  std::string marker = event.byzantine ? "byz" : "k" + std::to_string(colour);
  switch (event.kind) {
    case TraceEvent::Kind::kDelivered:
      title += ", delivered " + ms_text(event.at);
      break;
    case TraceEvent::Kind::kRejected:
      title += ", rejected " + ms_text(event.at) + ": " + event.text;
      css += " rejected";
      marker = "x";
      break;
    case TraceEvent::Kind::kLost:
    case TraceEvent::Kind::kFiltered: {
      // A stub a third of the way, going down a little: it never arrived.
      x2 = x1 + (x2 - x1) * 0.3;
      y2 = y1 + 10;
      title += event.kind == TraceEvent::Kind::kLost ? ", lost by the network"
                                                     : ", dropped by the send filter";
      css += " lost";
      marker = "lost";
      break;
    }
    default:
      return;
  }
  if (event.byzantine) title += " (Byzantine)";
  svg += "<g><title>" + escape(title) + "</title><line class=\"" + css + "\" x1=\"" + number(x1) +
         "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" + number(y2) +
         "\" marker-end=\"url(#" + marker + ")\"/>";
  if (event.kind != TraceEvent::Kind::kLost && event.kind != TraceEvent::Kind::kFiltered) {
    // Near the receiving end: arrivals are spread wider than the copies of a broadcast.
    double lx = x1 + (x2 - x1) * 0.7, ly = y1 + (y2 - y1) * 0.7 - 2;
    svg += "<text class=\"ml" + std::string(event.byzantine ? " byz" : "") + "\" x=\"" +
           number(lx) + "\" y=\"" + number(ly) + "\">" + escape(name + " " + slot_text(event)) +
           "</text>";
  }
  svg += "</g>\n";
}

// Network faults at one instant get their labels one under the other.
struct BandLabels {
  double last_y = -1;
  double offset = 0;
  double place(double y) {
    offset = y == last_y ? offset + 12 : 0;
    last_y = y;
    return y + offset;
  }
};

void draw_note(std::string& svg, const TraceEvent& event, const Lanes& lanes, const TimeAxis& axis,
               BandLabels& bands) {
  double y = axis.y(event.at);
  std::string title = escape(event.text + " at " + ms_text(event.at));
  if (event.kind == TraceEvent::Kind::kByzantineSent) {
    double x = lanes.x(event.from);
    svg += "<g><title>" +
           escape("Byzantine " + kind_name(event.message) + " " + slot_text(event) + " sent at " +
                  ms_text(event.at)) +
           "</title><rect class=\"bsent\" x=\"" + number(x - 3) + "\" y=\"" + number(y - 3) +
           "\" width=\"6\" height=\"6\" transform=\"rotate(45 " + number(x) + " " + number(y) +
           ")\"/></g>\n";
    return;
  }
  if (event.kind == TraceEvent::Kind::kFault && !lanes.known(event.from)) {
    // A fault of the whole network: a band across every lane.
    svg += "<g><title>" + title + "</title><rect class=\"band\" x=\"" + number(kAxisWidthPx) +
           "\" y=\"" + number(y - 2) + "\" width=\"" + number(lanes.width() - kAxisWidthPx - 40) +
           "\" height=\"4\"/><text class=\"fault\" x=\"" + number(kAxisWidthPx + 4) + "\" y=\"" +
           number(bands.place(y) - 5) + "\">&#9889; " + escape(event.text) + "</text></g>\n";
    return;
  }
  if (!lanes.known(event.from)) return;
  double x = lanes.x(event.from);
  bool fault = event.kind == TraceEvent::Kind::kFault;
  std::string css = fault ? "fault" : "event";
  if (!fault && event.text.starts_with("evidence")) css += " evidence";
  if (!fault && event.text.starts_with("view")) css += " view";
  if (fault)
    svg += "<rect class=\"nodefault\" x=\"" + number(x - 6) + "\" y=\"" + number(y - 2) +
           "\" width=\"12\" height=\"4\"/>";
  svg += "<text class=\"" + css + "\" x=\"" + number(x + 5) + "\" y=\"" + number(y + 3) +
         "\"><title>" + title + "</title>" + (fault ? "&#9889; " : "") +
         escape(event.text.size() > kLaneTextMax ? event.text.substr(0, kLaneTextMax - 3) + "..."
                                                 : event.text) +
         "</text>\n";
}

void draw_axis(std::string& svg, const TimeAxis& axis, const Lanes& lanes) {
  double last_label = -1e9, last_header = kTopPx;
  auto header = [&](double y) {
    for (std::size_t lane = 0; lane < lanes.names.size(); ++lane) {
      double x = kAxisWidthPx + (static_cast<double>(lane) + 0.5) * kLaneWidthPx;
      svg += "<text class=\"lanename\" x=\"" + number(x) + "\" y=\"" + number(y) + "\">" +
             escape(lanes.names[lane]) + "</text>\n";
      if (auto role = lanes.roles.find(lane); role != lanes.roles.end())
        svg += "<text class=\"lanerole\" x=\"" + number(x) + "\" y=\"" + number(y + 12) +
               "\">Byzantine: " + escape(role->second) + "</text>\n";
    }
  };
  header(kTopPx);
  for (const auto& [at, y] : axis.rows()) {
    if (y - last_label < kTimeLabelPx) continue;
    last_label = y;
    svg += "<text class=\"time\" x=\"" + number(kAxisWidthPx - 8) + "\" y=\"" + number(y + 3) +
           "\">" + ms_text(at) + "</text><line class=\"tick\" x1=\"" + number(kAxisWidthPx - 4) +
           "\" y1=\"" + number(y) + "\" x2=\"" + number(lanes.width() - 40) + "\" y2=\"" +
           number(y) + "\"/>\n";
    if (y - last_header > kHeaderEveryPx) {
      header(y + 16);
      last_header = y;
    }
  }
  for (const auto& [y, skipped] : axis.cuts()) {
    svg += "<text class=\"cut\" x=\"" + number(kAxisWidthPx - 8) + "\" y=\"" + number(y + 3) +
           "\">&#8942; +" + ms_text(skipped) + "</text>\n";
  }
}

std::string legend() {
  std::string html = "<div class=\"legend\"><b>Legend</b>: ";
  for (std::size_t kind = 1; kind < kKindColourCount; ++kind) {
    if (!wire::Kind_IsValid(static_cast<int>(kind))) continue;
    html += "<span style=\"color:" + std::string(kKindColours[kind]) + "\">&#9632; " +
            kind_name(static_cast<wire::Kind>(kind)) + "</span> ";
  }
  html +=
      "<br>Arrows: a message from the sender's lane when it was sent to the receiver's lane "
      "when it arrived, labelled with its kind and (view, seq). <span class=\"sbyz\">Red</span>: "
      "made or changed by a Byzantine behaviour (&#9670; where it left). Dashed with &#10005;: "
      "rejected at the edge (hover for the reason). Short dashed stub ending in &#9675;: lost "
      "(drop, cut, partition). <span class=\"sfault\">&#9889; Orange</span>: faults (bands "
      "across the chart concern the network). Lanes: <span class=\"sdown\">dashed red</span> "
      "while crashed, <span class=\"spaused\">dotted blue</span> while paused. "
      "<span class=\"sevent\">Purple</span>: replica events (view changes, evidence in bold red, "
      "state transfer, recovery). Time runs downwards; idle stretches are cut short (&#8942;). "
      "Hover over anything for details.</div>\n";
  return html;
}

constexpr const char* kStyle = R"(<style>
body { font-family: sans-serif; font-size: 14px; margin: 16px; }
h1 { font-size: 20px; } .ok { color: #2ca02c; } .bad { color: #d62728; }
pre { background: #f4f4f4; padding: 6px; white-space: pre-wrap; }
.legend { margin: 8px 0; line-height: 1.6; } .legend span { margin-right: 8px; }
.sbyz { color: #d62728; font-weight: bold; } .sfault { color: #e6550d; } .sdown { color: #d62728; }
.spaused { color: #1f77b4; } .sevent { color: #6a3d9a; }
svg text { font-size: 9px; } .lanename { font-size: 12px; font-weight: bold; text-anchor: middle;
  paint-order: stroke; stroke: #fff; stroke-width: 4px; }
.lanerole { font-size: 10px; fill: #d62728; text-anchor: middle; }
.time, .cut { text-anchor: end; fill: #555; } .cut { fill: #999; font-style: italic; }
.tick { stroke: #eee; stroke-width: 1; }
.lane { stroke: #444; stroke-width: 1.5; } .lane.down { stroke: #d62728; stroke-dasharray: 6 4; stroke-width: 3; }
.lane.paused { stroke: #1f77b4; stroke-dasharray: 2 3; stroke-width: 4; }
.m { stroke-width: 1; fill: none; } .m.byz { stroke: #d62728 !important; stroke-width: 2; }
.m.rejected { stroke-dasharray: 4 2; } .m.lost { stroke: #999 !important; stroke-dasharray: 3 2; }
.ml { fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 2px; } .ml.byz { fill: #d62728; }
.band { fill: #fdae6b; opacity: 0.8; } .nodefault { fill: #e6550d; }
.fault { fill: #e6550d; font-weight: bold; font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 2px; }
.event { fill: #6a3d9a; paint-order: stroke; stroke: #fff; stroke-width: 2px; }
.event.evidence { fill: #d62728; font-weight: bold; } .event.view { fill: #08519c; }
.bsent { fill: #d62728; }
)";

}  // namespace

std::string chart_html(const ScenarioReport& report) {
  PHALANX_ASSERT(report.charted.has_value(), "chart_html needs a traced run");
  const Scenario& scenario = report.scenario;
  const SeedOutcome& run = *report.charted;
  Lanes lanes(scenario);
  Selection selection = select(run.trace, lanes);
  std::vector<pbft::Instant> instants;
  for (const TraceEvent* event : selection.events) {
    instants.push_back(event->at);
    if (is_message(event->kind)) instants.push_back(event->sent_at);
  }
  // The scale: the median latency of the drawn messages takes kMessagePx.
  std::vector<pbft::Instant> latencies;
  for (const TraceEvent* event : selection.events)
    if (event->kind == TraceEvent::Kind::kDelivered)
      latencies.push_back(event->at - event->sent_at);
  double px_per_ms = kMessagePx;
  if (!latencies.empty()) {
    std::nth_element(latencies.begin(), latencies.begin() + latencies.size() / 2, latencies.end());
    double median_ms = static_cast<double>(latencies[latencies.size() / 2]) / 1e6;
    if (median_ms > 0) px_per_ms = std::clamp(kMessagePx / median_ms, kPxPerMsMin, kPxPerMsMax);
  }
  TimeAxis axis(std::move(instants), px_per_ms);

  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
                     escape(scenario.name) + " (seed " + std::to_string(run.seed) + ")</title>\n" +
                     kStyle;
  for (std::size_t kind = 0; kind < kKindColourCount; ++kind)
    html += ".k" + std::to_string(kind) + " { stroke: " + kKindColours[kind] + "; }\n";
  html += "</style></head><body>\n<h1>" + escape(scenario.name) + "</h1>\n<p>" +
          escape(scenario.description) + "</p>\n<p>File <code>" + escape(report.path) +
          "</code>, seed " + std::to_string(run.seed) + ": " +
          (run.expected ? "<b class=\"ok\">as expected</b>"
                        : "<b class=\"bad\">unexpected</b>: " + escape(run.unexpected)) +
          ". Replay: <code>" + escape(replay_command(report.path, run.seed)) + "</code></p>\n";
  html += "<p>n = " + std::to_string(scenario.replicas) + " (f = " + std::to_string(scenario.f()) +
          "), " + std::to_string(scenario.clients) + " clients x " +
          std::to_string(scenario.requests_per_client) + " requests. Completed " +
          std::to_string(run.completed_requests) + "/" + std::to_string(run.expected_requests) +
          ", view changes " + std::to_string(run.view_changes) + ", evidence " +
          std::to_string(run.evidence_count) + ", run ended at " + ms_text(run.sim_time) +
          (run.recovery ? ", L1 recovery " + ms_text(*run.recovery) : std::string()) + ".</p>\n";
  if (!scenario.faults.empty()) {
    html += "<p>Faults:</p><pre>";
    for (const Fault& fault : scenario.faults) html += escape(describe(fault)) + "\n";
    html += "</pre>\n";
  }
  if (!run.violations.empty()) {
    html += "<p>Violations:</p><pre>";
    for (const PropertyViolation& violation : run.violations)
      html +=
          escape(to_string(violation)) + (violation.listed ? "" : " (not listed: ignored)") + "\n";
    html += "</pre>\n";
  }
  if (!run.evidence.empty()) {
    html += "<p>Evidence:</p><pre>";
    for (const AccusationRecord& accusation : run.evidence)
      html += "replica " + std::to_string(accusation.accused) + " accused by " +
              (accusation.accuser ? "replica " + std::to_string(*accusation.accuser) : "?") + ": " +
              escape(accusation.what) + "\n";
    html += "</pre>\n";
  }
  html += "<p><i>Showing " + std::to_string(selection.messages) + " of the " +
          std::to_string(selection.messages_recorded) + " messages recorded" +
          (selection.cut_short
               ? " (the chart stops after the first " + std::to_string(kChartMessagesMax) + ")"
               : "") +
          "; the trace keeps the first " + std::to_string(kChartTraceLimit) +
          " events of the run (messages, faults and replica events).</i></p>\n";
  html += legend();

  std::string svg;
  draw_axis(svg, axis, lanes);
  draw_lane_states(svg, selection, lanes, axis);
  BandLabels bands;
  for (const TraceEvent* event : selection.events) {
    if (is_message(event->kind))
      draw_message(svg, *event, lanes, axis);
    else
      draw_note(svg, *event, lanes, axis, bands);
  }
  html += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(lanes.width()) +
          "\" height=\"" + number(axis.bottom()) + "\">\n<defs>\n";
  auto marker = [&](const std::string& id, const std::string& shape) {
    html += "<marker id=\"" + id +
            "\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
            "markerHeight=\"7\" orient=\"auto-start-reverse\">" +
            shape + "</marker>\n";
  };
  for (std::size_t kind = 0; kind < kKindColourCount; ++kind)
    marker("k" + std::to_string(kind),
           "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"" + std::string(kKindColours[kind]) + "\"/>");
  marker("byz", "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#d62728\"/>");
  marker("x", "<path d=\"M1,1 L9,9 M9,1 L1,9\" stroke=\"#d62728\" stroke-width=\"2.5\"/>");
  marker(
      "lost",
      "<circle cx=\"5\" cy=\"5\" r=\"3.5\" fill=\"none\" stroke=\"#999\" stroke-width=\"1.5\"/>");
  html += "</defs>\n" + svg + "</svg>\n</body></html>\n";
  return html;
}

}  // namespace phalanx::adversary
