// SimCluster's process faults and send filter (see sim_cluster.h): crash, pause, and the
// hook that sees every message before the network does.
#include <utility>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/base/assert.h"
#include "sim_nodes.h"

namespace phalanx::adversary {

std::optional<pbft::View> SentMessage::view() const {
  auto slot = pbft::slot_of(*envelope);
  if (!slot) return std::nullopt;
  return slot->view;
}

std::optional<pbft::Seq> SentMessage::seq() const {
  auto slot = pbft::slot_of(*envelope);
  if (!slot) return std::nullopt;
  return slot->seq;
}

// --- crash ------------------------------------------------------------------------------

void SimCluster::crash(pbft::ReplicaId id, CrashPolicy disk) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas crash");
  ReplicaNode& node = *replicas_[id];
  if (node.silent) return;
  node.silent = true;
  node.crash_while_persisting.reset();
  counters_.delivered_to_silent += node.held.size();  // its socket buffer dies with it
  node.held.clear();
  if (node.disk) node.disk->crash(disk, disk_rng_);
  ++counters_.crashes;
  history_.record_crash(id);
  note("crash", id);
  trace_.update_u64(now_).update_u64(id);
}

void SimCluster::schedule_crash(pbft::Instant at, pbft::ReplicaId id, CrashPolicy disk) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas crash");
  schedule_action(at, [id, disk](SimCluster& cluster) { cluster.crash(id, disk); });
}

void SimCluster::crash_while_persisting(pbft::ReplicaId id, CrashPolicy disk) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas crash");
  if (!replicas_[id]->silent) replicas_[id]->crash_while_persisting = disk;
}

bool SimCluster::crashed(pbft::ReplicaId id) const {
  return id < replicas_.size() && replicas_[id]->silent;
}

// --- pause ------------------------------------------------------------------------------

void SimCluster::pause(pbft::ReplicaId id, pbft::Instant from, pbft::Instant until) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas pause");
  PHALANX_ASSERT(from < until, "a pause ends after it starts");
  schedule_action(from, [id](SimCluster& cluster) { cluster.begin_pause(id); });
  schedule_action(until, [id](SimCluster& cluster) { cluster.end_pause(id); });
}

bool SimCluster::paused(pbft::ReplicaId id) const {
  return id < replicas_.size() && replicas_[id]->pauses > 0;
}

void SimCluster::begin_pause(pbft::ReplicaId id) {
  if (replicas_[id]->pauses++ == 0) note("pause", id);
}

// The process runs again: it first reads what its socket buffer holds, in arrival order,
// then its timers fire (the next wake-up is due at once: its deadlines passed meanwhile).
void SimCluster::end_pause(pbft::ReplicaId id) {
  ReplicaNode& node = *replicas_[id];
  PHALANX_ASSERT(node.pauses > 0, "a pause ends that never began");
  if (--node.pauses > 0 || node.silent) return;
  note("resume", id);
  // A filter or observer may crash it while it reads: what is left then dies with it.
  while (!node.held.empty() && !node.silent && node.pauses == 0) {
    net::Delivery delivery = std::move(node.held.front());
    node.held.pop_front();
    hand_over(delivery);
  }
  if (node.silent || node.pauses > 0) return;
  schedule_wakeup(id, node.replica->next_deadline());
}

// --- the send filter -------------------------------------------------------------------

// A broadcast is decoded once, not once per destination.
const wire::Envelope& SimCluster::decoded(const pbft::SharedBytes& bytes) {
  if (filtered_bytes_ != bytes) {
    // Bytes that are no envelope (a Byzantine sender's) show as KIND_UNSPECIFIED.
    if (!filtered_envelope_.ParseFromString(*bytes)) filtered_envelope_.Clear();
    filtered_bytes_ = bytes;
  }
  return filtered_envelope_;
}

SendVerdict SimCluster::filter(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes) {
  SentMessage message{from, to, now_, &decoded(bytes)};
  return send_filter_(*this, message);
}

}  // namespace phalanx::adversary
