#include "connection_gate.h"

#include <algorithm>
#include <cassert>

namespace phalanx::node {

ConnectionGate::ConnectionGate(ConnectionGateOptions options) : options_(options) {
  assert(options_.messages_per_second > 0 && options_.burst >= 1);
  assert(options_.connections_max > 0);
}

ConnectionGate::Verdict ConnectionGate::admit(std::uint64_t connection, std::uint64_t now_ns) {
  Entry& entry = touch(connection, now_ns);
  if (now_ns < entry.muted_until) return Verdict::kMuted;
  refill(entry, now_ns);
  if (entry.tokens < 1) return Verdict::kRateLimited;
  entry.tokens -= 1;
  return Verdict::kAdmit;
}

void ConnectionGate::punish(std::uint64_t connection, std::uint64_t now_ns) {
  Entry& entry = touch(connection, now_ns);
  entry.muted_until = now_ns + static_cast<std::uint64_t>(options_.mute.count());
}

// The entry for `connection`, new ones with a full bucket, moved to the front of the
// recency list; forgets the least recently seen beyond connections_max.
ConnectionGate::Entry& ConnectionGate::touch(std::uint64_t connection, std::uint64_t now_ns) {
  auto found = entries_.find(connection);
  if (found != entries_.end()) {
    recency_.splice(recency_.begin(), recency_, found->second.recency);
    return found->second;
  }
  if (entries_.size() >= options_.connections_max) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(connection);
  Entry& entry = entries_[connection];
  entry.tokens = options_.burst;
  entry.refilled_at = now_ns;
  entry.recency = recency_.begin();
  return entry;
}

void ConnectionGate::refill(Entry& entry, std::uint64_t now_ns) const {
  if (now_ns <= entry.refilled_at) return;  // the clock is monotonic; equal is no time
  double seconds = static_cast<double>(now_ns - entry.refilled_at) / 1e9;
  entry.tokens = std::min(options_.burst, entry.tokens + seconds * options_.messages_per_second);
  entry.refilled_at = now_ns;
}

}  // namespace phalanx::node
