// libFuzzer target: the adversary's scenario file reader (adversary::parse_scenario: TOML,
// every rule of docs/adversary.md, each behaviour's own parameter check). Any text must give
// a Scenario or an Error, never a crash, UB or an allocation out of proportion to the text
// (fuzz_scenario.options caps single allocations). A Scenario it accepts must keep
// scenario.h's promise: every rule holds. The checks below restate each rule that can be
// read off the value, so a rule the reader forgets to apply shows up as a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "phalanx/adversary/scenario.h"

namespace {

using namespace phalanx;
using namespace phalanx::adversary;

constexpr pbft::Instant kMs = pbft::kMillisecond;

void require(bool holds) {
  if (!holds) __builtin_trap();
}

template <typename T, typename Min, typename Max>
bool within(T value, Min min, Max max) {
  return value >= static_cast<T>(min) && value <= static_cast<T>(max);
}

bool names_a_node(const Scenario& scenario, const NodeRef& node) {
  switch (node.kind) {
    case NodeRef::Kind::kReplica:
      return node.index < scenario.replicas;
    case NodeRef::Kind::kClient:
      return node.index < scenario.clients;
    case NodeRef::Kind::kTwin:
      return scenario.twins.count(node.index) != 0;
  }
  return false;
}

void check_cluster(const Scenario& scenario) {
  require(within(scenario.replicas, kScenarioReplicasMin, kScenarioReplicasMax));
  require((scenario.replicas - 1) % 3 == 0);  // n = 3f+1
  require(within(scenario.clients, 1, kScenarioClientsMax));
  require(within(scenario.requests_per_client, 1, kScenarioRequestsPerClientMax));
  require(within(scenario.seeds, 1, kScenarioSeedsMax));
  require(scenario.think_time <= kScenarioThinkMsMax * kMs);
  require(within(scenario.time_limit, pbft::kSecond, kScenarioTimeLimitSMax * pbft::kSecond));
  require(scenario.settle_time <= kScenarioTimeLimitSMax * pbft::kSecond);
  for (pbft::ReplicaId twin : scenario.twins) require(twin < scenario.replicas);
}

void check_link(const net::LinkRule& link) {
  require(link.latency_min_ns <= link.latency_max_ns);
  require(link.latency_max_ns <= kScenarioLatencyMsMax * kMs);
  require(within(link.drop_probability, 0, 1));
  require(within(link.duplicate_probability, 0, 1));
}

void check_partition(const Scenario& scenario, const Fault& fault) {
  require(!fault.groups.empty());
  std::vector<NodeRef> seen;
  for (const std::vector<NodeRef>& group : fault.groups) {
    require(!group.empty());
    for (const NodeRef& node : group) {
      require(names_a_node(scenario, node));
      require(std::find(seen.begin(), seen.end(), node) == seen.end());  // one group each
      seen.push_back(node);
    }
  }
}

void check_fault_fields(const Scenario& scenario, const Fault& fault) {
  switch (fault.kind) {
    case Fault::Kind::kPartition:
      check_partition(scenario, fault);
      break;
    case Fault::Kind::kIsolate:
      require(names_a_node(scenario, fault.node));
      break;
    case Fault::Kind::kClockRate:
      require(names_a_node(scenario, fault.node) && within(fault.rate, 0.02, 50));
      break;
    case Fault::Kind::kClockJump:
      require(names_a_node(scenario, fault.node) && fault.by >= kMs);  // forward only
      break;
    case Fault::Kind::kCut:
      require(names_a_node(scenario, fault.node) && names_a_node(scenario, fault.to));
      require(fault.node != fault.to);
      break;
    case Fault::Kind::kLink:
      check_link(fault.link);
      if (fault.between) {
        require(names_a_node(scenario, fault.between->first));
        require(names_a_node(scenario, fault.between->second));
        require(fault.between->first != fault.between->second);
      }
      break;
    case Fault::Kind::kPause:
    case Fault::Kind::kRejoin:
    case Fault::Kind::kAmnesia:
      require(fault.end.has_value());  // until_ms / restart_ms are required for these
      [[fallthrough]];
    case Fault::Kind::kCrash:
      require(fault.replica < scenario.replicas);
      break;
    case Fault::Kind::kHeal:
      break;
  }
}

bool takes_replica_down(const Fault& fault) {
  return fault.kind == Fault::Kind::kCrash || fault.kind == Fault::Kind::kRejoin ||
         fault.kind == Fault::Kind::kAmnesia;
}

// Every fault within the run, and a replica that is down is not taken down again.
void check_schedule(const Scenario& scenario) {
  require(scenario.faults.size() <= kScenarioFaultsMax);
  std::map<pbft::ReplicaId, std::vector<const Fault*>> downs;
  for (const Fault& fault : scenario.faults) {
    require(!fault.end || *fault.end > fault.at);
    require(fault.last_instant() < scenario.time_limit);
    check_fault_fields(scenario, fault);
    if (takes_replica_down(fault)) downs[fault.replica].push_back(&fault);
  }
  for (auto& [replica, faults] : downs) {
    std::sort(faults.begin(), faults.end(),
              [](const Fault* a, const Fault* b) { return a->at < b->at; });
    for (std::size_t i = 1; i < faults.size(); ++i)
      require(faults[i - 1]->end && *faults[i - 1]->end < faults[i]->at);
  }
}

void check_byzantine(const Scenario& scenario) {
  std::vector<pbft::ReplicaId> seen;
  for (const ByzantineReplica& byzantine : scenario.byzantine) {
    require(byzantine.replica < scenario.replicas && !byzantine.behaviour.empty());
    require(std::find(seen.begin(), seen.end(), byzantine.replica) == seen.end());
    seen.push_back(byzantine.replica);
  }
}

void check_expectation(const Scenario& scenario) {
  const Expectation& expect = scenario.expect;
  require(!expect.properties.empty());
  if (expect.liveness_bound) {
    require(expect.in_scope(ScenarioProperty::kL1));
    require(within(*expect.liveness_bound, kMs, kScenarioTimeLimitSMax * pbft::kSecond));
  }
  const std::set<pbft::ReplicaId> faulty = scenario.faulty();
  if (!expect.caught.empty()) require(expect.in_scope(ScenarioProperty::kS5));
  for (pbft::ReplicaId id : expect.caught) require(faulty.count(id) != 0);
  if (expect.outcome == Expectation::Outcome::kSafe) require(faulty.size() <= scenario.f());
  require(expect.violation_seeds_min > 0 && expect.violation_seeds_min <= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Scenario> scenario = parse_scenario(text, "fuzz.toml");
  if (!scenario.ok()) {
    // An Error names the file, so that a person knows which one to fix.
    require(scenario.error().message.starts_with("fuzz.toml"));
    return 0;
  }
  check_cluster(scenario.value());
  check_link(scenario.value().network);
  check_schedule(scenario.value());
  check_byzantine(scenario.value());
  check_expectation(scenario.value());
  return 0;
}
