#pragma once
// Clocks for drivers. The protocol core never reads a clock: its driver reads one of these
// and passes the instant in. Timers use monotonic time only. The wall clock serves batch
// times alone (ReplicaOptions::batch_time_skew_max), which the core bounds rather than
// trusts: wall clocks jump and lie, and no agreement depends on two of them agreeing.
// Thread-safety: now() may be called from any thread.

#include <chrono>
#include <cstdint>

namespace phalanx::net {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary origin; never decreases.
  virtual std::uint64_t now_ns() const = 0;
  // Milliseconds since the Unix epoch; may jump either way.
  virtual std::uint64_t wall_ms() const {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }
};

class SteadyClock final : public Clock {
 public:
  std::uint64_t now_ns() const override {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }
};

}  // namespace phalanx::net
