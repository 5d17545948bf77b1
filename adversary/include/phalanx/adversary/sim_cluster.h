#pragma once
// adversary::SimCluster: a whole PBFT cluster in one thread, on simulated time.
//
// n pbft::Replica (each with its own examples::KvApplication) and m pbft::ClientCore talk
// over a net::SimNetwork. The run is a discrete-event loop: at each step the earliest of
// (a scheduled fault change, a network delivery, a node's wake-up at its next_deadline())
// happens; ties go in that order, and within a kind by the order they were scheduled. All
// randomness comes from the seed, so a seed replays a run exactly, trace hash included.
//
// It runs the production code: received bytes go through pbft::open_envelope (the real
// edge; rejections are counted by reason), the cores' Actions are carried out in the
// order actions.h prescribes, and nothing of the protocol is re-implemented here.
//
// Node ids: replicas 0..n-1, clients n..n+m-1. Each client runs a closed loop of
// `requests_per_client` KV puts. Every execution, state transfer, submission, accepted
// result and accusation is recorded in a History for the checker (checker.h).
//
// Each node reads its own clock: simulated time plus a per-node offset drawn from the
// seed, so no core can get away with comparing instants across nodes.
//
// Thread-safety: none; one thread drives a SimCluster.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "phalanx/adversary/checker.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/net/sim_network.h"
#include "phalanx/pbft/client_core.h"
#include "phalanx/pbft/options.h"
#include "phalanx/pbft/replica.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::examples {
class KvApplication;
}

namespace phalanx::adversary {

struct SimClusterOptions {
  std::uint64_t seed = 1;
  std::uint32_t replicas = 4;
  std::uint32_t clients = 2;
  std::uint32_t requests_per_client = 10;
  pbft::ReplicaOptions replica_options;
  pbft::ClientOptions client_options;
  net::LinkRule network;             // every link, at the start
  std::set<pbft::ReplicaId> silent;  // crashed from the start: never step, never heard
  pbft::Instant time_limit = 120 * pbft::kSecond;  // simulated
  std::uint64_t steps_max = 50'000'000;            // a livelocked run stops here instead of hanging
  bool clock_offsets = true;                       // per-node clock origins drawn from the seed
  // Every node shares one crypto::VerifyCache, so a signature is checked once however
  // many replicas receive it: signature checks dominate a simulated run's CPU time, and
  // the outcome is the same either way (only valid signatures are remembered).
  bool verify_cache = true;
  std::string cluster_id = "sim";
};

struct HarnessCounters {
  std::uint64_t steps = 0;                   // replica and client steps
  std::vector<std::uint64_t> steps_by_node;  // a core that spins shows up here
  std::uint64_t persisted_records = 0;       // DurableRecords (kept in memory only for now)
  std::uint64_t replies_routed = 0;
  std::uint64_t replies_unroutable = 0;   // to a client key no node has
  std::uint64_t delivered_to_silent = 0;  // deliveries a silent replica never saw
  std::uint64_t executed_batches = 0;
  std::uint64_t view_changes_started = 0;
  std::uint64_t state_transfers = 0;
  std::uint64_t evidence = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(pbft::Rejection::kCount)> rejected{};
  std::array<std::uint64_t, wire::Kind_ARRAYSIZE> accepted_by_kind{};  // opened deliveries
};

struct RunResult {
  enum class Stop { kCompleted, kTimeLimit, kStepLimit, kIdle };
  Stop stop = Stop::kCompleted;
  std::uint64_t completed_requests = 0;
  std::uint64_t expected_requests = 0;
  pbft::Instant sim_time = 0;                 // simulated nanoseconds from the start
  std::vector<pbft::ReplicaStatus> replicas;  // by replica id (silent ones too)
  net::NetworkCounters network;
  HarnessCounters harness;
  crypto::Digest trace_hash;  // every delivered message and executed batch, in order

  std::uint64_t rejected_total() const;
  std::string summary() const;  // one line, for test output
};
std::string_view to_string(RunResult::Stop stop);

class SimCluster {
 public:
  using NetworkChange = std::function<void(net::SimNetwork&)>;
  // Called after every replica step (silent replicas are never stepped).
  using StepObserver = std::function<void(pbft::ReplicaId, const pbft::Replica&)>;

  explicit SimCluster(SimClusterOptions options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // Applies `change` to the network at simulated time `at` (nanoseconds from the start).
  void schedule(pbft::Instant at, NetworkChange change);
  void set_step_observer(StepObserver observer) { observer_ = std::move(observer); }

  // Runs until every client completed its requests, the time limit or the step limit.
  // Call once.
  RunResult run();

  const History& history() const { return history_; }
  std::vector<Violation> check(const CheckOptions& options = {}) const;
  net::SimNetwork& network() { return network_; }
  const pbft::Replica& replica(pbft::ReplicaId id) const;
  const examples::KvApplication& application(pbft::ReplicaId id) const;
  std::uint32_t client_node(std::uint32_t client_index) const;

 private:
  struct ReplicaNode;
  struct ClientNode;
  enum class Step { kDone, kIdle, kTimeLimit };
  struct Wakeup {
    pbft::Instant at;
    std::uint64_t order;
    net::NodeId node;
  };
  struct ScheduledChange {
    pbft::Instant at;
    std::uint64_t order;
    NetworkChange change;
  };
  struct LiveWakeup {
    pbft::Instant at;
    std::uint64_t order;
  };
  template <typename T>
  struct Later {
    bool operator()(const T& a, const T& b) const {
      return a.at != b.at ? a.at > b.at : a.order > b.order;
    }
  };

  pbft::Instant local_now(net::NodeId node) const;
  bool is_replica(net::NodeId node) const { return node < options_.replicas; }
  bool silent(net::NodeId node) const;
  bool all_completed() const;
  Step step_once();

  void deliver(const net::Delivery& delivery);
  void wake(net::NodeId node);
  void after_replica_step(pbft::ReplicaId id, const pbft::Actions& actions);
  void after_client_step(std::uint32_t client_index, const pbft::ClientActions& actions);
  void carry_out(pbft::ReplicaId id, const pbft::Actions& actions);
  void record_history(pbft::ReplicaId id, const pbft::Actions& actions);
  void carry_out(std::uint32_t client_index, const pbft::ClientActions& actions);
  void submit_next(std::uint32_t client_index);
  void schedule_wakeup(net::NodeId node, pbft::Instant deadline_local);
  void send(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes);
  RunResult result(RunResult::Stop stop);

  SimClusterOptions options_;
  pbft::Verifier verifier_;
  net::Rng rng_;
  net::SimNetwork network_;
  std::vector<pbft::Instant> clock_offset_;  // by node
  std::vector<std::unique_ptr<ReplicaNode>> replicas_;
  std::vector<std::unique_ptr<ClientNode>> clients_;
  std::map<crypto::PublicKey, net::NodeId> client_by_key_;

  bool started_ = false;
  pbft::Instant now_ = 0;  // simulated time
  std::uint64_t next_order_ = 0;
  std::priority_queue<Wakeup, std::vector<Wakeup>, Later<Wakeup>> wakeups_;
  std::vector<LiveWakeup> live_wakeup_;  // by node: the one wake-up not superseded
  std::priority_queue<ScheduledChange, std::vector<ScheduledChange>, Later<ScheduledChange>>
      changes_;

  History history_;
  HarnessCounters counters_;
  crypto::Hasher trace_;
  std::uint64_t completed_ = 0;
  StepObserver observer_;
};

}  // namespace phalanx::adversary
