#pragma once
// Clocks for drivers. The protocol core never reads a clock: its driver reads one of these
// and passes the instant in. Only monotonic time is offered: wall clocks may jump and no
// decision of Phalanx depends on them.
// Thread-safety: now() may be called from any thread.

#include <chrono>
#include <cstdint>

namespace phalanx::net {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since an arbitrary origin; never decreases.
  virtual std::uint64_t now_ns() const = 0;
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
