#pragma once
// node::ConnectionGate: whether a message may cost the replica any work, decided from the
// connection it came over, before it is decoded or its signature checked. Two rules:
//
// - Muting. A connection that sent a message the edge rejected (malformed, bad signature,
//   over a limit, ...) is muted for `mute`: what else arrives on it is dropped unread. No
//   correct client or replica ever sends such a message, since the edge's checks are the
//   same at every replica and need no state, so only a faulty sender loses anything. A
//   flood of junk or forged signatures then costs one check per mute period and
//   connection; the flooder must reconnect (a new CurveZMQ handshake) to get another.
// - A token bucket per connection: at most `messages_per_second` on average, bursts of
//   `burst`. One link cannot take the decode and verify work the others need.
//
// Bounded: at most `connections_max` connections are remembered; the one seen least
// recently is forgotten (it starts afresh, unmuted, if it comes back).
//
// Deterministic: time comes in as an argument. Not thread-safe (the node's run() thread
// owns it).
#include <chrono>
#include <cstdint>
#include <list>
#include <unordered_map>

namespace phalanx::node {

struct ConnectionGateOptions {
  double messages_per_second = 20'000;
  double burst = 20'000;
  std::chrono::nanoseconds mute = std::chrono::seconds(1);
  std::size_t connections_max = 100'000;
};

class ConnectionGate {
 public:
  enum class Verdict { kAdmit, kMuted, kRateLimited };

  explicit ConnectionGate(ConnectionGateOptions options);

  // Whether a message that arrived over `connection` at `now_ns` may be looked at. Takes a
  // token when it may.
  Verdict admit(std::uint64_t connection, std::uint64_t now_ns);
  // `connection` sent a message the edge rejected: mute it until now + mute.
  void punish(std::uint64_t connection, std::uint64_t now_ns);

  std::size_t connections() const { return entries_.size(); }

 private:
  struct Entry {
    double tokens = 0;
    std::uint64_t refilled_at = 0;
    std::uint64_t muted_until = 0;
    std::list<std::uint64_t>::iterator recency;  // position in recency_
  };

  Entry& touch(std::uint64_t connection, std::uint64_t now_ns);
  void refill(Entry& entry, std::uint64_t now_ns) const;

  ConnectionGateOptions options_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::list<std::uint64_t> recency_;  // most recently seen first
};

}  // namespace phalanx::node
