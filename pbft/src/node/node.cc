#include "phalanx/node/node.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "connection_gate.h"

namespace phalanx::node {

namespace {
std::shared_ptr<spdlog::logger> default_logger(pbft::ReplicaId id) {
  std::string name = "replica-" + std::to_string(id);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n %v");
  return logger;
}
}  // namespace

Node::Node(NodeOptions options, crypto::SecretKey key, pbft::Application& application,
           std::unique_ptr<net::Transport> transport, std::unique_ptr<storage::Storage> storage,
           std::shared_ptr<const net::Clock> clock, std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)),
      application_(application),
      transport_(std::move(transport)),
      storage_(std::move(storage)),
      clock_(std::move(clock)),
      log_(logger ? std::move(logger) : default_logger(options_.id)) {
  // One set of MAC keys serves the edge (open_envelope) and the core (MAC'd replies).
  if (options_.replica.accept_mac_clients && !options_.verifier.replica_macs)
    options_.verifier.replica_macs =
        std::make_shared<const pbft::ReplicaMacs>(options_.id, key.clone());
  pbft::ReplicaSetup setup{options_.verifier, options_.id, std::move(key), options_.replica};
  setup.rejoin = options_.rejoin;
  setup.wall_clock = [clock = clock_] { return clock->wall_ms(); };
  replica_ = std::make_unique<pbft::Replica>(std::move(setup), application_, now());
  gate_ = std::make_unique<ConnectionGate>(ConnectionGateOptions{
      options_.connection_messages_per_second, options_.connection_messages_per_second,
      options_.misbehaving_connection_mute, options_.client_connections_max});
  status_ = replica_->status();
}

Node::~Node() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void Node::start() {
  PHALANX_ASSERT(!thread_.joinable(), "Node::start called twice");
  thread_ = std::thread([this] {
    Status status = run();
    if (!status.ok()) log_->critical("stopped: {}", status.error().message);
  });
}

void Node::stop() {
  stop_requested_.store(true);
}

pbft::ReplicaStatus Node::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

Status Node::recover() {
  PHALANX_ASSERT(!recovered_, "Node::recover called twice");
  recovered_ = true;
  auto loaded = storage_->load();
  if (!loaded.ok()) return loaded.error();
  const pbft::DurableState& state = loaded.value();
  if (state.empty()) {
    log_->info("replica {}: no durable state: {}", options_.id,
               options_.rejoin ? "rejoining, without voting until it is safe" : "a new replica");
    return ok_status();
  }
  if (options_.rejoin)
    return Error{"rejoining needs an empty storage, but it holds state (discard it first)"};
  auto recovered = replica_->recover(state, now());
  if (!recovered.ok()) return recovered.error();
  pbft::ReplicaStatus position = replica_->status();
  log_->info(
      "replica {}: recovered from {} (snapshot at seq {}, {} records): view {}{}, "
      "last executed {}, stable checkpoint {}",
      options_.id, state.snapshot ? "a snapshot and the log" : "the log",
      state.snapshot ? state.snapshot->seq : 0, state.records.size(), position.view,
      position.view_changing ? " (changing)" : "", position.last_executed, position.stable_seq);
  // The re-execution's records are made durable now; its messages leave when run() does.
  add_to_group(std::move(recovered).value());
  return ok_status();
}

Status Node::run() {
  if (!recovered_) {
    if (Status recovered = recover(); !recovered.ok()) return recovered;
  }
  running_.store(true);
  log_->info("replica {} running (n={}, f={}, cluster {})", options_.id,
             options_.verifier.quorums().n, options_.verifier.quorums().f(),
             options_.verifier.cluster_id);
  std::vector<net::Inbound> inbound;
  inbound.reserve(options_.receive_batch_max);
  while (!stop_requested_.load() && !error_) {
    std::uint64_t deadline = replica_->next_deadline();
    std::uint64_t current = now();
    auto wait = std::chrono::milliseconds(0);
    if (deadline > current)
      wait = std::min(options_.idle_wait_max, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::nanoseconds(deadline - current)) +
                                                  std::chrono::milliseconds(1));
    inbound.clear();
    if (group_.empty()) {
      transport_->receive(inbound, options_.receive_batch_max, wait);
      // A full read means more is waiting: this replica is behind its own input.
      replica_->note_backlog(inbound.size() >= options_.receive_batch_max, now());
    }
    for (auto& message : inbound) {
      if (error_) break;
      step_inbound(message);
    }
    if (!error_ && now() >= replica_->next_deadline()) add_to_group(replica_->on_tick(now()));
    if (!error_) flush_group();
    update_gauges();
    if (digest_requested_.exchange(false)) publish_state_digest();
  }
  if (!error_) {
    if (Status flushed = storage_->flush(); !flushed.ok())
      error_ = Error{"storage failed while stopping: " + flushed.error().message};
  }
  running_.store(false);
  log_->info("replica {} stopped", options_.id);
  if (error_) return *error_;
  return ok_status();
}

void Node::step_inbound(net::Inbound& inbound) {
  metrics_.messages_received.fetch_add(1, std::memory_order_relaxed);
  metrics_.bytes_received.fetch_add(inbound.bytes.size(), std::memory_order_relaxed);
  const std::uint64_t at = now();  // one clock read serves the whole message
  if (!admitted(inbound, at)) return;
  pbft::Opened opened =
      pbft::open_envelope(inbound.bytes, options_.verifier, pbft::Audience::kReplica);
  if (!opened.ok()) {
    metrics_.rejected[static_cast<std::size_t>(opened.rejection)].fetch_add(
        1, std::memory_order_relaxed);
    log_rejection(opened.rejection, inbound.connection);
    // Every check but one gives the same verdict at every replica, so a rejection marks
    // the sender as faulty. A wrong MAC entry is the exception: the client may have lied
    // to this replica only, and a correct backup relaying its request must not be muted.
    if (opened.rejection != pbft::Rejection::kBadMac) gate_->punish(inbound.connection, at);
    return;
  }
  const pbft::Message& message = *opened.message;
  if (message.kind == wire::REQUEST) {
    metrics_.requests_received.fetch_add(1, std::memory_order_relaxed);
    // A request relayed by a replica came over that replica's link: replies must not go
    // there. Only a link that did not introduce itself as a node can be the client's.
    if (!inbound.node) {
      remember_client(message.client, inbound.connection);
      const auto& request = std::get<wire::Request>(message.body);
      auto& arrival = arrivals_[message.client];  // bounded with the remembered clients
      if (arrival.first < request.request_id()) arrival = {request.request_id(), at};
    }
  }
  add_to_group(replica_->on_message(message, at));
}

bool Node::admitted(const net::Inbound& inbound, std::uint64_t at) {
  switch (gate_->admit(inbound.connection, at)) {
    case ConnectionGate::Verdict::kAdmit:
      return true;
    case ConnectionGate::Verdict::kMuted:
      metrics_.gated_muted.fetch_add(1, std::memory_order_relaxed);
      return false;
    case ConnectionGate::Verdict::kRateLimited:
      metrics_.gated_rate_limited.fetch_add(1, std::memory_order_relaxed);
      return false;
  }
  return false;
}

void Node::add_to_group(pbft::Actions actions) {
  bool closes = actions.snapshot.has_value();
  group_.push_back(std::move(actions));
  // The snapshot re-states everything up to its step; later steps' records must go
  // after it (actions.h).
  if (closes) flush_group();
}

// Carries out the group in the order actions.h prescribes: every record with one sync,
// the snapshot (at most one: it closes the group), then every message and reply.
void Node::flush_group() {
  if (group_.empty() || error_) return;
  std::vector<pbft::DurableRecord> records;
  for (const auto& actions : group_)
    records.insert(records.end(), actions.persist.begin(), actions.persist.end());
  Status persisted = storage_->append(records);
  for (const auto& actions : group_) {
    if (!persisted.ok() || !actions.snapshot) continue;
    auto started = std::chrono::steady_clock::now();
    persisted = storage_->save_snapshot(*actions.snapshot);
    log_->info("snapshot at seq {} saved: {} bytes of state, {} records, {} ms",
               actions.snapshot->seq, actions.snapshot->state->size(),
               actions.snapshot->records.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count());
  }
  if (!persisted.ok()) {
    // Sending what is not durable could make this replica equivocate after a restart.
    error_ = Error{"storage failed, stopping before sending: " + persisted.error().message};
    group_.clear();
    return;
  }
  metrics_.records_persisted.fetch_add(records.size(), std::memory_order_relaxed);
  for (const auto& actions : group_) {
    send_all(actions);
    deliver_replies(actions);
    observe(actions);
  }
  group_.clear();
  storage::StorageStats stats = storage_->stats();
  metrics_.storage_syncs.store(stats.syncs, std::memory_order_relaxed);
  metrics_.storage_bytes.store(stats.bytes, std::memory_order_relaxed);
  metrics_.snapshots_saved.store(stats.snapshots, std::memory_order_relaxed);
  std::lock_guard lock(status_mutex_);
  status_ = replica_->status();
}

void Node::send_all(const pbft::Actions& actions) {
  std::uint32_t n = options_.verifier.quorums().n;
  for (const auto& outgoing : actions.send) {
    if (outgoing.to) {
      transport_->send_to_node(*outgoing.to, outgoing.envelope);
      metrics_.messages_sent.fetch_add(1, std::memory_order_relaxed);
      metrics_.bytes_sent.fetch_add(outgoing.envelope->size(), std::memory_order_relaxed);
      continue;
    }
    for (pbft::ReplicaId peer = 0; peer < n; ++peer) {
      if (peer == options_.id) continue;
      transport_->send_to_node(peer, outgoing.envelope);  // one buffer, shared by all
      metrics_.messages_sent.fetch_add(1, std::memory_order_relaxed);
      metrics_.bytes_sent.fetch_add(outgoing.envelope->size(), std::memory_order_relaxed);
    }
  }
}

void Node::deliver_replies(const pbft::Actions& actions) {
  for (const auto& reply : actions.replies) {
    auto found = client_connections_.find(reply.client);
    if (found == client_connections_.end()) {
      metrics_.replies_unroutable.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    transport_->send_to_connection(found->second, reply.envelope);
    metrics_.replies_sent.fetch_add(1, std::memory_order_relaxed);
    metrics_.reply_bytes_sent.fetch_add(reply.envelope->size(), std::memory_order_relaxed);
  }
}

void Node::observe(const pbft::Actions& actions) {
  for (const auto& batch : actions.executed) {
    metrics_.batches_executed.fetch_add(1, std::memory_order_relaxed);
    for (const auto& request : batch.requests) {
      if (request.duplicate) continue;
      metrics_.requests_executed.fetch_add(1, std::memory_order_relaxed);
      auto arrival = arrivals_.find(request.client);
      if (arrival != arrivals_.end() && arrival->second.first <= request.request_id) {
        metrics_.request_latency.observe_ns(now() - arrival->second.second);
        arrivals_.erase(arrival);
      }
    }
  }
  for (const auto& event : actions.events) log_event(event);
  for (const auto& evidence : actions.evidence)
    log_->warn("evidence against replica {}: {}", evidence.replica, evidence.what);
}

void Node::log_event(const pbft::Event& event) {
  using Type = pbft::Event::Type;
  switch (event.type) {
    case Type::kDroppedMessage:
      metrics_.dropped_by_core.fetch_add(1, std::memory_order_relaxed);
      metrics_.count_dropped(event.detail);
      return;  // counted; too frequent to log one by one
    case Type::kStateTransferStarted:
      transfer_started_at_ = now();
      break;
    case Type::kViewChangeStarted:
      metrics_.view_changes_started.fetch_add(1, std::memory_order_relaxed);
      break;
    case Type::kViewEntered:
      metrics_.views_entered.fetch_add(1, std::memory_order_relaxed);
      break;
    case Type::kCheckpointStable:
      metrics_.checkpoints_stable.fetch_add(1, std::memory_order_relaxed);
      break;
    case Type::kStateTransferDone: {
      metrics_.state_transfers.fetch_add(1, std::memory_order_relaxed);
      double seconds = static_cast<double>(now() - transfer_started_at_) / 1e9;
      double bytes = static_cast<double>(event.bytes);
      log_->info("state transfer to seq {}: {:.1f} MiB in {:.3f} s ({:.1f} MiB/s)", event.value,
                 bytes / (1 << 20), seconds, seconds > 0 ? bytes / (1 << 20) / seconds : 0.0);
      break;
    }
    case Type::kEvidence:
      metrics_.evidence.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      break;
  }
  auto level = event.type == Type::kStateDiverged || event.type == Type::kMessageTooLarge
                   ? spdlog::level::err
                   : spdlog::level::info;
  log_->log(level, "{} value={}{}{}", pbft::to_string(event.type), event.value,
            event.detail.empty() ? "" : " ", event.detail);
}

void Node::log_rejection(pbft::Rejection reason, std::uint64_t connection) {
  auto index = static_cast<std::size_t>(reason);
  std::uint64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.rejection_log_interval).count();
  std::uint64_t current = now();
  if (rejection_logged_at_[index] != 0 && current - rejection_logged_at_[index] < interval) return;
  rejection_logged_at_[index] = current;
  log_->warn("rejected message reason={} connection={} total={}", pbft::to_string(reason),
             connection, metrics_.rejected[index].load(std::memory_order_relaxed));
}

void Node::remember_client(const crypto::PublicKey& client, std::uint64_t connection) {
  auto [it, inserted] = client_connections_.insert_or_assign(client, connection);
  if (!inserted) return;
  client_order_.push_back(client);
  while (client_connections_.size() > options_.client_connections_max) {
    client_connections_.erase(client_order_.front());
    arrivals_.erase(client_order_.front());
    client_order_.pop_front();
  }
}

std::optional<Node::StateDigest> Node::state_digest() {
  digest_requested_.store(true);
  std::lock_guard lock(status_mutex_);
  return state_digest_;
}

void Node::publish_state_digest() {
  StateDigest digest{replica_->status().last_executed, crypto::blake2b(application_.snapshot())};
  std::lock_guard lock(status_mutex_);
  state_digest_ = digest;
}

std::string Node::status_json() {
  auto digest = state_digest();
  pbft::ReplicaStatus current = status();
  std::string json = "{\"id\":" + std::to_string(options_.id) +
                     ",\"view\":" + std::to_string(current.view) +
                     ",\"view_changing\":" + (current.view_changing ? "true" : "false") +
                     ",\"last_executed\":" + std::to_string(current.last_executed) +
                     ",\"stable_seq\":" + std::to_string(current.stable_seq) +
                     ",\"pending_requests\":" + std::to_string(current.pending_requests) +
                     ",\"rejoining\":" + (current.rejoining ? "true" : "false");
  if (digest)
    json += ",\"state_digest_seq\":" + std::to_string(digest->seq) + ",\"state_digest\":\"" +
            digest->digest.hex() + "\"";
  return json + "}";
}

void Node::update_gauges() {
  pbft::ReplicaStatus status = replica_->status();
  metrics_.view.store(status.view, std::memory_order_relaxed);
  metrics_.view_changing.store(status.view_changing ? 1 : 0, std::memory_order_relaxed);
  metrics_.last_executed.store(status.last_executed, std::memory_order_relaxed);
  metrics_.stable_seq.store(status.stable_seq, std::memory_order_relaxed);
  metrics_.log_slots.store(status.log_slots, std::memory_order_relaxed);
  metrics_.pending_requests.store(status.pending_requests, std::memory_order_relaxed);
  metrics_.client_table_size.store(status.client_table_size, std::memory_order_relaxed);
  metrics_.rejoining.store(status.rejoining ? 1 : 0, std::memory_order_relaxed);
  net::TransportStats stats = transport_->stats();
  if (stats.peer_connects != peer_connects_ || stats.peer_disconnects != peer_disconnects_) {
    log_->info("peer connections: {} connects, {} disconnects so far", stats.peer_connects,
               stats.peer_disconnects);
    peer_connects_ = stats.peer_connects;
    peer_disconnects_ = stats.peer_disconnects;
  }
  metrics_.inbound_queue_depth.store(stats.inbound_queue_depth, std::memory_order_relaxed);
  metrics_.outbound_queue_depth.store(stats.outbound_queue_depth, std::memory_order_relaxed);
  metrics_.transport_send_dropped.store(stats.send_dropped, std::memory_order_relaxed);
  metrics_.transport_receive_dropped.store(stats.receive_dropped, std::memory_order_relaxed);
}

}  // namespace phalanx::node
