#pragma once
// pbft::Client: the client library. Thread-safe, with many requests in flight.
//
// A request completes when f+1 replicas sent matching replies (then at least one correct
// replica vouches for the result). Each request in flight needs its own client identity
// (replicas keep one last reply per client: see client_core.h), so the client derives
// `identities` keys from its one key file and runs a ClientCore for each; submissions
// beyond that wait in a bounded queue.
//
// Request ids start at the wall clock's microseconds when the Client is made, so that a
// restarted client's ids exceed the ones it used before (replicas ignore ids at or below a
// client's last executed one). This is the only use of the wall clock; a clock set far
// back makes the first requests of a restarted client time out, nothing worse.
//
// Thread-safety: submit() and call() may be called from any number of threads. The
// client's own thread owns the transport and the cores; the destructor stops it and fails
// every unfinished request.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/net/clock.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/client_core.h"

namespace phalanx::pbft {

struct ClientSettings {
  Verifier verifier;
  ClientOptions options;                      // retry timing
  std::size_t identities = 16;                // requests in flight at most
  std::chrono::milliseconds timeout{10'000};  // default per-request deadline
  std::size_t queue_max = 100'000;            // submissions waiting for an identity
};

struct ClientStats {
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t rejected_replies = 0;  // replies that failed the edge checks
  std::uint64_t late_replies = 0;      // for a request no longer outstanding: dropped unchecked
};

class Client {
 public:
  Client(ClientSettings settings, crypto::SecretKey key, std::unique_ptr<net::Transport> transport,
         std::shared_ptr<const net::Clock> clock = std::make_shared<net::SteadyClock>());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The result, or an Error when no f+1 matching replies arrived before the deadline (or
  // the queue was full, or the client is shutting down).
  std::future<Result<Bytes>> submit(Bytes operation,
                                    std::optional<std::chrono::milliseconds> timeout = {});
  // The same, calling `done` with the outcome instead: on the client's thread (keep it
  // short; it may submit() again), or at once on the caller's when the queue is full or the
  // client is stopping. What a closed-loop load generator uses (phalanx-bench).
  using Done = std::function<void(Result<Bytes>)>;
  void submit(Bytes operation, Done done, std::optional<std::chrono::milliseconds> timeout = {});
  Result<Bytes> call(Bytes operation, std::optional<std::chrono::milliseconds> timeout = {});
  ClientStats stats() const;

 private:
  struct Submission {
    Bytes operation;
    std::chrono::milliseconds timeout;
    Done done;
  };
  struct Slot {
    std::unique_ptr<ClientCore> core;
    Done done;  // set while a request of this identity is outstanding
    std::uint64_t deadline_ns = 0;
  };

  void run();
  void start_waiting_submissions();
  void handle(net::Inbound& inbound);
  void carry_out(Slot& slot, ClientActions actions);
  void expire(std::uint64_t now);
  std::uint64_t next_wakeup() const;

  ClientSettings settings_;
  std::unique_ptr<net::Transport> transport_;
  std::shared_ptr<const net::Clock> clock_;
  std::vector<Slot> slots_;                          // client thread only
  std::map<crypto::PublicKey, std::size_t> by_key_;  // client thread only

  mutable std::mutex mutex_;
  std::deque<Submission> waiting_;  // guarded by mutex_
  ClientStats stats_;               // guarded by mutex_
  bool stopping_ = false;           // guarded by mutex_
  std::thread thread_;
};

}  // namespace phalanx::pbft
