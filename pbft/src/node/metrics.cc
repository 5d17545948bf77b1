#include "phalanx/node/metrics.h"

#include <cstdio>

namespace phalanx::node {

void LatencyHistogram::observe_ns(std::uint64_t nanoseconds) {
  double milliseconds = static_cast<double>(nanoseconds) / 1e6;
  std::size_t bucket = 0;
  while (bucket < kBoundsMs.size() && milliseconds > kBoundsMs[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(nanoseconds, std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, const std::string& name,
                              const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  char line[160];
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < kBoundsMs.size())
      std::snprintf(line, sizeof line, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(),
                    kBoundsMs[i] / 1000.0, static_cast<unsigned long long>(cumulative));
    else
      std::snprintf(line, sizeof line, "%s_bucket{le=\"+Inf\"} %llu\n", name.c_str(),
                    static_cast<unsigned long long>(cumulative));
    out += line;
  }
  std::snprintf(line, sizeof line, "%s_sum %.9f\n%s_count %llu\n", name.c_str(),
                static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9, name.c_str(),
                static_cast<unsigned long long>(count_.load(std::memory_order_relaxed)));
  out += line;
}

namespace {
void metric(std::string& out, const char* type, const char* name, const char* help,
            const std::atomic<std::uint64_t>& value) {
  out += std::string("# HELP phalanx_") + name + " " + help + "\n# TYPE phalanx_" + name + " " +
         type + "\nphalanx_" + name + " " + std::to_string(value.load(std::memory_order_relaxed)) +
         "\n";
}
}  // namespace

void Metrics::count_dropped(std::string_view reason) {
  std::lock_guard lock(dropped_mutex_);
  auto found = dropped_by_reason_.find(reason);
  if (found == dropped_by_reason_.end()) found = dropped_by_reason_.emplace(reason, 0).first;
  ++found->second;
}

std::uint64_t Metrics::dropped(std::string_view reason) const {
  std::lock_guard lock(dropped_mutex_);
  auto found = dropped_by_reason_.find(reason);
  return found == dropped_by_reason_.end() ? 0 : found->second;
}

std::string Metrics::render() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, const Counter& value) {
    metric(out, "counter", name, help, value);
  };
  auto gauge = [&](const char* name, const char* help, const Counter& value) {
    metric(out, "gauge", name, help, value);
  };
  counter("messages_received_total", "Messages received from the transport.", messages_received);
  counter("messages_sent_total", "Messages handed to the transport.", messages_sent);
  counter("bytes_received_total", "Envelope bytes received from the transport.", bytes_received);
  counter("bytes_sent_total", "Envelope bytes handed to the transport for peers (per peer).",
          bytes_sent);
  counter("requests_received_total", "Client requests received (direct or relayed).",
          requests_received);
  counter("requests_executed_total", "Client requests executed.", requests_executed);
  counter("batches_executed_total", "Batches executed (sequence numbers).", batches_executed);
  counter("view_changes_started_total", "View changes this replica started.", view_changes_started);
  counter("views_entered_total", "New views entered.", views_entered);
  counter("checkpoints_stable_total", "Checkpoints that became stable.", checkpoints_stable);
  counter("state_transfers_total", "State transfers completed.", state_transfers);
  counter("evidence_total", "Proofs of equivocation by other replicas.", evidence);
  counter("records_persisted_total", "Records made durable (signed messages, certificates).",
          records_persisted);
  counter("storage_syncs_total", "Data syncs (fdatasync) by the storage; one per group commit.",
          storage_syncs);
  counter("storage_bytes_total", "Bytes appended to the durable log.", storage_bytes);
  counter("snapshots_saved_total", "Stable checkpoint states saved as snapshots.", snapshots_saved);
  counter("replies_sent_total", "Replies sent to clients.", replies_sent);
  counter("reply_bytes_sent_total", "Envelope bytes of replies sent to clients.", reply_bytes_sent);
  counter("replies_unroutable_total", "Replies for clients with no known connection.",
          replies_unroutable);
  counter("dropped_by_core_total", "Valid messages the protocol had no use for.", dropped_by_core);
  out +=
      "# HELP phalanx_rejected_messages_total Received messages rejected at the edge.\n"
      "# TYPE phalanx_rejected_messages_total counter\n";
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    out += "phalanx_rejected_messages_total{reason=\"" +
           std::string(pbft::to_string(static_cast<pbft::Rejection>(i))) + "\"} " +
           std::to_string(rejected[i].load(std::memory_order_relaxed)) + "\n";
  }
  out +=
      "# HELP phalanx_gated_messages_total Received messages dropped unread because of the "
      "connection they came over.\n# TYPE phalanx_gated_messages_total counter\n"
      "phalanx_gated_messages_total{reason=\"muted\"} " +
      std::to_string(gated_muted.load(std::memory_order_relaxed)) +
      "\nphalanx_gated_messages_total{reason=\"rate_limited\"} " +
      std::to_string(gated_rate_limited.load(std::memory_order_relaxed)) + "\n";
  {
    std::lock_guard lock(dropped_mutex_);
    out +=
        "# HELP phalanx_dropped_by_reason_total Valid messages the protocol had no use for, "
        "by reason.\n# TYPE phalanx_dropped_by_reason_total counter\n";
    for (const auto& [reason, count] : dropped_by_reason_)
      out += "phalanx_dropped_by_reason_total{reason=\"" + reason + "\"} " + std::to_string(count) +
             "\n";
  }
  gauge("view", "Current view.", view);
  gauge("rejoining", "1 while this replica rejoins without durable state and does not vote.",
        rejoining);
  gauge("view_changing", "1 while a view change is under way.", view_changing);
  gauge("last_executed", "Last executed sequence number.", last_executed);
  gauge("stable_checkpoint", "Sequence number of the stable checkpoint.", stable_seq);
  gauge("log_slots", "Sequence numbers with protocol state in memory.", log_slots);
  gauge("pending_requests", "Requests waiting to be ordered or executed.", pending_requests);
  gauge("client_table_size", "Clients whose last reply is kept.", client_table_size);
  gauge("inbound_queue_depth", "Messages waiting in the transport's inbound queue.",
        inbound_queue_depth);
  gauge("outbound_queue_depth", "Messages waiting in the transport's outbound queue.",
        outbound_queue_depth);
  gauge("transport_send_dropped", "Messages the transport dropped on send (peer queue full).",
        transport_send_dropped);
  gauge("transport_receive_dropped", "Messages the transport dropped on receive (queue full).",
        transport_receive_dropped);
  request_latency.render(out, "phalanx_request_latency_seconds",
                         "From a request's arrival at this replica to its execution here.");
  return out;
}

}  // namespace phalanx::node
