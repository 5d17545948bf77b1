// Playing a Scenario in the simulator for one seed, and judging the outcome against what
// the scenario expects (scenario.h, docs/adversary.md).
#include <algorithm>
#include <cmath>
#include <memory>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/scenario.h"

namespace phalanx::adversary {

namespace {

constexpr pbft::Instant kMs = pbft::kMillisecond;
// The checker names every request that never completed; a few of them say enough.
constexpr std::size_t kCompletionViolationsShown = 3;
// Evidence kept per seed for the report (the count covers all of it).
constexpr std::size_t kEvidenceKeptMax = 100;

std::string ms_text(pbft::Instant at) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(at) / static_cast<double>(kMs));
  return text;
}

net::NodeId node_id(const SimCluster& cluster, const NodeRef& node) {
  switch (node.kind) {
    case NodeRef::Kind::kReplica:
      return node.index;
    case NodeRef::Kind::kClient:
      return cluster.client_node(node.index);
    case NodeRef::Kind::kTwin:
      return *cluster.twin_node(node.index);  // the parser checked it has one
  }
  return node.index;
}

// The network faults in force. SimNetwork keeps one partition at a time and cannot lift
// a single cut, and a link fault's end must not undo another's: so every change starts
// from a healed network with the scenario's [network] rule and applies again what is
// still in force, in the order it began (a later partition replaces an earlier one).
class NetworkFaults {
 public:
  explicit NetworkFaults(const Scenario& scenario) : scenario_(scenario) {}

  void begin(SimCluster& cluster, const Fault& fault) {
    if (fault.kind == Fault::Kind::kHeal) {
      std::erase_if(in_force_,
                    [](const Fault* active) { return active->kind != Fault::Kind::kLink; });
      cluster.note("heal: partitions, isolations and cuts end");
    } else {
      in_force_.push_back(&fault);
      cluster.note(describe(fault), noted_node(cluster, fault));
    }
    apply(cluster);
  }

  void end(SimCluster& cluster, const Fault& fault) {
    auto found = std::find(in_force_.begin(), in_force_.end(), &fault);
    if (found == in_force_.end()) return;  // a heal ended it already
    in_force_.erase(found);
    cluster.note("end of " + describe(fault), noted_node(cluster, fault));
    apply(cluster);
  }

 private:
  std::optional<net::NodeId> noted_node(const SimCluster& cluster, const Fault& fault) const {
    if (fault.kind == Fault::Kind::kIsolate || fault.kind == Fault::Kind::kCut)
      return node_id(cluster, fault.node);
    return std::nullopt;
  }

  void apply(SimCluster& cluster) const {
    net::SimNetwork& network = cluster.network();
    network.heal();
    network.set_rule(scenario_.network);
    for (const Fault* fault : in_force_) {
      switch (fault->kind) {
        case Fault::Kind::kPartition: {
          std::vector<std::vector<net::NodeId>> groups;
          for (const auto& group : fault->groups) {
            groups.emplace_back();
            for (const NodeRef& node : group) groups.back().push_back(node_id(cluster, node));
          }
          network.partition(groups);
          break;
        }
        case Fault::Kind::kIsolate:
          network.isolate(node_id(cluster, fault->node));
          break;
        case Fault::Kind::kCut:
          network.cut(node_id(cluster, fault->node), node_id(cluster, fault->to));
          break;
        case Fault::Kind::kLink:
          if (fault->between) {
            net::NodeId a = node_id(cluster, fault->between->first);
            net::NodeId b = node_id(cluster, fault->between->second);
            network.set_link_rule(a, b, fault->link);
            network.set_link_rule(b, a, fault->link);
          } else {
            network.set_rule(fault->link);
          }
          break;
        default:
          break;
      }
    }
  }

  const Scenario& scenario_;
  std::vector<const Fault*> in_force_;  // in the order they began
};

// What the run saw that the result does not say: restarts refused, and who accused whom.
struct Observations {
  std::vector<std::string> notes;
  std::map<net::NodeId, std::vector<double>> clock_rates;  // in force, by node, in order
};

void schedule_fault(SimCluster& cluster, const Fault& fault,
                    const std::shared_ptr<NetworkFaults>& network,
                    const std::shared_ptr<Observations>& seen) {
  const pbft::ReplicaId id = fault.replica;
  switch (fault.kind) {
    case Fault::Kind::kPartition:
    case Fault::Kind::kIsolate:
    case Fault::Kind::kCut:
    case Fault::Kind::kHeal:
    case Fault::Kind::kLink:
      cluster.schedule_action(fault.at,
                              [network, &fault](SimCluster& c) { network->begin(c, fault); });
      if (fault.end)
        cluster.schedule_action(*fault.end,
                                [network, &fault](SimCluster& c) { network->end(c, fault); });
      return;
    case Fault::Kind::kCrash:  // the cluster notes crashes, restarts, pauses and rejoins
      cluster.schedule_action(fault.at, [id](SimCluster& c) { c.crash(id); });
      if (fault.end) {
        cluster.schedule_action(*fault.end, [id, seen](SimCluster& c) {
          if (c.crashed(id) && !c.restart(id))
            seen->notes.push_back("replica " + std::to_string(id) + " did not restart at " +
                                  ms_text(c.now()) + ": its storage refused to load (" +
                                  c.refusal(id) + ")");
        });
      }
      return;
    case Fault::Kind::kPause:
      cluster.pause(id, fault.at, *fault.end);
      return;
    case Fault::Kind::kRejoin:
    case Fault::Kind::kAmnesia: {
      bool amnesiac = fault.kind == Fault::Kind::kAmnesia;
      cluster.schedule_action(fault.at, [id](SimCluster& c) { c.crash(id); });
      cluster.schedule_action(*fault.end, [id, amnesiac](SimCluster& c) {
        if (!c.crashed(id)) return;
        if (amnesiac)
          c.restart_amnesiac(id);
        else
          c.rejoin(id);
      });
      return;
    }
    case Fault::Kind::kClockRate: {
      net::NodeId node = node_id(cluster, fault.node);
      double rate = fault.rate;
      cluster.schedule_action(fault.at, [node, rate, seen, &fault](SimCluster& c) {
        seen->clock_rates[node].push_back(rate);
        c.set_clock_rate(node, rate);
        c.note(describe(fault), node);
      });
      if (fault.end) {
        cluster.schedule_action(*fault.end, [node, rate, seen, &fault](SimCluster& c) {
          auto& rates = seen->clock_rates[node];
          rates.erase(std::find(rates.begin(), rates.end(), rate));
          c.set_clock_rate(node, rates.empty() ? 1.0 : rates.back());
          c.note("end of " + describe(fault), node);
        });
      }
      return;
    }
    case Fault::Kind::kClockJump: {
      net::NodeId node = node_id(cluster, fault.node);
      cluster.schedule_action(fault.at, [node, &fault](SimCluster& c) {
        c.jump_clock(node, fault.by);
        c.note(describe(fault), node);
      });
      return;
    }
  }
}

SimClusterOptions cluster_options(const Scenario& scenario, std::uint64_t seed,
                                  const RunSettings& settings) {
  SimClusterOptions options;
  options.seed = seed;
  options.replicas = scenario.replicas;
  options.clients = scenario.clients;
  options.requests_per_client = scenario.requests_per_client;
  options.think_time = scenario.think_time;
  options.replica_options = scenario.replica_options;
  options.client_options = scenario.client_options;
  options.network = scenario.network;
  options.time_limit = scenario.time_limit;
  options.settle_time = scenario.settle_time;
  options.storage = scenario.storage;
  options.twins = scenario.twins;
  options.trace_limit = settings.trace_limit;
  options.make_application = settings.make_application;
  options.make_operation = settings.make_operation;
  return options;
}

void add(SeedOutcome& outcome, const Expectation& expect, ScenarioProperty property,
         std::string message) {
  outcome.violations.push_back(
      PropertyViolation{property, std::move(message), expect.in_scope(property)});
}

// L1 (scenario.h): every request completed, within the bound after the last fault ended.
void judge_liveness(const Scenario& scenario, const RunResult& result,
                    const std::vector<CompletionRecord>& completions, SeedOutcome& outcome) {
  outcome.last_fault_end = scenario.last_fault_end();
  for (const CompletionRecord& completion : completions)
    outcome.last_completion =
        std::max(outcome.last_completion.value_or(0), completion.completed_at);
  if (result.completed_requests == result.expected_requests) {
    pbft::Instant last = outcome.last_completion.value_or(0);
    outcome.recovery = last > outcome.last_fault_end ? last - outcome.last_fault_end : 0;
  }
  const Expectation& expect = scenario.expect;
  if (!outcome.recovery) {
    add(outcome, expect, ScenarioProperty::kL1,
        "L1 liveness: " + std::to_string(result.completed_requests) + " of " +
            std::to_string(result.expected_requests) + " requests completed; the run stopped (" +
            std::string(to_string(result.stop)) + ") at " + ms_text(result.sim_time));
  } else if (expect.liveness_bound && *outcome.recovery > *expect.liveness_bound) {
    add(outcome, expect, ScenarioProperty::kL1,
        "L1 liveness: the last request completed " + ms_text(*outcome.recovery) +
            " after the last fault ended (at " + ms_text(outcome.last_fault_end) +
            "); the bound is " + ms_text(*expect.liveness_bound));
  }
}

// S5 (scenario.h): every replica the scenario says must be caught was accused by a
// replica that is correct.
void judge_evidence(const Scenario& scenario, const SimCluster& cluster, SeedOutcome& outcome) {
  const auto& accusations = cluster.history().accusations();
  for (std::size_t i = 0; i < accusations.size(); ++i) {
    std::optional<pbft::ReplicaId> accuser = accusations[i].accuser;
    if (!accuser || !cluster.history().faulty(*accuser))
      outcome.caught.insert(accusations[i].accused);
    if (outcome.evidence.size() < kEvidenceKeptMax)
      outcome.evidence.push_back(
          AccusationRecord{accusations[i].accused, accuser, accusations[i].what});
  }
  outcome.evidence_count = accusations.size();
  for (pbft::ReplicaId id : scenario.expect.caught) {
    if (outcome.caught.count(id) == 0)
      add(outcome, scenario.expect, ScenarioProperty::kS5,
          "S5 accountability: replica " + std::to_string(id) +
              " was not caught: no correct replica holds evidence against it");
  }
}

std::string listed_names(const Expectation& expect) {
  std::string text;
  for (ScenarioProperty property : expect.properties)
    text += (text.empty() ? "" : ", ") + std::string(to_string(property));
  return text;
}

void judge(const Scenario& scenario, SeedOutcome& outcome) {
  const Expectation& expect = scenario.expect;
  std::vector<const PropertyViolation*> listed, unlisted;
  for (const PropertyViolation& violation : outcome.violations)
    (violation.listed ? listed : unlisted).push_back(&violation);
  outcome.violated = !listed.empty();
  outcome.broke_promise = expect.outcome == Expectation::Outcome::kViolation && !unlisted.empty();
  if (expect.outcome == Expectation::Outcome::kSafe) {
    outcome.expected = listed.empty();
    if (!outcome.expected) outcome.unexpected = to_string(*listed.front());
    return;
  }
  outcome.expected = outcome.violated && unlisted.empty();
  if (!unlisted.empty()) {
    outcome.unexpected =
        std::string(to_string(unlisted.front()->property)) +
        " is not among the properties that may fail: " + to_string(*unlisted.front());
  } else if (!outcome.violated) {
    outcome.unexpected = "no violation of " + listed_names(expect) + " (a harmless run)";
  }
}

}  // namespace

std::string to_string(const PropertyViolation& violation) {
  std::string label(to_string(violation.property));
  if (violation.message.starts_with(label)) return violation.message;
  return label + " " + violation.message;
}

SeedOutcome run_scenario(const Scenario& scenario, std::uint64_t seed,
                         const RunSettings& settings) {
  SeedOutcome outcome;
  outcome.seed = seed;
  SimCluster cluster(cluster_options(scenario, seed, settings));
  for (const ByzantineReplica& byzantine : scenario.byzantine) {
    auto behaviour = make_behaviour(byzantine.behaviour,
                                    cluster.behaviour_context(byzantine.replica, byzantine.params));
    if (!behaviour.ok()) {  // the parser made the same behaviour: only a changed one fails
      outcome.unexpected =
          "replica " + std::to_string(byzantine.replica) + ": " + behaviour.error().message;
      return outcome;
    }
    cluster.set_behaviour(byzantine.replica, std::move(behaviour).value());
  }
  auto network = std::make_shared<NetworkFaults>(scenario);
  auto seen = std::make_shared<Observations>();
  for (const Fault& fault : scenario.faults) schedule_fault(cluster, fault, network, seen);

  RunResult result = cluster.run();

  const Expectation& expect = scenario.expect;
  const bool violation = expect.outcome == Expectation::Outcome::kViolation;
  CheckOptions check_options;
  check_options.completion = violation || expect.in_scope(ScenarioProperty::kL1);
  check_options.durability = violation || expect.in_scope(ScenarioProperty::kS4);
  std::size_t completion_violations = 0;
  for (const Violation& found : cluster.check(check_options)) {
    if (found.property == Property::kCompletion &&
        ++completion_violations > kCompletionViolationsShown)
      continue;
    add(outcome, expect, scenario_property(found.property), to_string(found));
  }
  judge_liveness(scenario, result, cluster.completions(), outcome);
  judge_evidence(scenario, cluster, outcome);
  judge(scenario, outcome);

  outcome.notes = std::move(seen->notes);
  if (result.stop == RunResult::Stop::kStepLimit)
    outcome.notes.push_back("the run hit the step limit (a livelock?) at " +
                            ms_text(result.sim_time));
  for (const Fault& fault : scenario.faults) {
    if (fault.at > result.sim_time)
      outcome.notes.push_back(describe(fault) + " never happened: the run ended at " +
                              ms_text(result.sim_time));
  }
  outcome.stop = result.stop;
  outcome.completed_requests = result.completed_requests;
  outcome.expected_requests = result.expected_requests;
  outcome.view_changes = result.harness.view_changes_started;
  outcome.state_transfers = result.harness.state_transfers;
  outcome.rejected = result.rejected_total();
  outcome.crashes = result.harness.crashes;
  outcome.byzantine_messages = result.harness.byzantine_changed + result.harness.byzantine_made;
  outcome.dropped_by_core = result.harness.dropped_by_core;
  outcome.sim_time = result.sim_time;
  outcome.trace_hash = result.trace_hash;
  outcome.summary = result.summary();
  if (settings.trace_limit > 0) outcome.trace = cluster.trace_events();
  return outcome;
}

ScenarioTotals total(const Scenario& scenario, const std::vector<SeedOutcome>& outcomes) {
  ScenarioTotals totals;
  std::vector<std::uint64_t> harmless;  // kViolation: seeds that showed nothing
  for (const SeedOutcome& outcome : outcomes) {
    ++totals.seeds;
    if (outcome.violated) ++totals.seeds_with_violations;
    totals.completed_requests += outcome.completed_requests;
    totals.expected_requests += outcome.expected_requests;
    totals.view_changes += outcome.view_changes;
    totals.evidence += outcome.evidence_count;
    totals.caught.insert(outcome.caught.begin(), outcome.caught.end());
    if (!outcome.recovery)
      totals.any_incomplete = true;
    else
      totals.worst_recovery = std::max(totals.worst_recovery.value_or(0), *outcome.recovery);
    if (outcome.expected) continue;
    if (scenario.expect.outcome == Expectation::Outcome::kViolation && !outcome.broke_promise)
      harmless.push_back(outcome.seed);
    else
      totals.failing.push_back(outcome.seed);
  }
  if (scenario.expect.outcome == Expectation::Outcome::kSafe) {
    totals.expected = totals.failing.empty();
    if (!totals.expected)
      totals.unexpected = std::to_string(totals.failing.size()) + " of " +
                          std::to_string(totals.seeds) + " seeds broke a property that must hold";
    return totals;
  }
  if (!totals.failing.empty())
    totals.unexpected = std::to_string(totals.failing.size()) + " of " +
                        std::to_string(totals.seeds) +
                        " seeds broke a property that is not among those that may fail";
  auto needed = static_cast<std::uint64_t>(
      std::ceil(scenario.expect.violation_seeds_min * static_cast<double>(totals.seeds) - 1e-9));
  if (totals.seeds_with_violations < needed) {
    totals.unexpected += std::string(totals.unexpected.empty() ? "" : "; ") + "only " +
                         std::to_string(totals.seeds_with_violations) + " of " +
                         std::to_string(totals.seeds) + " seeds showed a violation of " +
                         listed_names(scenario.expect) + " (at least " + std::to_string(needed) +
                         " expected)";
    totals.failing.insert(totals.failing.end(), harmless.begin(), harmless.end());
    std::sort(totals.failing.begin(), totals.failing.end());
  }
  totals.expected = totals.unexpected.empty();
  return totals;
}

}  // namespace phalanx::adversary
