#pragma once
// net::FaultInjectingTransport: a decorator that makes a real transport behave like a bad
// network (delay, jitter, loss, duplication) for tests with real processes, where the
// kernel offers no netem. It wraps any net::Transport and changes nothing else.
//
// What it does to a message it applies to (see FaultInjection for which ones):
// - loses it with probability `loss_probability` (the sender is not told: send returns
//   true, as a real network would);
// - otherwise sends it once more with probability `duplicate_probability`;
// - holds each copy for `delay_us` plus a uniform extra in [0, `jitter_us`], drawn per
//   copy, so jitter reorders messages (wanted: the protocol must not rely on order).
// Held copies wait under one bound (messages and bytes) shared by both directions; past it
// a copy is dropped and counted (overflowed), and send returns false for it as for any
// full queue.
// Outbound copies are released by a timer thread of this transport; inbound ones by
// receive(), which never waits past the moment the next one is due.
//
// Every decision comes from net::Rng streams derived from (seed, stream): given the seed
// and the order in which messages pass, a run's faults are the same every time. Loss,
// duplication and delay draw from separate streams, so that changing one setting does not
// change which messages the others pick.
//
// Thread-safety: as net::Transport (any method from any thread). Decisions and the queue
// are under one mutex; the inner transport is called without holding it. Destruction
// stops the timer thread and drops what is still held.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/net/rng.h"
#include "phalanx/net/transport.h"

namespace phalanx::net {

// Which faults to inject, and where. All zero: the transport passes everything through.
struct FaultInjection {
  // A message held longer than this is as good as lost; the bound keeps specs sane.
  static constexpr std::uint64_t kDelayUsMax = 60'000'000;  // 60 s, delay + jitter
  static constexpr std::size_t kHeldMaxDefault = 10'000;
  static constexpr std::size_t kHeldBytesMaxDefault = std::size_t{256} << 20;

  std::uint64_t delay_us = 0;
  std::uint64_t jitter_us = 0;  // uniform extra delay in [0, jitter_us]
  double loss_probability = 0;
  double duplicate_probability = 0;  // a message is sent at most twice
  std::uint64_t seed = 1;
  // Replica-to-replica messages (send_to_node) are always subject; these add the others.
  bool clients = false;  // replies to clients (send_to_connection), and with `inbound`
                         // what clients send
  bool inbound = false;  // what arrives (from replicas; from clients too with `clients`)
  std::size_t held_max = kHeldMaxDefault;             // copies waiting out their delay
  std::size_t held_bytes_max = kHeldBytesMaxDefault;  // their bytes (shared ones counted per copy)

  // True when some message may be lost, duplicated or delayed.
  bool active() const {
    return delay_us > 0 || jitter_us > 0 || loss_probability > 0 || duplicate_probability > 0;
  }
};

// Checks the ranges: probabilities in [0, 1], delay + jitter at most kDelayUsMax, queue
// bounds above 0.
Status validate(const FaultInjection& faults);

// Parses a command-line spec: comma-separated key=value pairs, each key at most once,
//   delay=5ms,jitter=10ms,loss=0.05,dup=0.01,seed=7,clients=off,inbound=on,queue=1000
// delay and jitter: a number with the unit us, ms or s ("1.5ms"; a bare 0 is allowed);
// loss and dup: probabilities in [0, 1]; seed: an unsigned integer; clients and inbound:
// on or off; queue: held copies (held_max), queue_bytes: their bytes. Unnamed keys keep
// the defaults. "none" is the spec of no faults. An Error names the pair that is wrong.
Result<FaultInjection> parse_fault_injection(std::string_view spec);

// One line for a log: what is injected, where, and the seed.
std::string describe(const FaultInjection& faults);

// What the transport did to the messages it applied to.
struct FaultStats {
  std::uint64_t lost = 0;        // dropped by loss_probability
  std::uint64_t duplicated = 0;  // extra copies made
  std::uint64_t delayed = 0;     // copies held for a delay (outbound and inbound)
  std::uint64_t overflowed = 0;  // copies dropped because the held queue was full
  std::uint64_t held = 0;        // copies held now
  std::uint64_t held_bytes = 0;
};

class FaultInjectingTransport final : public Transport {
 public:
  // `stream` picks this transport's streams of the seed: a replica passes its id, so that
  // replicas started with one spec do not all lose the same messages. Precondition:
  // validate(faults) is ok.
  FaultInjectingTransport(std::unique_ptr<Transport> inner, FaultInjection faults,
                          std::uint64_t stream = 0);
  ~FaultInjectingTransport() override;
  FaultInjectingTransport(const FaultInjectingTransport&) = delete;
  FaultInjectingTransport& operator=(const FaultInjectingTransport&) = delete;

  bool send_to_node(NodeId to, SharedBytes bytes) override;
  bool send_to_connection(std::uint64_t connection, SharedBytes bytes) override;
  // May return early with nothing when what arrived was lost or held.
  std::size_t receive(std::vector<Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override;
  TransportStats stats() const override { return inner_->stats(); }
  void wake() override { inner_->wake(); }

  const FaultInjection& faults() const { return faults_; }
  FaultStats fault_stats() const;

 private:
  using Instant = std::chrono::steady_clock::time_point;

  // Where a held copy goes when its delay is over.
  enum class Route { kNode, kConnection, kInbound };
  struct Held {
    Instant due;
    std::uint64_t order = 0;  // ties at one instant leave in the order they came
    Route route = Route::kNode;
    std::uint64_t target = 0;  // node id or connection id (outbound)
    SharedBytes bytes;         // outbound
    Inbound inbound;           // Route::kInbound
    bool operator>(const Held& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };
  // What happens to one message: how many copies, and the delay of each.
  struct Fate {
    int copies = 0;  // 0 (lost), 1 or 2
    std::chrono::microseconds delays[2] = {};
  };

  Fate decide();                                // requires mutex_
  bool hold(Held held, std::size_t bytes);      // requires mutex_; false (counted) when full
  Held take_earliest(std::vector<Held>& heap);  // requires mutex_
  bool send_outbound(Route route, std::uint64_t target, SharedBytes bytes);
  bool forward(Route route, std::uint64_t target, SharedBytes bytes);
  void release_due_outbound();  // the timer thread's loop
  // Both require mutex_; `limit` is the size `out` may grow to.
  void take_due_inbound(std::vector<Inbound>& out, std::size_t limit);
  void receive_one(Inbound inbound, std::vector<Inbound>& out, std::size_t limit);

  std::unique_ptr<Transport> inner_;
  const FaultInjection faults_;

  mutable std::mutex mutex_;
  std::condition_variable outbound_changed_;  // an earlier outbound copy, or stopping
  Rng loss_rng_;                              // guarded by mutex_
  Rng duplicate_rng_;                         // guarded by mutex_
  Rng delay_rng_;                             // guarded by mutex_
  // Min-heaps on (due, order) (std::push_heap with std::greater), guarded by mutex_.
  std::vector<Held> outbound_;
  std::vector<Held> inbound_;
  std::uint64_t next_order_ = 0;  // guarded by mutex_
  FaultStats stats_;              // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  std::thread timer_;             // last: starts once everything above is ready
};

}  // namespace phalanx::net
