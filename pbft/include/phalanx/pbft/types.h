#pragma once
// Small vocabulary types shared by the core, the wire layer and the drivers.

#include <cstdint>

namespace phalanx::pbft {

using ReplicaId = std::uint32_t;  // 0 .. n-1
using View = std::uint64_t;       // primary of view v is replica v mod n
using Seq = std::uint64_t;        // sequence number; 0 is "nothing yet", the first batch is 1
using RequestId = std::uint64_t;  // per client, > 0 and increasing

// Monotonic time as the driver's clock reads it, in nanoseconds since an arbitrary origin.
// The core never reads a clock; it only compares instants it was given.
using Instant = std::uint64_t;
inline constexpr Instant kMillisecond = 1'000'000;
inline constexpr Instant kSecond = 1'000 * kMillisecond;

// Wall-clock time in milliseconds since the Unix epoch. Only batch times use it (a time
// the primary proposes and the backups bound by their own clocks: ReplicaOptions::
// batch_time_skew_max); no agreement depends on two wall clocks agreeing.
using UnixMillis = std::uint64_t;

// Cluster arithmetic (PBFT section 4.1): n = 3f + 1.
struct Quorums {
  std::uint32_t n;
  std::uint32_t f() const { return (n - 1) / 3; }
  std::uint32_t quorum() const { return 2 * f() + 1; }  // certificates, stable checkpoints
  std::uint32_t weak() const { return f() + 1; }        // at least one correct replica
  ReplicaId primary(View view) const { return static_cast<ReplicaId>(view % n); }
};

}  // namespace phalanx::pbft
