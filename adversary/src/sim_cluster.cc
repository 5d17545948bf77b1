#include "phalanx/adversary/sim_cluster.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "phalanx/base/assert.h"
#include "phalanx/examples/kv_application.h"
#include "phalanx/storage/log_storage.h"
#include "sim_nodes.h"

namespace phalanx::adversary {

namespace {
constexpr pbft::Instant kNever = ~pbft::Instant{0};
// Clock origins differ by up to this much between nodes (clock_offsets).
constexpr pbft::Instant kClockOffsetMax = 1000 * pbft::kSecond;
constexpr std::uint64_t kNetworkStream = 1;
constexpr std::uint64_t kClockStream = 2;
constexpr std::uint64_t kDiskStream = 3;
// Clock arithmetic: elapsed nanoseconds times a rate in parts per million overflows 64 bits.
__extension__ using Wide = unsigned __int128;
}  // namespace

std::string_view to_string(RunResult::Stop stop) {
  switch (stop) {
    case RunResult::Stop::kCompleted:
      return "completed";
    case RunResult::Stop::kTimeLimit:
      return "time limit";
    case RunResult::Stop::kStepLimit:
      return "step limit";
    case RunResult::Stop::kIdle:
      return "idle";
  }
  return "unknown";
}

std::uint64_t RunResult::rejected_total() const {
  std::uint64_t total = 0;
  for (auto count : harness.rejected) total += count;
  return total;
}

std::string RunResult::summary() const {
  char line[320];
  std::snprintf(
      line, sizeof line,
      "stop=%s completed=%llu/%llu sim_time_ms=%llu steps=%llu sent=%llu "
      "dropped=%llu cut=%llu duplicated=%llu delivered=%llu rejected=%llu "
      "view_changes=%llu state_transfers=%llu",
      std::string(to_string(stop)).c_str(), static_cast<unsigned long long>(completed_requests),
      static_cast<unsigned long long>(expected_requests),
      static_cast<unsigned long long>(sim_time / pbft::kMillisecond),
      static_cast<unsigned long long>(harness.steps), static_cast<unsigned long long>(network.sent),
      static_cast<unsigned long long>(network.dropped),
      static_cast<unsigned long long>(network.cut),
      static_cast<unsigned long long>(network.duplicated),
      static_cast<unsigned long long>(network.delivered),
      static_cast<unsigned long long>(rejected_total()),
      static_cast<unsigned long long>(harness.view_changes_started),
      static_cast<unsigned long long>(harness.state_transfers));
  std::string text = line;
  if (harness.filtered != 0) text += " filtered=" + std::to_string(harness.filtered);
  if (harness.held_while_paused != 0)
    text += " held_while_paused=" + std::to_string(harness.held_while_paused);
  if (harness.crashes != 0)
    text += " crashes=" + std::to_string(harness.crashes) + "(" +
            std::to_string(harness.crashes_while_persisting) + " persisting)" +
            " restarts=" + std::to_string(harness.restarts) +
            " rejoins=" + std::to_string(harness.rejoins) +
            " refused=" + std::to_string(harness.refused_restarts);
  if (harness.snapshots != 0) text += " snapshots=" + std::to_string(harness.snapshots);
  if (harness.rewritten != 0) text += " rewritten=" + std::to_string(harness.rewritten);
  auto busiest = std::max_element(harness.steps_by_node.begin(), harness.steps_by_node.end());
  if (busiest != harness.steps_by_node.end()) {
    text += " busiest=node" + std::to_string(busiest - harness.steps_by_node.begin()) + "(" +
            std::to_string(*busiest) + " steps)";
  }
  for (std::size_t id = 0; id < replicas.size(); ++id) {
    const pbft::ReplicaStatus& status = replicas[id];
    text += " r" + std::to_string(id) + (id < crashed.size() && crashed[id] ? "(crashed)" : "") +
            "{view=" + std::to_string(status.view) + (status.view_changing ? "(changing)" : "") +
            " exec=" + std::to_string(status.last_executed) +
            " stable=" + std::to_string(status.stable_seq) +
            " pending=" + std::to_string(status.pending_requests) + "}";
  }
  return text;
}

// --- setup ----------------------------------------------------------------------------

SimCluster::SimCluster(SimClusterOptions options)
    : options_(std::move(options)),
      rng_(options_.seed),
      network_(options_.replicas + options_.clients + options_.twins.size(),
               rng_.fork(kNetworkStream).next(), options_.network),
      disk_rng_(rng_.fork(kDiskStream)),
      history_(options_.replicas) {
  PHALANX_ASSERT(options_.replicas >= 4, "a cluster has at least 4 replicas");
  const std::size_t nodes = options_.replicas + options_.clients + options_.twins.size();
  for (pbft::ReplicaId id : options_.twins) {
    PHALANX_ASSERT(id < options_.replicas, "a twin of a replica that does not exist");
    twin_node_[id] =
        static_cast<net::NodeId>(options_.replicas + options_.clients + twin_of_.size());
    twin_of_.push_back(id);
    history_.mark_faulty(id);  // two processes signing as one replica: Byzantine
  }

  verifier_.cluster_id = options_.cluster_id;
  if (options_.verify_cache) verifier_.cache = std::make_shared<crypto::VerifyCache>();
  for (pbft::ReplicaId id = 0; id < options_.replicas; ++id) {
    verifier_.replica_keys.push_back(
        crypto::SecretKey::derive_for_testing("replica", id).public_key());
  }
  for (pbft::ReplicaId id = 0; id < options_.replicas; ++id) {
    replica_verifiers_.push_back(verifier_);
    if (options_.mac_clients || options_.replica_options.accept_mac_clients)
      replica_verifiers_.back().replica_macs = std::make_shared<const pbft::ReplicaMacs>(
          id, crypto::SecretKey::derive_for_testing("replica", id));
  }

  net::Rng clocks = rng_.fork(kClockStream);
  for (std::size_t node = 0; node < nodes; ++node) {
    pbft::Instant offset = options_.clock_offsets ? clocks.uniform(0, kClockOffsetMax) : 0;
    clocks_.push_back(Clock{0, offset, kRateOne});
  }
  wall_skew_ms_.assign(nodes, 0);
  live_wakeup_.assign(nodes, LiveWakeup{kNever, 0});
  counters_.steps_by_node.assign(nodes, 0);

  for (std::size_t instance = 0; instance < options_.replicas + twin_of_.size(); ++instance) {
    pbft::ReplicaId id = instance < options_.replicas ? static_cast<pbft::ReplicaId>(instance)
                                                      : twin_of_[instance - options_.replicas];
    auto node = std::make_unique<ReplicaNode>();
    node->id = id;
    node->node = node_of_instance(instance);
    node->silent = instance < options_.replicas && options_.silent.count(id) != 0;
    if (options_.storage == SimClusterOptions::Storage::kLog) {
      node->disk = std::make_shared<storage::SimFileSystem>();
      node->storage = open_log_storage(static_cast<pbft::ReplicaId>(instance), node->disk);
    } else {
      node->storage = std::make_unique<storage::MemoryStorage>();
    }
    // A new replica: its storage is empty (loading it creates the directory).
    PHALANX_ASSERT(node->storage->load().ok(), "a new simulated disk loads");
    node->replica = std::make_unique<pbft::Replica>(replica_setup(id, node->node),
                                                    new_application(*node), local_now(node->node));
    replicas_.push_back(std::move(node));
  }
  pbft::ClientOptions client_options = options_.client_options;
  client_options.mac_authenticators |= options_.mac_clients;
  for (std::uint32_t index = 0; index < options_.clients; ++index) {
    auto node = std::make_unique<ClientNode>();
    node->core = std::make_unique<pbft::ClientCore>(
        verifier_, crypto::SecretKey::derive_for_testing("client", index), client_options);
    client_by_key_[node->core->public_key()] = client_node(index);
    clients_.push_back(std::move(node));
  }
}

SimCluster::~SimCluster() = default;

void SimCluster::schedule(pbft::Instant at, NetworkChange change) {
  schedule_action(at,
                  [change = std::move(change)](SimCluster& cluster) { change(cluster.network_); });
}

void SimCluster::schedule_action(pbft::Instant at, Action action) {
  last_scheduled_at_ = std::max(last_scheduled_at_, at);
  schedule_internal(at, std::move(action));
}

// The harness's own events (think times, delayed and periodic Byzantine messages): they do
// not keep a finished run going.
void SimCluster::schedule_internal(pbft::Instant at, Action action) {
  at = std::max(at, now_);  // an instant already past means now
  changes_.push(ScheduledChange{at, next_order_++, std::move(action)});
}

const pbft::Replica& SimCluster::replica(pbft::ReplicaId id) const {
  PHALANX_ASSERT(id < replicas_.size(), "replica id out of range");
  return *replicas_[id]->replica;
}

const pbft::Application& SimCluster::application(pbft::ReplicaId id) const {
  PHALANX_ASSERT(id < replicas_.size(), "replica id out of range");
  return *replicas_[id]->application;
}

const examples::KvApplication& SimCluster::kv(pbft::ReplicaId id) const {
  PHALANX_ASSERT(!options_.make_application, "kv(): this cluster runs another application");
  return static_cast<const examples::KvApplication&>(application(id));
}

// A fresh application for `node` (a new replica, or one restarting: it recovers its state
// from storage or from its peers, never from the old object).
pbft::Application& SimCluster::new_application(ReplicaNode& node) {
  node.application = options_.make_application ? options_.make_application()
                                               : std::make_unique<examples::KvApplication>();
  PHALANX_ASSERT(node.application != nullptr, "make_application returned no application");
  return *node.application;
}

std::uint32_t SimCluster::client_node(std::uint32_t client_index) const {
  return options_.replicas + client_index;
}

// --- nodes and their clocks -------------------------------------------------------------

bool SimCluster::is_replica(net::NodeId node) const {
  return node < options_.replicas || node >= options_.replicas + options_.clients;
}

std::size_t SimCluster::instance_of(net::NodeId node) const {
  PHALANX_ASSERT(is_replica(node), "not a replica's node");
  return node < options_.replicas
             ? node
             : options_.replicas + (node - options_.replicas - options_.clients);
}

net::NodeId SimCluster::node_of_instance(std::size_t instance) const {
  return instance < options_.replicas ? static_cast<net::NodeId>(instance)
                                      : static_cast<net::NodeId>(options_.clients + instance);
}

SimCluster::ReplicaNode& SimCluster::instance(net::NodeId node) const {
  return *replicas_[instance_of(node)];
}

std::optional<net::NodeId> SimCluster::twin_node(pbft::ReplicaId id) const {
  auto found = twin_node_.find(id);
  if (found == twin_node_.end()) return std::nullopt;
  return found->second;
}

// The nodes that receive what is sent to replica `id`: the replica, and its twin.
void SimCluster::for_each_node_of(pbft::ReplicaId id,
                                  const std::function<void(net::NodeId)>& visit) const {
  visit(id);
  if (auto twin = twin_node(id)) visit(*twin);
}

// A node's monotonic clock: origin offset, rate (drift) and forward jumps, anchored at the
// last change so that it never goes back.
pbft::Instant SimCluster::local_now(net::NodeId node) const {
  const Clock& clock = clocks_[node];
  auto elapsed = static_cast<Wide>(now_ - clock.anchor_sim) * clock.rate_ppm / kRateOne;
  return clock.anchor_local + static_cast<pbft::Instant>(elapsed);
}

// The simulated instant at which `node`'s clock reads `local` (now, if it already did).
pbft::Instant SimCluster::sim_time_of(net::NodeId node, pbft::Instant local) const {
  const Clock& clock = clocks_[node];
  if (local <= clock.anchor_local) return clock.anchor_sim;
  auto scaled = (static_cast<Wide>(local - clock.anchor_local) * kRateOne + clock.rate_ppm - 1) /
                clock.rate_ppm;
  return clock.anchor_sim + static_cast<pbft::Instant>(scaled);
}

void SimCluster::set_clock_rate(net::NodeId node, double rate) {
  PHALANX_ASSERT(node < clocks_.size(), "node id out of range");
  PHALANX_ASSERT(rate > 0.01 && rate < 100, "a clock rate between 0.01 and 100");
  Clock& clock = clocks_[node];
  clock.anchor_local = local_now(node);
  clock.anchor_sim = now_;
  clock.rate_ppm = static_cast<std::uint64_t>(rate * static_cast<double>(kRateOne));
  reschedule(node);
}

void SimCluster::jump_clock(net::NodeId node, pbft::Instant forward) {
  PHALANX_ASSERT(node < clocks_.size(), "node id out of range");
  Clock& clock = clocks_[node];
  clock.anchor_local = local_now(node) + forward;
  clock.anchor_sim = now_;
  reschedule(node);
}

void SimCluster::set_wall_clock_skew(net::NodeId node, std::int64_t skew_ms) {
  PHALANX_ASSERT(node < wall_skew_ms_.size(), "node id out of range");
  wall_skew_ms_[node] = skew_ms;
}

pbft::UnixMillis SimCluster::wall_now(net::NodeId node) const {
  auto wall = static_cast<std::int64_t>(kWallEpochMs + now_ / pbft::kMillisecond);
  return static_cast<pbft::UnixMillis>(wall + wall_skew_ms_[node]);
}

pbft::ReplicaSetup SimCluster::replica_setup(pbft::ReplicaId id, net::NodeId node) {
  pbft::ReplicaSetup setup{replica_verifiers_[id], id,
                           crypto::SecretKey::derive_for_testing("replica", id),
                           options_.replica_options};
  setup.wall_clock = [this, node] { return wall_now(node); };
  return setup;
}

// Its deadlines moved in simulated time: its wake-up too.
void SimCluster::reschedule(net::NodeId node) {
  live_wakeup_[node] = LiveWakeup{kNever, 0};
  if (is_replica(node)) {
    ReplicaNode& replica = instance(node);
    if (!replica.silent && replica.pauses == 0)
      schedule_wakeup(node, replica.replica->next_deadline());
  } else {
    schedule_wakeup(node, clients_[node - options_.replicas]->core->next_deadline());
  }
}

bool SimCluster::silent(net::NodeId node) const {
  return is_replica(node) && instance(node).silent;
}

bool SimCluster::all_completed() const {
  return completed_ == std::uint64_t{options_.clients} * options_.requests_per_client;
}

std::vector<Violation> SimCluster::check(const CheckOptions& options) const {
  return adversary::check(history_, options);
}

// --- the event loop -------------------------------------------------------------------

RunResult SimCluster::run() {
  PHALANX_ASSERT(!started_, "SimCluster::run is called once");
  started_ = true;
  for (const auto& replica : replicas_) {
    if (!replica->silent) schedule_wakeup(replica->node, replica->replica->next_deadline());
  }
  for (const auto& replica : replicas_)
    if (replica->behaviour) schedule_behaviour_tick(replica->node);
  for (std::uint32_t index = 0; index < options_.clients; ++index) submit_next(index);

  std::optional<pbft::Instant> settle_until;  // once every request completed
  while (true) {
    pbft::Instant limit = options_.time_limit;
    if (all_completed()) {
      if (!settle_until) {
        completed_at_ = now_;
        // Not before the faults and actions a test scheduled have all happened (a crashed
        // replica restarts, a partition heals), and the settle time after them.
        settle_until = std::max(now_, last_scheduled_at_) + options_.settle_time;
      }
      if (now_ >= *settle_until) return result(RunResult::Stop::kCompleted);
      limit = std::min(limit, *settle_until);
    }
    if (counters_.steps >= options_.steps_max) return result(RunResult::Stop::kStepLimit);
    switch (step_once(limit)) {
      case Step::kDone:
        break;
      case Step::kIdle:
        return result(settle_until ? RunResult::Stop::kCompleted : RunResult::Stop::kIdle);
      case Step::kTimeLimit:
        return result(settle_until ? RunResult::Stop::kCompleted : RunResult::Stop::kTimeLimit);
    }
  }
}

// Carries out the earliest event at or before `limit`. At one instant: fault changes and
// actions first (so that a change at t governs deliveries at t), then deliveries, then
// wake-ups.
SimCluster::Step SimCluster::step_once(pbft::Instant limit) {
  pbft::Instant change_at = changes_.empty() ? kNever : changes_.top().at;
  pbft::Instant delivery_at = network_.next_delivery_at().value_or(kNever);
  pbft::Instant wakeup_at = wakeups_.empty() ? kNever : wakeups_.top().at;
  pbft::Instant next = std::min({change_at, delivery_at, wakeup_at});
  if (next == kNever) return Step::kIdle;
  if (next > limit) {
    now_ = std::max(now_, limit);
    return Step::kTimeLimit;
  }
  PHALANX_ASSERT(next >= now_, "simulated time went backwards");
  now_ = next;

  if (change_at == next) {
    Action change = changes_.top().change;
    changes_.pop();
    change(*this);
  } else if (delivery_at == next) {
    // pop() may skip deliveries whose link went down in flight; then nothing happens.
    if (auto delivery = network_.pop(now_)) deliver(*delivery);
  } else {
    Wakeup wakeup = wakeups_.top();
    wakeups_.pop();
    if (live_wakeup_[wakeup.node].order != wakeup.order) return Step::kDone;  // superseded
    live_wakeup_[wakeup.node] = LiveWakeup{kNever, 0};
    // A crashed replica never wakes; a paused one wakes when it resumes (end_pause).
    if (silent(wakeup.node) || paused(wakeup.node)) return Step::kDone;
    if (busy(wakeup.node)) {
      wait_for_cpu(wakeup.node, std::nullopt);
      return Step::kDone;
    }
    wake(wakeup.node);
  }
  return Step::kDone;
}

void SimCluster::deliver(const net::Delivery& delivery) {
  trace_.update_u64(now_).update_u64(delivery.from).update_u64(delivery.to);
  trace_.update_field(*delivery.bytes);
  const net::NodeId node = delivery.to;
  if (silent(node)) {
    ++counters_.delivered_to_silent;
    return;
  }
  if (is_replica(node) && instance(node).pauses > 0) {
    ReplicaNode& replica = instance(node);
    if (replica.held.size() >= kHeldMessagesMax) {
      ++counters_.held_overflow;
      return;
    }
    ++counters_.held_while_paused;
    replica.held.push_back(delivery);
    return;
  }
  if (busy(node)) return wait_for_cpu(node, delivery);
  if (options_.cpu.enabled() && is_replica(node) && instance(node).replica)
    instance(node).replica->note_backlog(false, local_now(node));
  hand_over(delivery);
}

// --- processing time (SimClusterOptions::cpu) ----------------------------------------------

bool SimCluster::busy(net::NodeId node) const {
  if (!options_.cpu.enabled() || !is_replica(node)) return false;
  const ReplicaNode& replica = instance(node);
  return replica.busy_until > now_ || !replica.cpu_queue.empty();
}

void SimCluster::wait_for_cpu(net::NodeId node, std::optional<net::Delivery> delivery) {
  ReplicaNode& replica = instance(node);
  ++counters_.waited_for_cpu;
  if (replica.cpu_queue.size() >= kHeldMessagesMax) {
    ++counters_.held_overflow;  // the socket buffer is full: lost
    return;
  }
  replica.cpu_queue.push_back(std::move(delivery));
  if (replica.drain_scheduled) return;
  replica.drain_scheduled = true;
  schedule_internal(replica.busy_until,
                    [node](SimCluster& cluster) { cluster.drain_cpu_queue(node); });
}

// The replica is free: it takes the next waiting message (or timer), then waits for its
// cost before the one after.
void SimCluster::drain_cpu_queue(net::NodeId node) {
  ReplicaNode& replica = instance(node);
  replica.drain_scheduled = false;
  if (replica.silent) {
    replica.cpu_queue.clear();
    return;
  }
  if (replica.pauses > 0 || replica.cpu_queue.empty()) return;
  std::optional<net::Delivery> next = std::move(replica.cpu_queue.front());
  replica.cpu_queue.pop_front();
  if (replica.replica) replica.replica->note_backlog(!replica.cpu_queue.empty(), local_now(node));
  if (next) {
    hand_over(*next);
  } else {
    wake(node);
  }
  if (replica.cpu_queue.empty() || replica.silent) return;
  replica.drain_scheduled = true;
  schedule_internal(std::max(replica.busy_until, now_),
                    [node](SimCluster& cluster) { cluster.drain_cpu_queue(node); });
}

void SimCluster::charge(net::NodeId node, pbft::Instant cost) {
  if (!options_.cpu.enabled() || !is_replica(node)) return;
  ReplicaNode& replica = instance(node);
  replica.busy_until = std::max(replica.busy_until, now_) + cost;
}

void SimCluster::hand_over(const net::Delivery& delivery) {
  const net::NodeId node = delivery.to;
  auto audience = is_replica(node) ? pbft::Audience::kReplica : pbft::Audience::kClient;
  const pbft::Verifier& verifier = is_replica(node)
                                       ? replica_verifiers_[instance(node).id]
                                       : clients_[node - options_.replicas]->core->verifier();
  pbft::Opened opened = pbft::open_envelope(*delivery.bytes, verifier, audience);
  charge(node, options_.cpu.per_message + options_.cpu.per_kib * delivery.bytes->size() / 1024 +
                   (opened.ok() ? options_.cpu.per_verify : 0));
  if (!opened.ok()) {
    ++counters_.rejected[static_cast<std::size_t>(opened.rejection)];
    record_rejected(delivery, opened.rejection);
    return;
  }
  ++counters_.accepted_by_kind[static_cast<std::size_t>(opened.message->kind)];
  if (trace_events_.size() < options_.trace_limit) {
    record_trace(TraceEvent::Kind::kDelivered, delivery.from, node, *opened.message->envelope,
                 delivery.sent_at_ns);
    trace_events_.back().byzantine = byzantine_in_flight_.count(delivery.bytes.get()) != 0;
  }
  if (is_replica(node)) {
    ReplicaNode& replica = instance(node);
    if (replica.behaviour) replica.behaviour->on_receive(*opened.message->envelope);
    pbft::Actions actions = replica.replica->on_message(*opened.message, local_now(node));
    after_replica_step(node, actions);
  } else {
    std::uint32_t index = node - options_.replicas;
    pbft::ClientActions actions = clients_[index]->core->on_reply(*opened.message, local_now(node));
    after_client_step(index, actions);
  }
}

void SimCluster::wake(net::NodeId node) {
  if (is_replica(node)) {
    charge(node, options_.cpu.per_message);
    after_replica_step(node, instance(node).replica->on_tick(local_now(node)));
  } else {
    std::uint32_t index = node - options_.replicas;
    after_client_step(index, clients_[index]->core->on_tick(local_now(node)));
  }
}

// Keeps one live wake-up per node, at the earliest deadline asked for; a wake-up that
// fires before the node's current deadline is a harmless early tick.
void SimCluster::schedule_wakeup(net::NodeId node, pbft::Instant deadline_local) {
  if (deadline_local == kNever) return;
  pbft::Instant at = std::max(sim_time_of(node, deadline_local), now_);
  if (live_wakeup_[node].at <= at) return;
  live_wakeup_[node] = LiveWakeup{at, next_order_};
  wakeups_.push(Wakeup{at, next_order_++, node});
}

// --- carrying out what the cores asked ---------------------------------------------------

void SimCluster::after_replica_step(net::NodeId node, const pbft::Actions& actions) {
  ++counters_.steps;
  ++counters_.steps_by_node[node];
  ReplicaNode& instance_node = instance(node);
  const pbft::Replica& replica = *instance_node.replica;
  // Its invariants were checked as the step ended (Replica::Core::end_step).
  carry_out(node, actions);
  if (observer_ && node < options_.replicas) observer_(instance_node.id, replica);
  if (!silent(node)) schedule_wakeup(node, replica.next_deadline());  // it may have crashed
}

void SimCluster::after_client_step(std::uint32_t index, const pbft::ClientActions& actions) {
  ++counters_.steps;
  ++counters_.steps_by_node[client_node(index)];
  carry_out(index, actions);
  schedule_wakeup(client_node(index), clients_[index]->core->next_deadline());
}

void SimCluster::carry_out(net::NodeId node, const pbft::Actions& actions) {
  const pbft::ReplicaId id = instance(node).id;
  if (!persist(node, actions)) return;  // crashed before its records were durable
  charge(node, options_.cpu.per_sign * (actions.send.size() + actions.replies.size()));
  for (const auto& outgoing : actions.send) {
    if (outgoing.to) {
      for_each_node_of(*outgoing.to, [&](net::NodeId to) { send(node, to, outgoing.envelope); });
      continue;
    }
    for (pbft::ReplicaId to = 0; to < options_.replicas; ++to) {
      if (to != id)
        for_each_node_of(to, [&](net::NodeId peer) { send(node, peer, outgoing.envelope); });
    }
  }
  for (const auto& reply : actions.replies) {
    auto client = client_by_key_.find(reply.client);
    if (client == client_by_key_.end()) {
      ++counters_.replies_unroutable;
      continue;
    }
    ++counters_.replies_routed;
    send(node, client->second, reply.envelope);
  }
  record_history(id, actions);
  static const bool trace = std::getenv("PHALANX_SIM_TRACE") != nullptr;
  for (const auto& event : actions.events) {
    if (trace)
      std::fprintf(stderr, "%8.3f ms r%u %s %llu %s\n", static_cast<double>(now_) / 1e6, id,
                   std::string(pbft::to_string(event.type)).c_str(),
                   static_cast<unsigned long long>(event.value), event.detail.c_str());
    if (event.type == pbft::Event::Type::kViewChangeStarted) ++counters_.view_changes_started;
    if (event.type == pbft::Event::Type::kStateDiverged)
      history_.record_alarm(id, "seq " + std::to_string(event.value) + ": " + event.detail);
    if (event.type == pbft::Event::Type::kDroppedMessage) {
      ++counters_.dropped_by_core[event.detail];
    } else if (trace_events_.size() < options_.trace_limit) {
      TraceEvent noted;
      noted.kind = TraceEvent::Kind::kEvent;
      noted.at = now_;
      noted.from = node;
      noted.text = std::string(pbft::to_string(event.type)) + " " + std::to_string(event.value) +
                   (event.detail.empty() ? "" : " " + event.detail);
      trace_events_.push_back(std::move(noted));
    }
  }
  for (const auto& evidence : actions.evidence) {
    ++counters_.evidence;
    history_.record_accusation(evidence.replica, evidence.what, id);
  }
}

// A step that completes a state transfer to S may also execute S+1, S+2, ... from the
// log; the jump goes into the history before the first batch above S, whatever the order
// of the Actions' lists.
void SimCluster::record_history(pbft::ReplicaId id, const pbft::Actions& actions) {
  std::vector<pbft::Seq> jumps;
  for (const auto& event : actions.events) {
    if (event.type == pbft::Event::Type::kStateTransferDone) jumps.push_back(event.value);
  }
  std::sort(jumps.begin(), jumps.end());
  auto next_jump = jumps.begin();
  auto record_jumps_below = [&](pbft::Seq seq) {
    for (; next_jump != jumps.end() && *next_jump < seq; ++next_jump) {
      ++counters_.state_transfers;
      history_.record_state_transfer(id, *next_jump);
      trace_.update_u64(id).update_u64(*next_jump);
    }
  };
  for (const auto& batch : actions.executed) {
    record_jumps_below(batch.seq);
    ++counters_.executed_batches;
    history_.record_executed(id, batch);
    trace_.update_u64(id).update_u64(batch.seq).update(batch.digest.view());
  }
  record_jumps_below(kNever);
}

void SimCluster::carry_out(std::uint32_t index, const pbft::ClientActions& actions) {
  const net::NodeId node = client_node(index);
  ClientNode& client = *clients_[index];
  for (const auto& outgoing : actions.send) {
    if (outgoing.to) {
      for_each_node_of(*outgoing.to, [&](net::NodeId to) { send(node, to, outgoing.envelope); });
      continue;
    }
    if (actions.retried) {
      ++client.broadcasts;
      ++counters_.client_broadcasts;
    }
    for (pbft::ReplicaId to = 0; to < options_.replicas; ++to)
      for_each_node_of(to, [&](net::NodeId peer) { send(node, peer, outgoing.envelope); });
  }
  if (actions.completed) {
    ++client.completed;
    ++completed_;
    completions_.push_back(CompletionRecord{index, actions.completed->request_id,
                                            client.submitted_at, now_, actions.completed->view,
                                            client.first_sent_to, client.broadcasts});
    history_.record_accepted(client.core->public_key(), actions.completed->request_id,
                             actions.completed->result);
    if (options_.think_time == 0) {
      submit_next(index);
    } else {
      schedule_internal(now_ + options_.think_time,
                        [index](SimCluster& cluster) { cluster.submit_next(index); });
    }
  }
}

Bytes SimCluster::operation(std::uint32_t index, std::uint32_t number) const {
  if (options_.make_operation) return options_.make_operation(index, number);
  std::string key = "c" + std::to_string(index) + "-k" + std::to_string(number);
  std::string value = "v" + std::to_string(number) + "-s" + std::to_string(options_.seed);
  return examples::kv::put(key, value);
}

// The closed loop: a client submits its next request as soon as the previous one completed.
void SimCluster::submit_next(std::uint32_t index) {
  ClientNode& client = *clients_[index];
  if (client.submitted == options_.requests_per_client || client.core->busy()) return;
  const std::uint32_t number = ++client.submitted;
  pbft::ClientActions actions =
      client.core->submit(operation(index, number), local_now(client_node(index)));

  // What the replicas will see: the id and payload digest of the signed request.
  PHALANX_ASSERT(!actions.send.empty(), "a submitted request is sent");
  client.submitted_at = now_;
  client.first_sent_to = verifier_.quorums().primary(client.core->view());
  client.broadcasts = 0;
  wire::Envelope envelope;
  wire::Request request;
  PHALANX_ASSERT(envelope.ParseFromString(*actions.send.front().envelope) &&
                     request.ParseFromString(envelope.payload()),
                 "the client core sealed an undecodable request");
  history_.record_submitted(client.core->public_key(), request.request_id(),
                            crypto::blake2b(envelope.payload()));
  after_client_step(index, actions);
}

void SimCluster::send(net::NodeId from, net::NodeId to, const pbft::SharedBytes& original) {
  PHALANX_ASSERT(from != to, "a node sends to itself");
  if (silent(from)) {  // crashed during this step (by the send filter or the observer)
    ++counters_.unsent_after_crash;
    return;
  }
  if (is_replica(from) && instance(from).behaviour) {
    // `to` as the behaviour knows it: a replica id, or a client's node.
    net::NodeId addressee = is_replica(to) ? instance(to).id : to;
    Emissions emissions = instance(from).behaviour->on_send(addressee, original, decoded(original));
    if (emissions.size() != 1 || emissions[0].bytes != original) ++counters_.byzantine_changed;
    for (const auto& emission : emissions) {
      if (emission.delay == 0) {
        transmit(from, to, emission.bytes, emission.bytes != original);
        continue;
      }
      auto at = sim_time_of(from, local_now(from) + emission.delay);
      schedule_internal(at, [from, to, bytes = emission.bytes](SimCluster& cluster) {
        if (!cluster.silent(from)) cluster.transmit(from, to, bytes, true);
      });
    }
    return;
  }
  transmit(from, to, original, false);
}

void SimCluster::transmit(net::NodeId from, net::NodeId to, const pbft::SharedBytes& original,
                          bool byzantine) {
  pbft::SharedBytes bytes = original;
  if (send_rewriter_) {
    SentMessage message{from, to, now_, &decoded(original)};
    if (auto replacement = send_rewriter_(*this, message)) {
      ++counters_.rewritten;
      bytes = std::move(*replacement);
    }
  }
  if (is_replica(from)) record_signed(from, bytes);
  if (send_filter_ && filter(from, to, bytes) == SendVerdict::kDrop) {
    ++counters_.filtered;
    record_sent(from, to, bytes, TraceEvent::Kind::kFiltered, byzantine);
    return;
  }
  net::SendOutcome outcome = network_.send(from, to, bytes, now_);
  if (outcome != net::SendOutcome::kQueued)
    record_sent(from, to, bytes, TraceEvent::Kind::kLost, byzantine);
  else if (byzantine)
    record_sent(from, to, bytes, TraceEvent::Kind::kByzantineSent, true);
}

RunResult SimCluster::result(RunResult::Stop stop) {
  RunResult result;
  result.stop = stop;
  result.completed_requests = completed_;
  result.expected_requests = std::uint64_t{options_.clients} * options_.requests_per_client;
  result.sim_time = now_;
  result.completed_at = completed_at_;
  for (const auto& node : replicas_) {
    result.replicas.push_back(node->replica->status());
    result.crashed.push_back(node->silent);
  }
  result.network = network_.counters();
  result.harness = counters_;
  crypto::Hasher trace = trace_;  // finish a copy: the run may continue
  result.trace_hash = trace.finish();
  return result;
}

}  // namespace phalanx::adversary
