#pragma once
// node::Node: a replica as a running service. It owns the protocol core (pbft::Replica),
// a transport, a clock and a storage, borrows the application, and carries out every
// action batch in the order actions.h prescribes: persist (and sync), then save the
// snapshot, then send, then reply. It fires the core's timers from the monotonic clock.
//
// Group commit: the steps of one transport read (up to receive_batch_max messages) are
// carried out together, with one sync for all their records, and their messages leave
// only after it. A step that produces a snapshot closes the group.
//
// Recovery: before its first step the node loads what its storage holds and recovers
// the core from it (recover(), called by run() if the embedder did not call it first).
// A storage that refuses to load (corruption) is an Error: the node does not start; the
// operator may discard the state and start it with NodeOptions::rejoin.
//
// Embedding: build NodeOptions (usually from a ClusterConfig: see config.h), load the
// replica's key, make a transport (ZmqTransport for real clusters) and call run() on a
// thread of yours, or start() to have the node run its own. stop() may be called from any
// thread; a signal handler should wake a thread that calls it (examples/kv/tools does).
//
// Thread-safety: run() executes on one thread, which is the only one that touches the core
// and the application. metrics(), status() and stop() may be called from any thread.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "phalanx/base/result.h"
#include "phalanx/net/clock.h"
#include "phalanx/net/transport.h"
#include "phalanx/node/metrics.h"
#include "phalanx/pbft/replica.h"
#include "phalanx/storage/storage.h"

namespace spdlog {
class logger;
}

namespace phalanx::node {

class ConnectionGate;

struct NodeOptions {
  pbft::ReplicaId id = 0;
  pbft::Verifier verifier;              // cluster id, replica keys, wire limits (and a cache)
  pbft::ReplicaOptions replica;         // protocol tunables; must match the other replicas'
  std::size_t receive_batch_max = 512;  // messages taken per transport read
  std::chrono::milliseconds idle_wait_max{10};     // longest sleep between timer checks
  std::size_t client_connections_max = 100'000;    // clients whose connection is remembered
  std::chrono::seconds rejection_log_interval{1};  // one log line per reason per interval
  // Per connection, before anything is decoded (node/connection_gate.h): the average rate
  // and burst of messages looked at, and how long a connection that sent a message the
  // edge rejected stays muted. No correct client or replica ever hits either.
  double connection_messages_per_second = 20'000;
  std::chrono::milliseconds misbehaving_connection_mute{1000};
  // The storage holds nothing this replica signed before, but it may have signed things:
  // rejoin without voting until it cannot contradict them (pbft::ReplicaSetup::rejoin).
  bool rejoin = false;
};

class Node {
 public:
  Node(NodeOptions options, crypto::SecretKey key, pbft::Application& application,
       std::unique_ptr<net::Transport> transport, std::unique_ptr<storage::Storage> storage,
       std::shared_ptr<const net::Clock> clock = std::make_shared<net::SteadyClock>(),
       std::shared_ptr<spdlog::logger> logger = nullptr);
  ~Node();  // stops and joins a node started with start()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Loads the durable state and recovers the replica from it (nothing is sent yet: the
  // recovery's messages leave when run() starts). An Error names what cannot be trusted
  // (file and offset for corruption). Call once, before run(), or let run() call it.
  Status recover();
  // Runs on the calling thread until stop(); returns the error that stopped it, if any
  // (recovery failed, or a storage failure: the node never sends what it could not
  // persist).
  Status run();
  void start();
  void stop();
  bool running() const { return running_.load(); }

  const Metrics& metrics() const { return metrics_; }
  pbft::ReplicaStatus status() const;

  // The digest of the application's state (BLAKE2b of its snapshot) and the sequence number
  // it was taken at. Computed on the protocol thread when asked, at most once per
  // `digest_interval`; the first call returns nullopt until one is ready.
  struct StateDigest {
    pbft::Seq seq = 0;
    crypto::Digest digest;
  };
  std::optional<StateDigest> state_digest();
  // JSON with the status and the latest state digest, for /status and tests.
  std::string status_json();

 private:
  void step_inbound(net::Inbound& inbound);
  // Group commit: `actions` joins the group; a snapshot closes it (flush).
  void add_to_group(pbft::Actions actions);
  void flush_group();
  void send_all(const pbft::Actions& actions);
  void deliver_replies(const pbft::Actions& actions);
  void observe(const pbft::Actions& actions);
  void log_event(const pbft::Event& event);
  void log_rejection(pbft::Rejection reason, std::uint64_t connection);
  void remember_client(const crypto::PublicKey& client, std::uint64_t connection);
  void update_gauges();
  void publish_state_digest();
  // Whether the gate lets `inbound` be decoded; counts it when not.
  bool admitted(const net::Inbound& inbound, std::uint64_t at);
  std::uint64_t now() const { return clock_->now_ns(); }

  NodeOptions options_;
  pbft::Application& application_;
  std::unique_ptr<net::Transport> transport_;
  std::unique_ptr<storage::Storage> storage_;
  std::shared_ptr<const net::Clock> clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<pbft::Replica> replica_;  // touched by the run() thread only
  std::vector<pbft::Actions> group_;        // run() thread only: steps not carried out yet
  bool recovered_ = false;                  // run() thread only

  // Clients' connections, for replies (run() thread only). Bounded: oldest forgotten.
  std::map<crypto::PublicKey, std::uint64_t> client_connections_;
  std::deque<crypto::PublicKey> client_order_;
  // Arrival instants of requests, for the latency histogram (run() thread only).
  std::map<crypto::PublicKey, std::pair<pbft::RequestId, std::uint64_t>> arrivals_;
  std::array<std::uint64_t, static_cast<std::size_t>(pbft::Rejection::kCount)>
      rejection_logged_at_{};             // run() thread only
  std::unique_ptr<ConnectionGate> gate_;  // run() thread only

  std::uint64_t transfer_started_at_ = 0;  // run() thread only: the state transfer's start
  std::uint64_t peer_connects_ = 0;        // run() thread only: last logged
  std::uint64_t peer_disconnects_ = 0;     // run() thread only: last logged

  Metrics metrics_;
  mutable std::mutex status_mutex_;
  pbft::ReplicaStatus status_;               // guarded by status_mutex_; refreshed after each step
  std::optional<StateDigest> state_digest_;  // guarded by status_mutex_
  std::atomic<bool> digest_requested_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
  std::optional<Error> error_;  // run() thread only; read after join
  std::thread thread_;
};

}  // namespace phalanx::node
