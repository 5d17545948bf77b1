#pragma once
// TransportQueues: what passes between the callers of ZmqTransport and its I/O thread.
// - outbound: callers push, the I/O thread takes; bounded in messages and bytes; a push
//   that fills it from empty wakes the I/O thread through an eventfd it polls next to its
//   sockets (ZeroMQ sockets cannot be touched from the callers' threads);
// - inbound: the I/O thread delivers, receive() takes; bounded in messages and bytes;
// - counters that both sides add to.
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/net/transport.h"
#include "phalanx/net/zmq_transport.h"

namespace phalanx::net {

struct Outgoing {
  enum class Kind : std::uint8_t { kNode, kConnection };
  Kind kind = Kind::kNode;
  std::uint64_t target = 0;  // a node id (kNode) or a ROUTER connection id (kConnection)
  SharedBytes bytes;
};

struct QueueLimits {
  std::size_t inbound_max = 0;
  std::size_t inbound_bytes_max = 0;
  std::size_t outbound_max = 0;
  std::size_t outbound_bytes_max = 0;
};

// Each counter is read on its own (stats()), so relaxed order is enough.
struct TransportCounters {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> zmq_messages_sent{0};  // a bundle counts once (zmq_frames.h)
  std::atomic<std::uint64_t> send_dropped{0};
  std::atomic<std::uint64_t> send_oversized{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> receive_dropped{0};
  std::atomic<std::uint64_t> receive_malformed{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> peer_connects{0};
  std::atomic<std::uint64_t> peer_disconnects{0};
  std::atomic<std::uint64_t> handshake_failures{0};
  std::atomic<std::uint64_t> inbound_disconnects{0};
};

inline void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

class TransportQueues {
 public:
  enum class Take : std::uint8_t { kStopped, kDrained, kMore };

  // Fails only when the system refuses an eventfd (out of file descriptors).
  static Result<std::unique_ptr<TransportQueues>> create(const QueueLimits& limits);
  ~TransportQueues();
  TransportQueues(const TransportQueues&) = delete;
  TransportQueues& operator=(const TransportQueues&) = delete;

  // False (and counted as send_dropped) when full or stopped.
  bool push_outbound(Outgoing message);
  // Moves up to `max` messages into `out`. kMore: some are left (the I/O thread must not
  // wait for a wake-up); kStopped: stop() was called, the I/O thread must return.
  Take take_outbound(std::vector<Outgoing>& out, std::size_t max);
  void stop();
  int wake_fd() const { return wake_fd_; }
  void clear_wake();

  // Appends what fits, drops (and counts) the rest, empties `batch`; returns how many fit.
  std::size_t deliver(std::vector<Inbound>& batch);
  std::size_t receive(std::vector<Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout);
  // Takes up to `max` waiting messages without waiting; `woken` tells whether
  // wake_receiver() was called since the last receive (and clears it).
  std::size_t take_inbound(std::vector<Inbound>& out, std::size_t max, bool& woken);
  // Makes a waiting receive(), or the next one, return at once (Transport::wake).
  void wake_receiver();
  // Makes the I/O loop's wait (ZmqIo::turn) return at once.
  void wake_io() { signal_wake(); }

  std::size_t inbound_depth() const;
  std::size_t outbound_depth() const;

  TransportCounters counters;

 private:
  TransportQueues(const QueueLimits& limits, int wake_fd);
  void signal_wake();

  const QueueLimits limits_;
  const int wake_fd_;  // eventfd; written by pushers, read by the I/O thread

  mutable std::mutex outbound_mutex_;  // guards outbound_, outbound_bytes_, wake_pending_, stopped_
  std::deque<Outgoing> outbound_;
  std::size_t outbound_bytes_ = 0;
  // True from a push into an empty queue until the I/O thread drains it: later pushes need
  // not write the eventfd again.
  bool wake_pending_ = false;
  bool stopped_ = false;

  mutable std::mutex inbound_mutex_;  // guards inbound_, inbound_bytes_
  std::condition_variable inbound_ready_;
  std::deque<Inbound> inbound_;
  std::size_t inbound_bytes_ = 0;
  bool receiver_woken_ = false;  // guarded by inbound_mutex_
};

}  // namespace phalanx::net
