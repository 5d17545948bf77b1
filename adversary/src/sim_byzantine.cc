// SimCluster's Byzantine replicas (see sim_cluster.h and behaviour.h): a Behaviour between
// a replica's honest core and the network, its own messages on its own clock, and the
// trace of a run for its message sequence chart.
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/base/assert.h"
#include "sim_nodes.h"

namespace phalanx::adversary {

namespace {
template <typename Message>
void slot_of(const std::string& payload, TraceEvent& event) {
  Message message;
  if (!message.ParseFromString(payload)) return;
  event.view = message.view();
  event.seq = message.seq();
}

// The (view, seq) a message is about, where it has one (for the chart's labels).
void describe(const wire::Envelope& envelope, TraceEvent& event) {
  event.message = envelope.kind();
  switch (envelope.kind()) {
    case wire::PRE_PREPARE:
      return slot_of<wire::PrePrepare>(envelope.payload(), event);
    case wire::PREPARE:
      return slot_of<wire::Prepare>(envelope.payload(), event);
    case wire::COMMIT:
      return slot_of<wire::Commit>(envelope.payload(), event);
    case wire::CHECKPOINT: {
      wire::Checkpoint checkpoint;
      if (checkpoint.ParseFromString(envelope.payload())) event.seq = checkpoint.seq();
      return;
    }
    case wire::VIEW_CHANGE: {
      wire::ViewChange view_change;
      if (view_change.ParseFromString(envelope.payload())) event.view = view_change.new_view();
      return;
    }
    case wire::NEW_VIEW: {
      wire::NewView new_view;
      if (new_view.ParseFromString(envelope.payload())) event.view = new_view.view();
      return;
    }
    default:
      return;
  }
}
}  // namespace

void SimCluster::set_behaviour(pbft::ReplicaId id, std::unique_ptr<Behaviour> behaviour) {
  PHALANX_ASSERT(id < options_.replicas, "replica id out of range");
  replicas_[id]->behaviour = std::move(behaviour);
  history_.mark_faulty(id);
  if (started_) schedule_behaviour_tick(id);
}

BehaviourContext SimCluster::behaviour_context(pbft::ReplicaId id,
                                               std::map<std::string, std::string> params) const {
  return BehaviourContext{id,
                          options_.replicas,
                          options_.cluster_id,
                          crypto::SecretKey::derive_for_testing("replica", id),
                          options_.seed * 1000 + id,
                          std::move(params)};
}

// The behaviour's own messages, when its clock reaches next_tick(), while it is up.
void SimCluster::schedule_behaviour_tick(net::NodeId node) {
  ReplicaNode& replica = instance(node);
  if (!replica.behaviour) return;
  pbft::Instant tick = replica.behaviour->next_tick();
  if (tick == kNoTick) return;
  schedule_internal(sim_time_of(node, tick), [node](SimCluster& cluster) {
    ReplicaNode& byzantine = cluster.instance(node);
    if (byzantine.silent) return;  // a crashed process makes nothing
    if (byzantine.behaviour->next_tick() > cluster.local_now(node)) {
      cluster.schedule_behaviour_tick(node);  // it moved its tick later meanwhile
      return;
    }
    for (const auto& outbound : byzantine.behaviour->on_tick(cluster.local_now(node))) {
      ++cluster.counters_.byzantine_made;
      auto send_to = [&](pbft::ReplicaId to) {
        cluster.for_each_node_of(to, [&](net::NodeId peer) {
          if (peer != node) cluster.transmit(node, peer, outbound.bytes, true);
        });
      };
      if (outbound.to) {
        send_to(static_cast<pbft::ReplicaId>(*outbound.to));
      } else {
        for (pbft::ReplicaId to = 0; to < cluster.options_.replicas; ++to)
          if (to != byzantine.id) send_to(to);
      }
    }
    cluster.schedule_behaviour_tick(node);
  });
}

// --- the trace ---------------------------------------------------------------------------

void SimCluster::note(std::string text, std::optional<net::NodeId> node) {
  if (trace_events_.size() >= options_.trace_limit) return;
  TraceEvent event;
  event.kind = TraceEvent::Kind::kFault;
  event.at = now_;
  event.from = node.value_or(~net::NodeId{0});
  event.text = std::move(text);
  trace_events_.push_back(std::move(event));
}

void SimCluster::record_trace(TraceEvent::Kind kind, net::NodeId from, net::NodeId to,
                              const wire::Envelope& envelope, pbft::Instant sent_at,
                              std::string text) {
  if (trace_events_.size() >= options_.trace_limit) return;
  TraceEvent event;
  event.kind = kind;
  event.at = now_;
  event.sent_at = sent_at;
  event.from = from;
  event.to = to;
  event.text = std::move(text);
  describe(envelope, event);
  trace_events_.push_back(std::move(event));
}

void SimCluster::record_sent(net::NodeId from, net::NodeId to, const pbft::SharedBytes& bytes,
                             TraceEvent::Kind kind, bool byzantine) {
  if (trace_events_.size() >= options_.trace_limit) return;
  if (byzantine && kind == TraceEvent::Kind::kByzantineSent)
    byzantine_in_flight_.emplace(bytes.get(), bytes);  // its delivery will be marked
  record_trace(kind, from, to, decoded(bytes), now_);
  trace_events_.back().byzantine = byzantine;
}

void SimCluster::record_rejected(const net::Delivery& delivery, pbft::Rejection rejection) {
  if (trace_events_.size() >= options_.trace_limit) return;
  record_trace(TraceEvent::Kind::kRejected, delivery.from, delivery.to, decoded(delivery.bytes),
               delivery.sent_at_ns, std::string(pbft::to_string(rejection)));
  trace_events_.back().byzantine = byzantine_in_flight_.count(delivery.bytes.get()) != 0;
}

}  // namespace phalanx::adversary
