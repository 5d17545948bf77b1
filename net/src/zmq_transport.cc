#include "phalanx/net/zmq_transport.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "phalanx/base/assert.h"
#include "zmq_io.h"
#include "zmq_queues.h"

namespace phalanx::net {
namespace {

// libzmq keeps heartbeat_ttl in deciseconds in 16 bits.
constexpr int kHeartbeatTimeoutMsMax = 6'553'500;

void check_peers(const ZmqTransportOptions& options, std::vector<std::string>& problems) {
  std::set<NodeId> seen;
  for (const ZmqPeer& peer : options.peers) {
    const std::string name = "peer " + std::to_string(peer.id);
    if (!seen.insert(peer.id).second) problems.push_back(name + " is listed twice");
    if (options.self && peer.id == *options.self)
      problems.push_back(name + " is this node itself (self is sent to by loopback)");
    if (peer.endpoint.empty()) problems.push_back(name + " has no endpoint");
    if (options.curve && !peer.curve_public)
      problems.push_back(name + " has no curve_public key and curve is on");
  }
}

void check_limits(const ZmqTransportOptions& options, std::vector<std::string>& problems) {
  auto require = [&](bool holds, const char* problem) {
    if (!holds) problems.emplace_back(problem);
  };
  // A ZeroMQ high-water mark of 0 means "no limit"; we always want one.
  require(options.send_hwm_messages > 0, "send_hwm_messages must be > 0");
  require(options.receive_hwm_messages > 0, "receive_hwm_messages must be > 0");
  require(options.message_bytes_max > 0, "message_bytes_max must be > 0");
  require(options.message_bytes_max <= options.inbound_queue_bytes_max,
          "message_bytes_max must fit in inbound_queue_bytes_max");
  require(options.message_bytes_max <= options.outbound_queue_bytes_max,
          "message_bytes_max must fit in outbound_queue_bytes_max");
  require(options.inbound_queue_max > 0, "inbound_queue_max must be > 0");
  require(options.outbound_queue_max > 0, "outbound_queue_max must be > 0");
  require(options.connections_max > 0, "connections_max must be > 0");
  require(options.reconnect_interval_ms > 0, "reconnect_interval_ms must be > 0");
  require(options.reconnect_interval_ms_max >= options.reconnect_interval_ms,
          "reconnect_interval_ms_max must be >= reconnect_interval_ms");
  require(options.heartbeat_interval_ms >= 0, "heartbeat_interval_ms must be >= 0");
  require(options.heartbeat_interval_ms == 0 ||
              (options.heartbeat_timeout_ms > options.heartbeat_interval_ms &&
               options.heartbeat_timeout_ms <= kHeartbeatTimeoutMsMax),
          "heartbeat_timeout_ms must be above heartbeat_interval_ms and <= 6553500");
}

std::optional<Error> check_options(const ZmqTransportOptions& options) {
  std::vector<std::string> problems;
  if (options.self && options.bind_endpoint.empty())
    problems.emplace_back("a node with an id (self) needs a bind_endpoint");
  check_peers(options, problems);
  check_limits(options, problems);
  if (problems.empty()) return std::nullopt;
  std::string message = "ZmqTransportOptions:";
  for (const std::string& problem : problems) message += " " + problem + ";";
  message.pop_back();
  return Error{message};
}

std::unordered_set<NodeId> peer_ids(const ZmqTransportOptions& options) {
  std::unordered_set<NodeId> ids;
  for (const ZmqPeer& peer : options.peers) ids.insert(peer.id);
  return ids;
}

}  // namespace

class ZmqTransport::Impl {
 public:
  // Starts the I/O thread, which takes over the sockets of `io` (unless the options ask
  // for none: then receive() drives them).
  Impl(const ZmqTransportOptions& options, std::unique_ptr<TransportQueues> queues,
       std::unique_ptr<ZmqIo> io)
      : self_(options.self),
        has_router_(!options.bind_endpoint.empty()),
        message_bytes_max_(options.message_bytes_max),
        io_thread_(options.io_thread),
        peers_(peer_ids(options)),
        queues_(std::move(queues)),
        io_(std::move(io)) {
    if (io_thread_) thread_ = std::thread([io = io_.get()] { io->run(); });
  }

  ~Impl() {
    queues_->stop();
    if (thread_.joinable()) thread_.join();
    io_.reset();  // closes the sockets before the queues they count into go
  }

  bool send_to_node(NodeId to, SharedBytes bytes);
  bool send_to_connection(std::uint64_t connection, SharedBytes bytes);
  std::size_t receive(std::vector<Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) {
    if (io_thread_) return queues_->receive(out, max, timeout);
    return receive_driving(out, max, timeout);
  }
  void wake() {
    queues_->wake_receiver();
    if (!io_thread_) queues_->wake_io();  // the caller of receive() waits in ZmqIo::turn
  }
  ZmqTransportStats stats() const;
  const std::string& bound_endpoint() const { return io_->bound_endpoint(); }

 private:
  bool drop() {
    count(queues_->counters.send_dropped);
    return false;
  }
  bool oversized(const SharedBytes& bytes) {
    if (bytes->size() <= message_bytes_max_) return false;
    // Every receiver refuses it (and cuts the link, losing what follows): do not send it.
    count(queues_->counters.send_oversized);
    return true;
  }
  bool loop_back(SharedBytes bytes);
  std::size_t receive_driving(std::vector<Inbound>& out, std::size_t max,
                              std::chrono::milliseconds timeout);

  // Immutable after construction, read by any thread.
  const std::optional<NodeId> self_;
  const bool has_router_;
  const std::size_t message_bytes_max_;
  const bool io_thread_;
  const std::unordered_set<NodeId> peers_;
  // Thread-safe; outlives io_ and the thread.
  std::unique_ptr<TransportQueues> queues_;
  std::unique_ptr<ZmqIo> io_;  // its sockets belong to thread_ while it runs
  std::thread thread_;
  std::mutex driving_;  // without an I/O thread: one caller of receive() at a time drives io_
};

// Without an I/O thread, the caller's receive() is the I/O loop: each turn sends what was
// queued and then waits in poll(2) (on the sockets and the wake eventfd) rather than on the
// inbound queue, so what the caller queued since its last receive() leaves at once. It does
// not wait when messages a previous receive() had no room for are waiting already.
std::size_t ZmqTransport::Impl::receive_driving(std::vector<Inbound>& out, std::size_t max,
                                                std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  if (max == 0) return 0;
  std::lock_guard lock(driving_);
  const Clock::time_point until = Clock::now() + timeout;
  long wait_ms = queues_->inbound_depth() > 0 ? 0 : std::max<long>(0, timeout.count());
  while (true) {
    const TransportQueues::Take take = io_->turn(wait_ms);
    bool woken = false;
    const std::size_t moved = queues_->take_inbound(out, max, woken);
    if (moved > 0 || woken || take == TransportQueues::Take::kStopped) return moved;
    const Clock::time_point now = Clock::now();
    if (now >= until) return 0;
    wait_ms = static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
  }
}

bool ZmqTransport::Impl::send_to_node(NodeId to, SharedBytes bytes) {
  PHALANX_ASSERT(bytes != nullptr, "send_to_node of a null message");
  if (oversized(bytes)) return drop();
  if (self_ && to == *self_) return loop_back(std::move(bytes));
  if (!peers_.contains(to)) return drop();
  return queues_->push_outbound(Outgoing{Outgoing::Kind::kNode, to, std::move(bytes)});
}

bool ZmqTransport::Impl::send_to_connection(std::uint64_t connection, SharedBytes bytes) {
  PHALANX_ASSERT(bytes != nullptr, "send_to_connection of a null message");
  if ((connection & kPeerConnectionBit) != 0) {
    const std::uint64_t node = connection & ~kPeerConnectionBit;
    if (node > std::numeric_limits<NodeId>::max()) return drop();
    return send_to_node(static_cast<NodeId>(node), std::move(bytes));
  }
  if (oversized(bytes)) return drop();
  if (connection == 0 || !has_router_) return drop();
  return queues_->push_outbound(
      Outgoing{Outgoing::Kind::kConnection, connection, std::move(bytes)});
}

bool ZmqTransport::Impl::loop_back(SharedBytes bytes) {
  count(queues_->counters.sent);
  std::vector<Inbound> batch;
  batch.push_back(Inbound{peer_connection(*self_), *bytes, self_});
  const bool delivered = queues_->deliver(batch) == 1;
  // Without an I/O thread the receiver waits in ZmqIo::turn, not on the inbound queue.
  if (!io_thread_) queues_->wake_io();
  return delivered;
}

ZmqTransportStats ZmqTransport::Impl::stats() const {
  const TransportCounters& c = queues_->counters;
  auto read = [](const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  ZmqTransportStats stats;
  stats.sent = read(c.sent);
  stats.zmq_messages_sent = read(c.zmq_messages_sent);
  stats.send_dropped = read(c.send_dropped);
  stats.received = read(c.received);
  stats.receive_dropped = read(c.receive_dropped);
  stats.inbound_queue_depth = queues_->inbound_depth();
  stats.outbound_queue_depth = queues_->outbound_depth();
  stats.connections = read(c.connections);
  stats.peer_connects = read(c.peer_connects);
  stats.peer_disconnects = read(c.peer_disconnects);
  stats.send_oversized = read(c.send_oversized);
  stats.receive_malformed = read(c.receive_malformed);
  stats.handshake_failures = read(c.handshake_failures);
  stats.inbound_disconnects = read(c.inbound_disconnects);
  return stats;
}

ZmqCurveKeys ZmqCurveKeys::from_secret_key(const crypto::SecretKey& key) {
  std::optional<crypto::CurvePublic> public_key = crypto::curve_public_key(key.public_key());
  PHALANX_ASSERT(public_key.has_value(), "the public half of a secret key is a valid point");
  return ZmqCurveKeys{crypto::curve_secret_key(key), *public_key};
}

Result<std::unique_ptr<ZmqTransport>> ZmqTransport::create(ZmqTransportOptions options) {
  if (std::optional<Error> error = check_options(options)) return *error;
  const QueueLimits limits{options.inbound_queue_max, options.inbound_queue_bytes_max,
                           options.outbound_queue_max, options.outbound_queue_bytes_max};
  Result<std::unique_ptr<TransportQueues>> queues = TransportQueues::create(limits);
  if (!queues) return queues.error();
  Result<std::unique_ptr<ZmqIo>> io = ZmqIo::open(options, *queues.value());
  if (!io) return io.error();
  auto impl = std::make_unique<Impl>(options, std::move(queues).value(), std::move(io).value());
  return std::unique_ptr<ZmqTransport>(new ZmqTransport(std::move(impl)));
}

ZmqTransport::ZmqTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZmqTransport::~ZmqTransport() = default;

bool ZmqTransport::send_to_node(NodeId to, SharedBytes bytes) {
  return impl_->send_to_node(to, std::move(bytes));
}
bool ZmqTransport::send_to_connection(std::uint64_t connection, SharedBytes bytes) {
  return impl_->send_to_connection(connection, std::move(bytes));
}
std::size_t ZmqTransport::receive(std::vector<Inbound>& out, std::size_t max,
                                  std::chrono::milliseconds timeout) {
  return impl_->receive(out, max, timeout);
}
void ZmqTransport::wake() {
  impl_->wake();
}
TransportStats ZmqTransport::stats() const {
  return impl_->stats();
}
ZmqTransportStats ZmqTransport::zmq_stats() const {
  return impl_->stats();
}
const std::string& ZmqTransport::bound_endpoint() const {
  return impl_->bound_endpoint();
}

}  // namespace phalanx::net
