#pragma once
// adversary::SimCluster: a whole PBFT cluster in one thread, on simulated time.
//
// n pbft::Replica (each with its own Application: examples::KvApplication unless
// SimClusterOptions::make_application says otherwise) and m pbft::ClientCore talk
// over a net::SimNetwork. The run is a discrete-event loop: at each step the earliest of
// (a scheduled fault change, a network delivery, a node's wake-up at its next_deadline())
// happens; ties go in that order, and within a kind by the order they were scheduled. All
// randomness comes from the seed, so a seed replays a run exactly, trace hash included.
//
// It runs the production code: received bytes go through pbft::open_envelope (the real
// edge; rejections are counted by reason), the cores' Actions are carried out in the
// order actions.h prescribes, and nothing of the protocol is re-implemented here.
//
// Node ids: replicas 0..n-1, clients n..n+m-1, then the twins (see `twins`), one node
// each. Each client runs a closed loop of `requests_per_client` KV puts. Every execution, state
// transfer, submission, accepted result and accusation is recorded in a History for the checker
// (checker.h).
//
// Each node reads its own clock: simulated time plus a per-node offset drawn from the
// seed, so no core can get away with comparing instants across nodes. A node's clock
// may also run fast or slow (set_clock_rate) and jump forward (jump_clock): monotonic
// clocks never go back, but they do drift, and a VM resumed after a pause sees a jump.
//
// Twins (SimClusterOptions::twins): a twinned replica runs as two processes with one
// identity and one key, each honest on its own, each its own node on the network;
// whatever is sent to the replica goes to both (partitions decide who hears what). The
// replica counts as faulty for the checker.
//
// Faults, all injected from outside the cores (DESIGN.md "Examples to follow" 4, 5):
// - Network: SimNetwork's rules and connectivity, changed at scheduled instants
//   (schedule with a NetworkChange).
// - Process crash (crash, schedule_crash; `silent` is a crash at time 0): the replica
//   stops stepping, nothing is delivered to it, and nothing more it asked to send
//   leaves, not even the rest of the step in which it crashed. What it sent before is
//   already on the wire and stays in flight. Its history up to the crash is still checked:
//   a replica that stopped must not have diverged before it stopped.
// - Storage (SimClusterOptions::storage): each replica makes its records durable before
//   anything of the same step is sent, as node::Node does, in a storage::MemoryStorage or
//   in a storage::LogStorage on a simulated disk of its own (storage::SimFileSystem).
//   On the simulated disk a crash is a power cut that loses what was not synced, keeps a
//   random prefix of it, or keeps it all (the crash's CrashPolicy); crash_while_persisting
//   makes the replica's next sync fail and crashes it there, so that its last records may
//   be torn; disk() gives the disk itself, e.g. to flip bits.
// - Restart (restart, schedule_restart): a crashed replica starts again with a fresh
//   application and recovers from its storage (pbft::Replica::recover). If its storage
//   refuses to load (corruption), it stays down, as phalanx-replica exits; rejoin()
//   then starts it without its state, in the rejoining mode (ReplicaSetup::rejoin).
// - Process pause (pause): between `from` and `until` the replica does not step. What the
//   network delivers to it meanwhile is held, in order, as a socket buffer would hold it
//   (at most kHeldMessagesMax; beyond that, lost and counted), and handed to it when it
//   resumes, before its overdue timers fire. Its clock kept running, so the core sees time
//   jump; it is not told that it was paused.
// - Send filter (set_send_filter): sees every message any node sends, once per
//   destination (a broadcast is one call per replica), before the network does; it may
//   drop it, and it may crash the sender right there (call crash(): this message still
//   leaves if the verdict is kSend, nothing after it does). This pins a crash to a point
//   of the protocol, e.g. "the primary sent the pre-prepare for seq s to some backups".
// - Any other change at a simulated instant: schedule with an Action, which gets the
//   whole cluster.
//
// Observations besides the History: the step observer (after each replica step), and a
// CompletionRecord per accepted request, in simulated time, for throughput and latency.
// With `settle_time` the run goes on after the last completion so that replicas that
// fell behind (or were paused or cut off) can catch up before their status is read.
//
// Thread-safety: none; one thread drives a SimCluster.

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/checker.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/net/sim_network.h"
#include "phalanx/pbft/client_core.h"
#include "phalanx/pbft/options.h"
#include "phalanx/pbft/replica.h"
#include "phalanx/pbft/wire.h"
#include "phalanx/storage/file_system.h"
#include "phalanx/storage/storage.h"

namespace phalanx::pbft {
class Application;
}
namespace phalanx::examples {
class KvApplication;
}

namespace phalanx::adversary {

struct SimClusterOptions {
  std::uint64_t seed = 1;
  std::uint32_t replicas = 4;
  std::uint32_t clients = 2;
  std::uint32_t requests_per_client = 10;
  // A client waits this long (simulated) after a completion before its next request, so
  // that a short workload can span a schedule of faults. 0: at once (closed loop).
  pbft::Instant think_time = 0;
  // The replicated application, built afresh for each replica (and at each restart); and
  // the operation client `client` submits as its `number`-th request (from 1). Unset: the
  // key-value store (examples::KvApplication) and puts "c<client>-k<number>" =
  // "v<number>-s<seed>". The checker needs nothing application-specific: it compares what
  // the replicas executed, in order, and what the clients accepted.
  std::function<std::unique_ptr<pbft::Application>()> make_application;
  std::function<Bytes(std::uint32_t client, std::uint32_t number)> make_operation;
  pbft::ReplicaOptions replica_options;
  pbft::ClientOptions client_options;
  // Clients authenticate with MACs (ClientOptions::mac_authenticators) and the replicas
  // accept them (pbft/authenticators.h). A test makes a client lie to some replicas only
  // with a send rewriter.
  bool mac_clients = false;
  net::LinkRule network;             // every link, at the start
  std::set<pbft::ReplicaId> silent;  // crashed from the start: never step, never heard
  pbft::Instant time_limit = 120 * pbft::kSecond;  // simulated
  // After every request completed, the run goes on this long (simulated; bounded by
  // time_limit) with no new requests, so that lagging replicas can catch up.
  pbft::Instant settle_time = 0;
  std::uint64_t steps_max = 50'000'000;  // a livelocked run stops here instead of hanging
  bool clock_offsets = true;             // per-node clock origins drawn from the seed
  // Every node shares one crypto::VerifyCache, so a signature is checked once however
  // many replicas receive it: signature checks dominate a simulated run's CPU time, and
  // the outcome is the same either way (only valid signatures are remembered).
  bool verify_cache = true;
  std::string cluster_id = "sim";
  // Where replicas make their records durable: in memory (fast; nothing is lost in a
  // crash) or in a LogStorage on a simulated disk (the real on-disk format, with torn
  // writes and lost unsynced bytes).
  enum class Storage { kMemory, kLog };
  Storage storage = Storage::kMemory;
  // Replicas that run twice, with one identity (see the top of this file).
  std::set<pbft::ReplicaId> twins;
  // Record up to this many TraceEvents (messages, faults, replica events), for a message
  // sequence chart of the run; 0: none.
  std::size_t trace_limit = 0;
  // Processing time (simulated): a replica handles one message or timer at a time and is
  // busy for its cost; what arrives meanwhile waits. All zero (the default): processing
  // is free, as the other tests assume. Throughput comparisons under floods turn it on,
  // or a flood of messages would cost nothing.
  struct Cpu {
    pbft::Instant per_message = 0;  // every delivery and timer step
    pbft::Instant per_kib = 0;      // per KiB of a delivered message (decoding, hashing)
    pbft::Instant per_verify = 0;   // a delivery that passed the edge (its signature checked)
    pbft::Instant per_sign = 0;     // each message a step sends (signed once, however many copies)
    bool enabled() const { return per_message + per_kib + per_verify + per_sign > 0; }
  };
  Cpu cpu;
};

// One thing that happened in a run, for a message sequence chart (report.h).
struct TraceEvent {
  enum class Kind {
    kDelivered,      // a message reached `to` and passed the edge checks
    kRejected,       // it reached `to` and the edge refused it (`text`: why)
    kLost,           // the network lost it (drop, cut, partition)
    kFiltered,       // a test's send filter dropped it
    kByzantineSent,  // a Behaviour sent it instead of what the core asked (also delivered)
    kFault,          // a fault began or ended (`text`), at `from` if it concerns a node
    kEvent,          // a replica's view change, evidence, crash, restart... (`text`)
  };
  Kind kind = Kind::kDelivered;
  pbft::Instant at = 0;       // simulated nanoseconds
  pbft::Instant sent_at = 0;  // messages: when it left
  net::NodeId from = 0;
  net::NodeId to = 0;
  wire::Kind message = wire::KIND_UNSPECIFIED;
  std::optional<pbft::View> view;
  std::optional<pbft::Seq> seq;
  bool byzantine = false;  // made or changed by a Behaviour
  std::string text;
};

struct HarnessCounters {
  std::uint64_t steps = 0;                   // replica and client steps
  std::vector<std::uint64_t> steps_by_node;  // a core that spins shows up here
  std::uint64_t persisted_records = 0;       // DurableRecords made durable
  std::uint64_t storage_syncs = 0;           // syncs by every replica's storage, all lives
  std::uint64_t snapshots = 0;               // snapshots saved
  std::uint64_t crashes = 0;                 // crashes after the start (silent ones not)
  std::uint64_t crashes_while_persisting = 0;
  std::uint64_t restarts = 0;          // recoveries from durable state
  std::uint64_t refused_restarts = 0;  // storage would not load (corruption)
  std::uint64_t rejoins = 0;           // starts without durable state
  std::uint64_t replies_routed = 0;
  std::uint64_t replies_unroutable = 0;   // to a client key no node has
  std::uint64_t delivered_to_silent = 0;  // deliveries a silent or crashed replica never saw
  std::uint64_t unsent_after_crash = 0;   // messages a crashed replica's last step asked for
  std::uint64_t filtered = 0;             // messages the send filter dropped
  std::uint64_t rewritten = 0;            // messages the send rewriter replaced
  std::uint64_t byzantine_changed = 0;    // messages a Behaviour replaced or dropped
  std::uint64_t byzantine_made = 0;       // messages a Behaviour sent of its own (on_tick)
  std::map<std::string, std::uint64_t> dropped_by_core;  // kDroppedMessage events, by reason
  std::uint64_t held_while_paused = 0;                   // deliveries held for a paused replica
  std::uint64_t held_overflow = 0;                       // ... and lost because its buffer was full
  std::uint64_t waited_for_cpu = 0;     // deliveries and timers that found their replica busy
  std::uint64_t client_broadcasts = 0;  // retries: requests a client sent again to every replica
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
  pbft::Instant completed_at = 0;             // when the last request completed (if all did)
  std::vector<pbft::ReplicaStatus> replicas;  // by replica id (silent ones too)
  std::vector<bool> crashed;                  // by replica id: silent or crashed
  net::NetworkCounters network;
  HarnessCounters harness;
  crypto::Digest trace_hash;  // every delivered message and executed batch, in order

  std::uint64_t rejected_total() const;
  std::string summary() const;  // one line, for test output
};
std::string_view to_string(RunResult::Stop stop);

// One accepted request, in simulated time.
struct CompletionRecord {
  std::uint32_t client = 0;  // client index (node client_node(client))
  pbft::RequestId request_id = 0;
  pbft::Instant submitted_at = 0;
  pbft::Instant completed_at = 0;
  pbft::View view = 0;                // the view the accepting replies reported
  pbft::ReplicaId first_sent_to = 0;  // the primary the client believed in when it submitted
  std::uint32_t broadcasts = 0;       // times the client sent it again (retries)
};

// A message about to be sent, as the send filter sees it.
struct SentMessage {
  net::NodeId from = 0;  // the sending node (a replica relaying a message is not its signer)
  net::NodeId to = 0;
  pbft::Instant at = 0;  // simulated
  // Decoded; never null in a filter call. Bytes that are no envelope show as an empty one
  // (KIND_UNSPECIFIED).
  const wire::Envelope* envelope = nullptr;

  wire::Kind kind() const { return envelope->kind(); }
  // The replica that signed it sent it (not a relay or retransmission by another).
  bool from_signer() const {
    return envelope->kind() != wire::REQUEST && envelope->sender() == from;
  }
  // The (view, seq) of a PRE_PREPARE, PREPARE, COMMIT or COMMIT_CERTIFICATE (that of its
  // pre-prepare); nullopt for other kinds and for payloads that do not decode.
  std::optional<pbft::View> view() const;
  std::optional<pbft::Seq> seq() const;
};

enum class SendVerdict { kSend, kDrop };

class SimCluster {
 public:
  using NetworkChange = std::function<void(net::SimNetwork&)>;
  using Action = std::function<void(SimCluster&)>;
  // Called after every replica step (silent and crashed replicas are never stepped).
  using StepObserver = std::function<void(pbft::ReplicaId, const pbft::Replica&)>;
  using SendFilter = std::function<SendVerdict(SimCluster&, const SentMessage&)>;
  // Replaces a message before the filter and the network see it (nullopt: unchanged).
  // Byzantine senders are built with it: e.g. decode, tamper, sign again with the
  // sender's key. Called once per destination, like the filter.
  using SendRewriter =
      std::function<std::optional<pbft::SharedBytes>(SimCluster&, const SentMessage&)>;

  // What a paused replica's buffer holds at most; later deliveries are lost.
  static constexpr std::size_t kHeldMessagesMax = 100'000;

  explicit SimCluster(SimClusterOptions options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // Applies `change` to the network at simulated time `at` (nanoseconds from the start).
  void schedule(pbft::Instant at, NetworkChange change);
  // Runs `action` at simulated time `at` (now, if that is past). Network changes and
  // actions due at one instant run in the order they were scheduled, before any delivery
  // or wake-up at that instant. A run does not end before every scheduled change and
  // action has happened (and the settle time after the last of them).
  void schedule_action(pbft::Instant at, Action action);
  void set_step_observer(StepObserver observer) { observer_ = std::move(observer); }
  // One filter at a time; a later call replaces it. Sees replicas' and clients' messages.
  void set_send_filter(SendFilter filter) { send_filter_ = std::move(filter); }
  void set_send_rewriter(SendRewriter rewriter) { send_rewriter_ = std::move(rewriter); }

  // Process faults (replicas only; see the top of this file).
  using CrashPolicy = storage::SimFileSystem::CrashPolicy;
  // Crashes `id` now: from an action, a send filter or a step observer. Idempotent. With
  // log storage its disk loses what was not synced (nothing is, between steps).
  void crash(pbft::ReplicaId id, CrashPolicy disk = CrashPolicy::kDropUnsynced);
  void schedule_crash(pbft::Instant at, pbft::ReplicaId id,
                      CrashPolicy disk = CrashPolicy::kDropUnsynced);
  // The next time `id` persists, its storage writes but the sync fails, and it crashes:
  // none of that step is sent, and what survives on its disk follows `disk`.
  void crash_while_persisting(pbft::ReplicaId id, CrashPolicy disk);
  // Starts a crashed replica again from its durable state (see the top of this file).
  // Returns false when its storage refused to load; the replica then stays down.
  bool restart(pbft::ReplicaId id);
  void schedule_restart(pbft::Instant at, pbft::ReplicaId id);
  // Starts a crashed replica without durable state (its storage wiped), rejoining.
  void rejoin(pbft::ReplicaId id);
  // Starts a crashed replica without durable state and without the rejoining guard: an
  // amnesiac, which may contradict what it signed before. A Byzantine fault: the checker
  // exempts it from then on.
  void restart_amnesiac(pbft::ReplicaId id);

  // Clocks (see the top of this file). `node` is any node: replica, client or twin.
  void set_clock_rate(net::NodeId node, double rate);  // 1.0: true time; 1.1: 10% fast
  void jump_clock(net::NodeId node, pbft::Instant forward);
  pbft::Instant local_now(net::NodeId node) const;
  // Wall clocks (batch times, ReplicaOptions::batch_time_skew_max): a fixed epoch plus
  // simulated time plus the node's skew (0 unless set; rates and jumps of the monotonic
  // clock do not touch it). A skewed wall clock is a liar's clock for batch times.
  void set_wall_clock_skew(net::NodeId node, std::int64_t skew_ms);
  pbft::UnixMillis wall_now(net::NodeId node) const;
  static constexpr pbft::UnixMillis kWallEpochMs = 1'800'000'000'000;  // 2027-01-15
  // The node of replica `id`'s twin, if it has one.
  std::optional<net::NodeId> twin_node(pbft::ReplicaId id) const;

  // Adds a fault to the trace (a scenario's partitions and cuts, which the cluster sees
  // only as network changes).
  void note(std::string text, std::optional<net::NodeId> node = std::nullopt);
  const std::vector<TraceEvent>& trace_events() const { return trace_events_; }

  // Makes `id` Byzantine: every message it sends goes through `behaviour` (behaviour.h),
  // and the checker exempts it (History::mark_faulty). Call before run().
  void set_behaviour(pbft::ReplicaId id, std::unique_ptr<Behaviour> behaviour);
  // The context a behaviour for replica `id` of this cluster needs (its key, a seed drawn
  // from the run's), with `params` for the behaviour.
  BehaviourContext behaviour_context(pbft::ReplicaId id,
                                     std::map<std::string, std::string> params = {}) const;
  // The simulated disk of `id` (log storage only; null with memory storage).
  storage::SimFileSystem* disk(pbft::ReplicaId id);
  // Why the last refused restart of `id` was refused (empty if none was).
  const std::string& refusal(pbft::ReplicaId id) const;
  // Pauses `id` over [from, until) of simulated time. Pauses may overlap (the replica
  // resumes when the last one ends); a crash ends them for good.
  void pause(pbft::ReplicaId id, pbft::Instant from, pbft::Instant until);
  bool crashed(pbft::ReplicaId id) const;  // silent ones too
  bool paused(pbft::ReplicaId id) const;

  // Runs until every client completed its requests, the time limit or the step limit.
  // Call once.
  RunResult run();

  const History& history() const { return history_; }
  // Every accepted request, in the order they completed.
  const std::vector<CompletionRecord>& completions() const { return completions_; }
  const SimClusterOptions& options() const { return options_; }
  pbft::Instant now() const { return now_; }  // simulated
  std::vector<Violation> check(const CheckOptions& options = {}) const;
  net::SimNetwork& network() { return network_; }
  const pbft::Replica& replica(pbft::ReplicaId id) const;
  const pbft::Application& application(pbft::ReplicaId id) const;
  // The key-value store of replica `id`; only when make_application is unset.
  const examples::KvApplication& kv(pbft::ReplicaId id) const;
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
    Action change;
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

  struct Clock {
    pbft::Instant anchor_sim = 0;    // simulated time of the last change
    pbft::Instant anchor_local = 0;  // what the clock read then
    std::uint64_t rate_ppm = 1'000'000;
  };
  static constexpr std::uint64_t kRateOne = 1'000'000;

  // What a replica instance is set up with: the cluster's keys and options, and its wall
  // clock.
  pbft::ReplicaSetup replica_setup(pbft::ReplicaId id, net::NodeId node);
  bool is_replica(net::NodeId node) const;          // a replica or a twin
  std::size_t instance_of(net::NodeId node) const;  // index into replicas_
  net::NodeId node_of_instance(std::size_t instance) const;
  ReplicaNode& instance(net::NodeId node) const;
  void for_each_node_of(pbft::ReplicaId id, const std::function<void(net::NodeId)>& visit) const;
  pbft::Instant sim_time_of(net::NodeId node, pbft::Instant local) const;
  void reschedule(net::NodeId node);
  void schedule_internal(pbft::Instant at, Action action);
  void schedule_behaviour_tick(net::NodeId node);
  void record_trace(TraceEvent::Kind kind, net::NodeId from, net::NodeId to,
                    const wire::Envelope& envelope, pbft::Instant sent_at, std::string text = {});
  void record_sent(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes,
                   TraceEvent::Kind kind, bool byzantine);
  void record_rejected(const net::Delivery& delivery, pbft::Rejection rejection);
  bool silent(net::NodeId node) const;  // silent from the start or crashed since
  bool all_completed() const;
  Step step_once(pbft::Instant limit);

  void deliver(const net::Delivery& delivery);
  bool busy(net::NodeId node) const;  // processing (SimClusterOptions::cpu)
  void wait_for_cpu(net::NodeId node, std::optional<net::Delivery> delivery);
  void drain_cpu_queue(net::NodeId node);
  void charge(net::NodeId node, pbft::Instant cost);
  void hand_over(const net::Delivery& delivery);  // to a node that is up
  void begin_pause(pbft::ReplicaId id);
  void end_pause(pbft::ReplicaId id);
  SendVerdict filter(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes);
  const wire::Envelope& decoded(const pbft::SharedBytes& bytes);
  void wake(net::NodeId node);
  void after_replica_step(net::NodeId node, const pbft::Actions& actions);
  void after_client_step(std::uint32_t client_index, const pbft::ClientActions& actions);
  void carry_out(net::NodeId node, const pbft::Actions& actions);
  void record_history(pbft::ReplicaId id, const pbft::Actions& actions);
  void carry_out(std::uint32_t client_index, const pbft::ClientActions& actions);
  void submit_next(std::uint32_t client_index);
  Bytes operation(std::uint32_t client_index, std::uint32_t number) const;
  pbft::Application& new_application(ReplicaNode& node);
  void discard_storage(pbft::ReplicaId id);
  void schedule_wakeup(net::NodeId node, pbft::Instant deadline_local);
  void send(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes);
  void transmit(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes, bool byzantine);
  bool persist(net::NodeId node, const pbft::Actions& actions);
  std::unique_ptr<storage::Storage> open_log_storage(
      pbft::ReplicaId id, std::shared_ptr<storage::SimFileSystem> disk) const;
  void start_replica(pbft::ReplicaId id, const pbft::DurableState* recovered, bool rejoin);
  void record_signed(net::NodeId from, const pbft::SharedBytes& bytes);
  RunResult result(RunResult::Stop stop);

  SimClusterOptions options_;
  pbft::Verifier verifier_;
  // verifier_ with each replica's own MAC keys (by replica id; a twin shares its replica's).
  std::vector<pbft::Verifier> replica_verifiers_;
  net::Rng rng_;
  net::SimNetwork network_;
  net::Rng disk_rng_;                       // what a power cut keeps of unsynced bytes
  std::vector<Clock> clocks_;               // by node
  std::vector<std::int64_t> wall_skew_ms_;  // by node
  // By instance: replica ids 0..n-1, then the twins in the order of twin_of_.
  std::vector<std::unique_ptr<ReplicaNode>> replicas_;
  std::map<pbft::ReplicaId, net::NodeId> twin_node_;
  std::vector<pbft::ReplicaId> twin_of_;  // the replica id of each twin, by twin index
  std::vector<std::unique_ptr<ClientNode>> clients_;
  std::map<crypto::PublicKey, net::NodeId> client_by_key_;

  bool started_ = false;
  pbft::Instant now_ = 0;                // simulated time
  pbft::Instant last_scheduled_at_ = 0;  // the latest change or action a test scheduled
  std::uint64_t next_order_ = 0;
  std::priority_queue<Wakeup, std::vector<Wakeup>, Later<Wakeup>> wakeups_;
  std::vector<LiveWakeup> live_wakeup_;  // by node: the one wake-up not superseded
  std::priority_queue<ScheduledChange, std::vector<ScheduledChange>, Later<ScheduledChange>>
      changes_;

  History history_;
  HarnessCounters counters_;
  crypto::Hasher trace_;
  std::uint64_t completed_ = 0;
  pbft::Instant completed_at_ = 0;
  StepObserver observer_;
  SendFilter send_filter_;
  SendRewriter send_rewriter_;
  // The last envelope the filter decoded: a broadcast is decoded once, not per destination.
  // Holding the bytes keeps their address from being reused by another message.
  pbft::SharedBytes filtered_bytes_;
  wire::Envelope filtered_envelope_;
  pbft::SharedBytes monitored_bytes_;  // the last message record_signed looked at
  std::vector<TraceEvent> trace_events_;
  // Byzantine messages in flight, so that their deliveries can be marked (trace only).
  std::map<const void*, pbft::SharedBytes> byzantine_in_flight_;
  std::vector<CompletionRecord> completions_;
};

}  // namespace phalanx::adversary
