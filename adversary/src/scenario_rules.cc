// The rules of a scenario file that need all of it (scenario_internal.h), and the names
// and descriptions of a scenario's parts.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "phalanx/adversary/scenario.h"
#include "scenario_internal.h"

namespace phalanx::adversary {

namespace {
constexpr pbft::Instant kMs = pbft::kMillisecond;

std::string replica_names(const std::set<pbft::ReplicaId>& ids) {
  std::string text;
  for (pbft::ReplicaId id : ids) text += (text.empty() ? "" : ", ") + std::to_string(id);
  return text;
}

}  // namespace

namespace scenario_detail {

const std::vector<FaultKindInfo>& fault_kinds() {
  static const std::vector<FaultKindInfo> kinds = {
      {"partition", Fault::Kind::kPartition, {"groups", "until_ms"}, {"groups"}},
      {"isolate", Fault::Kind::kIsolate, {"node", "until_ms"}, {"node"}},
      {"cut", Fault::Kind::kCut, {"from", "to", "until_ms"}, {"from", "to"}},
      {"heal", Fault::Kind::kHeal, {}, {}},
      {"link", Fault::Kind::kLink, {"drop", "duplicate", "latency_ms", "between", "until_ms"}, {}},
      {"crash", Fault::Kind::kCrash, {"replica", "restart_ms"}, {"replica"}},
      {"pause", Fault::Kind::kPause, {"replica", "until_ms"}, {"replica", "until_ms"}},
      {"rejoin", Fault::Kind::kRejoin, {"replica", "restart_ms"}, {"replica", "restart_ms"}},
      {"amnesia", Fault::Kind::kAmnesia, {"replica", "restart_ms"}, {"replica", "restart_ms"}},
      {"clock_rate", Fault::Kind::kClockRate, {"node", "rate", "until_ms"}, {"node", "rate"}},
      {"clock_jump", Fault::Kind::kClockJump, {"node", "by_ms"}, {"node", "by_ms"}},
  };
  return kinds;
}

// Crashes, rejoins and amnesia of one replica must not overlap: a replica that is down
// cannot crash again, and one that never restarts stays down.
void check_schedule(const Scenario& scenario, Problems& problems) {
  if (scenario.faults.size() > kScenarioFaultsMax)
    problems.add(0, std::to_string(scenario.faults.size()) + " faults, more than the limit of " +
                        std::to_string(kScenarioFaultsMax));
  std::map<pbft::ReplicaId, std::vector<const Fault*>> downs;
  for (const Fault& fault : scenario.faults) {
    if (fault.kind == Fault::Kind::kCrash || fault.kind == Fault::Kind::kRejoin ||
        fault.kind == Fault::Kind::kAmnesia)
      downs[fault.replica].push_back(&fault);
  }
  for (auto& [replica, faults] : downs) {
    std::stable_sort(faults.begin(), faults.end(),
                     [](const Fault* a, const Fault* b) { return a->at < b->at; });
    for (std::size_t i = 1; i < faults.size(); ++i) {
      const Fault& before = *faults[i - 1];
      const Fault& after = *faults[i];
      if (before.end && *before.end < after.at) continue;
      problems.add(after.line,
                   "[[fault]] " + std::string(to_string(after.kind)) + " of replica " +
                       std::to_string(replica) + " at " + std::to_string(after.at / kMs) +
                       " ms: the replica is down then (" + std::string(to_string(before.kind)) +
                       " at line " + std::to_string(before.line) +
                       (before.end ? ", back at " + std::to_string(*before.end / kMs) + " ms)"
                                   : ", never restarted)"));
    }
  }
}

void check_expectation(const Scenario& scenario, const Lines& lines, Problems& problems) {
  const std::set<pbft::ReplicaId> faulty = scenario.faulty();
  if (scenario.expect.outcome == Expectation::Outcome::kSafe && faulty.size() > scenario.f()) {
    problems.add(
        lines.outcome,
        std::to_string(faulty.size()) + " replicas are faulty (" + replica_names(faulty) +
            ": Byzantine, twinned or amnesiac) but n = " + std::to_string(scenario.replicas) +
            " tolerates f = " + std::to_string(scenario.f()) +
            ": nothing is promised; write outcome = \"violation\" and list the "
            "properties that may fail");
  }
  for (pbft::ReplicaId id : scenario.expect.caught) {
    if (faulty.count(id) == 0)
      problems.add(lines.caught, "[expect] caught: replica " + std::to_string(id) +
                                     " is correct (not Byzantine, twinned or amnesiac), and a "
                                     "correct replica must never be caught");
  }
}

}  // namespace scenario_detail

std::string_view to_string(ScenarioProperty property) {
  static constexpr std::array<std::string_view, kScenarioPropertyCount> kNames = {"S1", "S2", "S3",
                                                                                  "S4", "S5", "L1"};
  return kNames[static_cast<std::size_t>(property)];
}

std::optional<ScenarioProperty> scenario_property(std::string_view name) {
  for (std::size_t i = 0; i < kScenarioPropertyCount; ++i) {
    auto property = static_cast<ScenarioProperty>(i);
    if (to_string(property) == name) return property;
  }
  return std::nullopt;
}

ScenarioProperty scenario_property(Property property) {
  switch (property) {
    case Property::kAgreement:
      return ScenarioProperty::kS1;
    case Property::kTotalOrder:
      return ScenarioProperty::kS2;
    case Property::kExactlyOnce:
    case Property::kValidity:
      return ScenarioProperty::kS3;
    case Property::kDurability:
      return ScenarioProperty::kS4;
    case Property::kAccountability:
      return ScenarioProperty::kS5;
    case Property::kCompletion:
      return ScenarioProperty::kL1;
  }
  return ScenarioProperty::kL1;
}

std::string to_string(const NodeRef& node) {
  switch (node.kind) {
    case NodeRef::Kind::kReplica:
      return std::to_string(node.index);
    case NodeRef::Kind::kClient:
      return "client:" + std::to_string(node.index);
    case NodeRef::Kind::kTwin:
      return "twin:" + std::to_string(node.index);
  }
  return "?";
}

std::string_view to_string(Fault::Kind kind) {
  for (const auto& info : scenario_detail::fault_kinds())
    if (info.kind == kind) return info.name;
  return "?";
}

std::string describe(const Fault& fault) {
  auto ms = [](pbft::Instant at) { return std::to_string(at / kMs) + "ms"; };
  std::string text = std::string(to_string(fault.kind));
  switch (fault.kind) {
    case Fault::Kind::kPartition:
      for (std::size_t i = 0; i < fault.groups.size(); ++i) {
        text += i == 0 ? " {" : " | {";
        for (std::size_t j = 0; j < fault.groups[i].size(); ++j)
          text += (j == 0 ? "" : ",") + to_string(fault.groups[i][j]);
        text += "}";
      }
      break;
    case Fault::Kind::kIsolate:
      text += " " + to_string(fault.node);
      break;
    case Fault::Kind::kCut:
      text += " " + to_string(fault.node) + "->" + to_string(fault.to);
      break;
    case Fault::Kind::kHeal:
      break;
    case Fault::Kind::kLink: {
      if (fault.between)
        text += " " + to_string(fault.between->first) + "<->" + to_string(fault.between->second);
      char rule[96];
      std::snprintf(rule, sizeof rule, " latency=%llu-%llums drop=%g duplicate=%g",
                    static_cast<unsigned long long>(fault.link.latency_min_ns / kMs),
                    static_cast<unsigned long long>(fault.link.latency_max_ns / kMs),
                    fault.link.drop_probability, fault.link.duplicate_probability);
      text += rule;
      break;
    }
    case Fault::Kind::kCrash:
    case Fault::Kind::kPause:
    case Fault::Kind::kRejoin:
    case Fault::Kind::kAmnesia:
      text += " " + std::to_string(fault.replica);
      break;
    case Fault::Kind::kClockRate: {
      char rate[32];
      std::snprintf(rate, sizeof rate, " x%g", fault.rate);
      text += " " + to_string(fault.node) + rate;
      break;
    }
    case Fault::Kind::kClockJump:
      text += " " + to_string(fault.node) + " +" + ms(fault.by);
      break;
  }
  text += " @" + ms(fault.at);
  if (fault.end) {
    bool restarts = fault.kind == Fault::Kind::kCrash || fault.kind == Fault::Kind::kRejoin ||
                    fault.kind == Fault::Kind::kAmnesia;
    text += (restarts ? ", restart @" : "-") + ms(*fault.end);
  }
  return text;
}

std::set<pbft::ReplicaId> Scenario::faulty() const {
  std::set<pbft::ReplicaId> ids = twins;
  for (const ByzantineReplica& entry : byzantine) ids.insert(entry.replica);
  for (const Fault& fault : faults)
    if (fault.kind == Fault::Kind::kAmnesia) ids.insert(fault.replica);
  return ids;
}

pbft::Instant Scenario::last_fault_end() const {
  pbft::Instant last = 0;
  for (const Fault& fault : faults) last = std::max(last, fault.last_instant());
  return last;
}

}  // namespace phalanx::adversary
