#pragma once
// Closed-loop clients: `clients` pbft::Client objects (each with its own transport and
// thread) keep a set number of requests in flight, submitting a new one as each
// completes; completions inside a measurement window have their latency recorded.
//
// Thread-safety: one thread calls the methods; completions arrive on the clients' threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "bench_options.h"
#include "phalanx/base/result.h"
#include "phalanx/node/client.h"

namespace phalanx::bench {

struct WindowResult {
  double seconds = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  std::vector<std::uint32_t> latencies_us;  // of the completed, in no order
};

class ClosedLoop {
 public:
  // Makes the clients, with identities for the largest `outstanding` of the options.
  static Result<std::unique_ptr<ClosedLoop>> create(const BenchOptions& options);
  ~ClosedLoop();

  // Keeps `outstanding` requests in flight from now on (spread over the clients).
  void set_outstanding(std::size_t outstanding);
  void begin_window();
  WindowResult end_window();
  // Stops submitting and waits (up to `wait`) for what is in flight.
  void drain(std::chrono::milliseconds wait);

 private:
  struct Loop {
    std::unique_ptr<pbft::Client> client;
    std::size_t index = 0;
    std::atomic<std::size_t> target{0};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::uint64_t> next_operation{0};
    std::mutex mutex;  // guards the window's figures below
    std::vector<std::uint32_t> latencies_us;
    std::uint64_t completed = 0;
    std::uint64_t failed = 0;
  };

  explicit ClosedLoop(const BenchOptions& options) : options_(options) {}
  void top_up(Loop& loop);
  void submit_one(Loop& loop);
  Bytes operation(Loop& loop);

  BenchOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<bool> recording_{false};
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point window_start_;
};

}  // namespace phalanx::bench
