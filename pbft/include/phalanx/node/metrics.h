#pragma once
// node::Metrics: a replica's counters, gauges and latency histogram, rendered in the
// Prometheus text format (version 0.0.4). Names start with `phalanx_`; rejected messages
// are labelled by reason (pbft::to_string(Rejection)), the same names as in the logs.
// Thread-safety: every field is atomic; render() may run on any thread (the HTTP server's)
// while the protocol thread updates.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "phalanx/pbft/wire.h"

namespace phalanx::node {

// Cumulative histogram with fixed bucket bounds in milliseconds.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 15> kBoundsMs = {0.1, 0.25, 0.5, 1,   2.5,  5,    10,  25,
                                                       50,  100,  250, 500, 1000, 2500, 5000};
  void observe_ns(std::uint64_t nanoseconds);
  void render(std::string& out, const std::string& name, const std::string& help) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, kBoundsMs.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct Metrics {
  using Counter = std::atomic<std::uint64_t>;

  // Counters.
  Counter messages_received{0};
  Counter messages_sent{0};
  Counter bytes_received{0};  // envelope bytes, before any check (requests included)
  Counter bytes_sent{0};      // envelope bytes to peers, once per peer sent to
  Counter requests_received{0};
  Counter requests_executed{0};
  Counter batches_executed{0};
  Counter view_changes_started{0};
  Counter views_entered{0};
  Counter checkpoints_stable{0};
  Counter state_transfers{0};
  Counter evidence{0};
  Counter records_persisted{0};
  Counter storage_syncs{0};  // mirrors the storage's count (StorageStats)
  Counter storage_bytes{0};
  Counter snapshots_saved{0};
  Counter replies_sent{0};
  Counter reply_bytes_sent{0};
  Counter replies_unroutable{0};  // the client's connection is unknown or gone
  Counter dropped_by_core{0};     // valid but useless or out of place (see logs for why)
  std::array<Counter, static_cast<std::size_t>(pbft::Rejection::kCount)> rejected{};
  Counter gated_muted{0};         // dropped unread: the connection sent a rejected message
  Counter gated_rate_limited{0};  // dropped unread: the connection's rate was exceeded

  // Gauges.
  Counter view{0};
  Counter rejoining{0};
  Counter view_changing{0};
  Counter last_executed{0};
  Counter stable_seq{0};
  Counter log_slots{0};
  Counter pending_requests{0};
  Counter client_table_size{0};
  Counter inbound_queue_depth{0};
  Counter outbound_queue_depth{0};
  Counter transport_send_dropped{0};
  Counter transport_receive_dropped{0};

  LatencyHistogram request_latency;  // arrival at this replica -> execution here

  // Valid messages the core dropped, by its reason (a fixed set of phrases in pbft/src/core).
  void count_dropped(std::string_view reason);
  std::uint64_t dropped(std::string_view reason) const;

  std::string render() const;

 private:
  mutable std::mutex dropped_mutex_;
  std::map<std::string, std::uint64_t, std::less<>>
      dropped_by_reason_;  // guarded by dropped_mutex_
};

}  // namespace phalanx::node
