#pragma once
// adversary::Scenario: an adversarial run written as a file (TOML; docs/adversary.md is
// the reference), and run_scenario(), which plays it in the simulator for one seed and
// says whether the outcome is the one the file expects.
//
// A scenario states the cluster (size, workload, storage, twins, replica options), the
// network at the start, which replicas are Byzantine and how (a Behaviour by name, with
// its parameters), a schedule of faults in simulated time, and the expected outcome:
// "safe" (the properties listed hold on every seed) or "violation" (more than f faulty
// replicas: at least a fraction of the seeds must break one of the listed properties,
// and none may break a property that is not listed).
//
// Contract:
// - parse_scenario()/load_scenario() return a Scenario that satisfies every rule of
//   docs/adversary.md, or an Error listing ALL the problems of the file, one line each,
//   "<file>:<line>: <problem>" (as the cluster file's loader does). An unknown key is an
//   error; behaviour names and parameters are checked by make_behaviour.
// - run_scenario() is deterministic: the same scenario and seed give the same outcome and
//   the same RunResult::trace_hash. A valid Scenario never makes it throw or assert; only
//   a broken invariant of the code under test does (as in every simulated run).
// - Properties, by the names scenario files use: S1 agreement, S2 total order, S3
//   exactly-once and validity, S4 durability, S5 accountability (no correct replica
//   accused; every replica in expect.caught accused by a correct one), L1 liveness (every
//   request completes, within expect.liveness_bound after the last fault ended).
//
// Thread-safety: a Scenario is a value; run_scenario() may run on several threads at
// once for different seeds (each run owns its SimCluster).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/base/result.h"
#include "phalanx/net/sim_network.h"
#include "phalanx/pbft/options.h"

namespace phalanx::adversary {

// Limits on what a scenario file may ask for (STYLE.md 8).
inline constexpr std::size_t kScenarioFileBytesMax = 1u << 20;
inline constexpr std::uint32_t kScenarioReplicasMin = 4;
inline constexpr std::uint32_t kScenarioReplicasMax = 100;
inline constexpr std::uint32_t kScenarioClientsMax = 100;
inline constexpr std::uint32_t kScenarioRequestsPerClientMax = 100'000;
inline constexpr std::uint64_t kScenarioTimeLimitSMax = 24 * 3600;  // simulated
inline constexpr std::uint64_t kScenarioLatencyMsMax = 60'000;
inline constexpr std::uint64_t kScenarioThinkMsMax = 60'000;
inline constexpr std::size_t kScenarioFaultsMax = 1000;
inline constexpr std::uint64_t kScenarioSeedsMax = 1'000'000;
inline constexpr std::uint64_t kScenarioSeedsDefault = 100;

// The properties a scenario names, in the order of DESIGN.md.
enum class ScenarioProperty { kS1, kS2, kS3, kS4, kS5, kL1 };
inline constexpr std::size_t kScenarioPropertyCount = 6;
std::string_view to_string(ScenarioProperty property);  // "S1" ... "L1"
std::optional<ScenarioProperty> scenario_property(std::string_view name);
// The scenario property a checker violation belongs to (completion is part of L1).
ScenarioProperty scenario_property(Property property);

// A node a fault names: a replica (`replica = 2`, or a plain integer), a client
// ("client:0") or the second process of a twinned replica ("twin:0").
struct NodeRef {
  enum class Kind { kReplica, kClient, kTwin };
  Kind kind = Kind::kReplica;
  std::uint32_t index = 0;  // replica id, or client index; for a twin, the replica id

  bool operator==(const NodeRef&) const = default;
  auto operator<=>(const NodeRef&) const = default;
};
std::string to_string(const NodeRef& node);  // "0", "client:0", "twin:0"

struct ByzantineReplica {
  pbft::ReplicaId replica = 0;
  std::string behaviour;
  std::map<std::string, std::string> params;  // as text (BehaviourContext::params)
  std::size_t line = 0;
};

// One entry of the fault schedule. Times are simulated nanoseconds from the start.
struct Fault {
  enum class Kind {
    kPartition,  // groups, until: heal
    kIsolate,    // node, until: reconnect
    kCut,        // from -> to lost (one way), until: restored
    kHeal,       // ends every partition, isolation and cut then active
    kLink,       // a link rule (every link, or both ways between two nodes), until: [network]
    kCrash,      // replica, restart: from its durable state
    kPause,      // replica, until: resume
    kRejoin,     // replica crashes at `at`, wiped, rejoins at `restart`
    kAmnesia,    // replica crashes at `at`, wiped, restarts without the guard (Byzantine)
    kClockRate,  // node's clock runs at `rate`; until: back to 1.0
    kClockJump,  // node's clock jumps forward by `by`
  };
  Kind kind = Kind::kHeal;
  std::size_t line = 0;  // of its [[fault]] header
  pbft::Instant at = 0;
  // until_ms (partition, isolate, cut, link, pause, clock_rate) or restart_ms (crash,
  // rejoin, amnesia); nullopt: it lasts to the end of the run.
  std::optional<pbft::Instant> end;
  std::vector<std::vector<NodeRef>> groups;  // partition
  NodeRef node;                              // isolate, cut (from), clock_rate, clock_jump
  NodeRef to;                                // cut
  pbft::ReplicaId replica = 0;               // crash, pause, rejoin, amnesia
  std::optional<std::pair<NodeRef, NodeRef>> between;  // link: both directions; none: all
  net::LinkRule link;                                  // link: [network] with overrides
  double rate = 1.0;                                   // clock_rate
  pbft::Instant by = 0;                                // clock_jump

  // The last instant the schedule mentions for it: its end if it has one, else `at`.
  pbft::Instant last_instant() const { return end.value_or(at); }
};
std::string_view to_string(Fault::Kind kind);  // as in the file: "partition", ...
std::string describe(const Fault& fault);      // one line, e.g. "crash 2 @1000ms, restart @3000ms"

struct Expectation {
  enum class Outcome { kSafe, kViolation };
  Outcome outcome = Outcome::kSafe;
  // kSafe: the properties checked, which must hold. kViolation: those that may fail (at
  // least violation_seeds_min of the seeds must break one); the others must hold.
  std::set<ScenarioProperty> properties;
  std::optional<pbft::Instant> liveness_bound;  // L1: nanoseconds after the last fault
  std::set<pbft::ReplicaId> caught;             // S5: must be accused by a correct replica
  double violation_seeds_min = 0.5;             // kViolation only

  bool in_scope(ScenarioProperty property) const { return properties.count(property) != 0; }
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;  // the file it was read from (for messages and replay commands)
  std::uint64_t seeds = kScenarioSeedsDefault;

  std::uint32_t replicas = 4;
  std::uint32_t clients = 2;
  std::uint32_t requests_per_client = 10;
  pbft::Instant think_time = 0;  // a client's pause between a completion and its next request
  pbft::Instant time_limit = 120 * pbft::kSecond;
  pbft::Instant settle_time = 0;
  SimClusterOptions::Storage storage = SimClusterOptions::Storage::kMemory;
  std::set<pbft::ReplicaId> twins;
  pbft::ReplicaOptions replica_options;
  pbft::ClientOptions client_options;
  net::LinkRule network;

  std::vector<ByzantineReplica> byzantine;
  std::vector<Fault> faults;  // in the order of the file
  Expectation expect;

  std::uint32_t f() const { return (replicas - 1) / 3; }
  // Replicas the checker treats as faulty: Byzantine, twinned, or restarted amnesiac.
  std::set<pbft::ReplicaId> faulty() const;
  // When the last fault of the schedule ends (0 without faults): L1 is measured from it.
  pbft::Instant last_fault_end() const;
};

// Parses scenario text; `source_name` prefixes every problem ("x.toml:12: ...").
Result<Scenario> parse_scenario(std::string_view text, std::string_view source_name);
// Reads and parses a file; Scenario::source is `path` as given.
Result<Scenario> load_scenario(const std::string& path);

// --- running ---------------------------------------------------------------------------

struct RunSettings {
  // Record up to this many trace events (SimClusterOptions::trace_limit) for a chart;
  // 0: none (the fast default).
  std::size_t trace_limit = 0;
  // Your own Application and client operations (SimClusterOptions has the details); unset:
  // the key-value store and its puts.
  std::function<std::unique_ptr<pbft::Application>()> make_application;
  std::function<Bytes(std::uint32_t client, std::uint32_t number)> make_operation;
};

// One violation, by the scenario's property name.
struct PropertyViolation {
  ScenarioProperty property = ScenarioProperty::kS1;
  std::string message;
  bool listed = true;  // among the scenario's properties (else reported, not judged: kSafe)
};
std::string to_string(const PropertyViolation& violation);  // "S1: ..."

// A piece of evidence: `accuser` (a replica that is up and correct, when known) holds
// proof that `accused` signed two conflicting messages.
struct AccusationRecord {
  pbft::ReplicaId accused = 0;
  std::optional<pbft::ReplicaId> accuser;
  std::string what;
};

struct SeedOutcome {
  std::uint64_t seed = 0;
  // As the scenario expects, this seed alone: kSafe, no violation of a listed property;
  // kViolation, a violation of a listed one and none of the others.
  bool expected = false;
  bool violated = false;       // a listed property was violated
  bool broke_promise = false;  // kViolation: a property that is not listed was violated
  std::string unexpected;      // why not expected (empty when expected)
  std::vector<PropertyViolation> violations;  // all that were checked, listed or not
  std::vector<std::string> notes;             // e.g. a restart the storage refused

  RunResult::Stop stop = RunResult::Stop::kCompleted;
  std::uint64_t completed_requests = 0;
  std::uint64_t expected_requests = 0;
  std::uint64_t view_changes = 0;
  std::uint64_t state_transfers = 0;
  std::uint64_t rejected = 0;
  std::uint64_t crashes = 0;
  std::uint64_t byzantine_messages = 0;  // replaced, dropped or made by a Behaviour
  // Valid messages the replicas had no use for, by reason (HarnessCounters::dropped_by_core):
  // e.g. state chunks that failed their Merkle proof.
  std::map<std::string, std::uint64_t> dropped_by_core;
  pbft::Instant sim_time = 0;
  pbft::Instant last_fault_end = 0;
  std::optional<pbft::Instant> last_completion;
  // L1: from the end of the last fault to the last completion (0 if every request had
  // completed by then); nullopt when not every request completed.
  std::optional<pbft::Instant> recovery;
  std::uint64_t evidence_count = 0;  // accusations made (evidence keeps the first 100)
  std::vector<AccusationRecord> evidence;
  std::set<pbft::ReplicaId> caught;  // accused by a correct replica (or an unknown one)
  crypto::Digest trace_hash;
  std::string summary;            // RunResult::summary()
  std::vector<TraceEvent> trace;  // with RunSettings::trace_limit
};

SeedOutcome run_scenario(const Scenario& scenario, std::uint64_t seed,
                         const RunSettings& settings = {});

// What the seeds of one scenario add up to, and whether it went as expected.
struct ScenarioTotals {
  std::uint64_t seeds = 0;
  std::uint64_t seeds_with_violations = 0;
  std::uint64_t completed_requests = 0;
  std::uint64_t expected_requests = 0;
  std::uint64_t view_changes = 0;
  std::uint64_t evidence = 0;
  std::set<pbft::ReplicaId> caught;
  std::optional<pbft::Instant> worst_recovery;  // the longest L1 time of a seed
  bool any_incomplete = false;                  // some seed did not complete every request
  bool expected = true;
  std::string unexpected;              // why not (empty when expected)
  std::vector<std::uint64_t> failing;  // seeds to replay
};
ScenarioTotals total(const Scenario& scenario, const std::vector<SeedOutcome>& outcomes);

}  // namespace phalanx::adversary
