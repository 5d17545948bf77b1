#include "zmq_io.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "phalanx/base/assert.h"

namespace phalanx::net {
namespace {

// Per turn of the loop. Bounded so that a flood on one socket, or a long outbound queue,
// cannot keep the loop from the others for long.
constexpr std::size_t kSendBatch = 1024;
constexpr std::size_t kReadBatch = 256;

constexpr int kMonitoredEvents =
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

void set_common_options(zmq::socket_t& socket, const ZmqTransportOptions& options) {
  socket.set(zmq::sockopt::linger, 0);  // closing never waits on a dead peer
  // Refused by libzmq from the frame header, before the frame is allocated.
  socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(options.message_bytes_max));
  socket.set(zmq::sockopt::sndhwm, options.send_hwm_messages);
  socket.set(zmq::sockopt::rcvhwm, options.receive_hwm_messages);
  if (options.heartbeat_interval_ms > 0) {
    socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
    socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
    // Asks the other end to cut the link too when our heartbeats stop.
    socket.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_timeout_ms);
  }
}

void release_shared(void* /*data*/, void* hint) {
  delete static_cast<SharedBytes*>(hint);
}

// Zero-copy: libzmq reads the caller's buffer in place and lets go of it once written, so a
// message sent to n peers is held once, not n times. libzmq may let go on its own thread;
// the shared count is atomic.
zmq::message_t sharing(const SharedBytes& bytes) {
  auto* hold = new SharedBytes(bytes);
  return zmq::message_t(const_cast<char*>((*hold)->data()), (*hold)->size(), &release_shared, hold);
}

// Reads one whole message without waiting and keeps its first `kept` frames. Returns how
// many frames it had; 0 when none was waiting. libzmq hands over a message only once all its
// frames are in, so the frames after the first never have to be waited for.
std::size_t receive_message(zmq::socket_t& socket, zmq::message_t* frames, std::size_t kept) {
  std::size_t total = 0;
  zmq::message_t spare;
  while (true) {
    zmq::message_t& frame = total < kept ? frames[total] : spare;
    if (zmq_msg_recv(frame.handle(), socket.handle(), ZMQ_DONTWAIT) < 0) return total;
    ++total;
    if (!frame.more()) return total;
  }
}

}  // namespace

ZmqIo::ZmqIo(const ZmqTransportOptions& options, TransportQueues& queues)
    : queues_(queues),
      // A replica introduces itself in every message rather than once per connection:
      // libzmq reconnects by itself, without telling the sender in time to do it first.
      single_header_(header_frame(options.self, false)),
      bundle_header_(header_frame(options.self, true)),
      router_bundle_header_(header_frame(std::nullopt, true)),
      connections_(options.connections_max) {}

ZmqIo::~ZmqIo() = default;

Result<std::unique_ptr<ZmqIo>> ZmqIo::open(const ZmqTransportOptions& options,
                                           TransportQueues& queues) {
  std::unique_ptr<ZmqIo> io(new ZmqIo(options, queues));
  if (!options.bind_endpoint.empty()) {
    if (Status status = io->open_router(options); !status) return status.error();
  }
  for (const ZmqPeer& peer : options.peers) {
    if (Status status = io->open_peer(options, peer); !status) return status.error();
  }
  return io;
}

Status ZmqIo::open_router(const ZmqTransportOptions& options) {
  try {
    router_ = zmq::socket_t(context_, zmq::socket_type::router);
    set_common_options(router_, options);
    // An unknown or departed routing id becomes an error we count, not a silent drop.
    router_.set(zmq::sockopt::router_mandatory, true);
    if (options.curve) {
      router_.set(zmq::sockopt::curve_server, true);
      router_.set(zmq::sockopt::curve_secretkey, zmq::buffer(options.curve->secret.array()));
    }
    router_monitor_ = monitor(router_);
    router_.bind(options.bind_endpoint);
    bound_endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& error) {
    return Error{"cannot listen on '" + options.bind_endpoint + "': " + error.what()};
  }
  return ok_status();
}

Status ZmqIo::open_peer(const ZmqTransportOptions& options, const ZmqPeer& peer) {
  try {
    Peer link{peer.id, zmq::socket_t(context_, zmq::socket_type::dealer), {}};
    set_common_options(link.dealer, options);
    link.dealer.set(zmq::sockopt::reconnect_ivl, options.reconnect_interval_ms);
    link.dealer.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_interval_ms_max);
    if (options.curve) {
      link.dealer.set(zmq::sockopt::curve_serverkey, zmq::buffer(*peer.curve_public));
      link.dealer.set(zmq::sockopt::curve_publickey, zmq::buffer(options.curve->public_key));
      link.dealer.set(zmq::sockopt::curve_secretkey, zmq::buffer(options.curve->secret.array()));
    }
    link.monitor = monitor(link.dealer);
    link.dealer.connect(peer.endpoint);
    peer_index_.emplace(peer.id, peers_.size());
    peers_.push_back(std::move(link));
  } catch (const zmq::error_t& error) {
    return Error{"cannot connect to node " + std::to_string(peer.id) + " at '" + peer.endpoint +
                 "': " + error.what()};
  }
  return ok_status();
}

zmq::socket_t ZmqIo::monitor(zmq::socket_t& socket) {
  const std::string endpoint = "inproc://phalanx-monitor-" + std::to_string(monitors_made_++);
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kMonitoredEvents) != 0)
    throw zmq::error_t();
  zmq::socket_t events(context_, zmq::socket_type::pair);
  events.set(zmq::sockopt::linger, 0);
  events.connect(endpoint);
  return events;
}

void ZmqIo::run() {
  // Each turn waits until a socket or the wake eventfd is ready (not at all while messages
  // are left to send or to read).
  while (turn(-1) != TransportQueues::Take::kStopped) {
  }
}

// Waits in poll(2) on the sockets' ZMQ_FDs rather than in zmq_poll, which reads every
// socket's ZMQ_EVENTS on each of its passes (a system call or two each): here only a socket
// whose descriptor fired, or that was used since it was last read dry, is read.
TransportQueues::Take ZmqIo::turn(long timeout_ms) {
  if (watched_.empty()) watch_sockets();
  // Send before the wait, so that what was queued leaves now. A push after take_outbound
  // drained the queue writes the wake eventfd, which ends the wait.
  const TransportQueues::Take take = queues_.take_outbound(outbound_, kSendBatch);
  if (take == TransportQueues::Take::kStopped) return take;
  send_batch(outbound_);
  outbound_.clear();
  const bool unread = std::any_of(watched_.begin(), watched_.end(),
                                  [](const Watched& watched) { return watched.unread; });
  const bool busy = take == TransportQueues::Take::kMore || unread;
  const int wait_ms = busy ? 0 : static_cast<int>(std::min<long>(timeout_ms, INT_MAX));
  const int ready = ::poll(pollfds_.data(), pollfds_.size(), wait_ms);
  PHALANX_ASSERT(ready >= 0 || errno == EINTR, "poll failed on descriptors we own");
  for (std::size_t i = 0; ready > 0 && i < pollfds_.size(); ++i) {
    if (pollfds_[i].revents != 0) watched_[i].unread = true;
  }
  if (std::exchange(watched_[0].unread, false)) queues_.clear_wake();
  for (Watched& watched : watched_) {
    if (watched.unread) watched.unread = read(watched);
  }
  if (!arrived_.empty()) queues_.deliver(arrived_);
  return take;
}

void ZmqIo::watch_sockets() {
  auto watch = [&](int fd, Watched watched) {
    pollfds_.push_back(pollfd{fd, POLLIN, 0});
    watched_.push_back(watched);
    return watched_.size() - 1;
  };
  watch(queues_.wake_fd(), Watched{Watched::Kind::kWake});  // index 0, see turn()
  if (router_.handle() != nullptr) {
    router_watched_ = watch(router_.get(zmq::sockopt::fd), Watched{Watched::Kind::kRouter});
    watch(router_monitor_.get(zmq::sockopt::fd), Watched{Watched::Kind::kRouterMonitor});
  }
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    dealers_watched_.push_back(
        watch(peers_[i].dealer.get(zmq::sockopt::fd), Watched{Watched::Kind::kDealer, i}));
    watch(peers_[i].monitor.get(zmq::sockopt::fd), Watched{Watched::Kind::kDealerMonitor, i});
  }
}

bool ZmqIo::read(const Watched& watched) {
  switch (watched.kind) {
    case Watched::Kind::kWake:
      return false;
    case Watched::Kind::kRouter:
      return read_router();
    case Watched::Kind::kRouterMonitor:
      return read_monitor(router_monitor_, false);
    case Watched::Kind::kDealer:
      return read_dealer(peers_[watched.peer]);
    case Watched::Kind::kDealerMonitor:
      return read_monitor(peers_[watched.peer].monitor, true);
  }
  return false;
}

void ZmqIo::send_batch(const std::vector<Outgoing>& batch) {
  by_destination_.clear();
  destination_index_.clear();
  for (const Outgoing& message : batch) {
    // Connection ids stay below kPeerConnectionBit (ZmqTransport routes the others to
    // nodes), so the bit tells the two kinds apart.
    const std::uint64_t key = message.kind == Outgoing::Kind::kNode
                                  ? (message.target | ZmqTransport::kPeerConnectionBit)
                                  : message.target;
    auto [found, added] = destination_index_.try_emplace(key, by_destination_.size());
    if (added) by_destination_.push_back({Destination{message.kind, message.target}, {}});
    by_destination_[found->second].second.push_back(&message.bytes);
  }
  for (const auto& [destination, messages] : by_destination_) send_to(destination, messages);
}

// Consecutive messages share a bundle while it fits; a message that fits no bundle (large
// or empty) goes alone, and so does one left without company (zero-copy, no bundle header).
void ZmqIo::send_to(const Destination& destination,
                    const std::vector<const SharedBytes*>& messages) {
  const SharedBytes* first = nullptr;  // the bundle's first message, to send alone if need be
  auto flush = [&] {
    const std::size_t count = bundle_.count();
    if (count == 0) return;
    if (count == 1) {
      bundle_.clear();
      return send_counted(destination, false, sharing(*first), 1);
    }
    send_counted(destination, true, sharing(std::make_shared<const std::string>(bundle_.take())),
                 count);
  };
  for (const SharedBytes* bytes : messages) {
    if (!bundle_.fits((*bytes)->size())) flush();
    if (!bundle_.fits((*bytes)->size())) {
      send_counted(destination, false, sharing(*bytes), 1);
      continue;
    }
    if (bundle_.count() == 0) first = bytes;
    bundle_.add(**bytes);
  }
  flush();
}

void ZmqIo::send_counted(const Destination& destination, bool bundle, zmq::message_t payload,
                         std::size_t messages) {
  const bool sent = destination.first == Outgoing::Kind::kNode
                        ? send_to_peer(static_cast<NodeId>(destination.second),
                                       bundle ? bundle_header_ : single_header_, payload)
                        : send_on_router(destination.second,
                                         bundle ? router_bundle_header_ : std::string(), payload);
  count(sent ? queues_.counters.sent : queues_.counters.send_dropped, messages);
  if (sent) count(queues_.counters.zmq_messages_sent);
}

bool ZmqIo::send_to_peer(NodeId node, const std::string& header, zmq::message_t& payload) {
  const auto found = peer_index_.find(node);
  PHALANX_ASSERT(found != peer_index_.end(), "ZmqTransport queued a message to an unknown node");
  void* dealer = peers_[found->second].dealer.handle();
  watched_[dealers_watched_[found->second]].unread = true;  // see Watched::unread
  // EAGAIN on the first frame: the peer's send_hwm_messages are waiting already (it is down
  // or slow); drop. Once the first frame is in, libzmq takes the rest of the message.
  if (!header.empty() &&
      zmq_send(dealer, header.data(), header.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
    return false;
  return zmq_msg_send(payload.handle(), dealer, ZMQ_DONTWAIT) >= 0;
}

bool ZmqIo::send_on_router(std::uint64_t connection, const std::string& header,
                           zmq::message_t& payload) {
  PHALANX_ASSERT(router_.handle() != nullptr, "ZmqTransport queued a reply without a ROUTER");
  const std::string* routing_id = connections_.routing_id_of(connection);
  if (routing_id == nullptr) return false;  // never given, or forgotten
  watched_[router_watched_].unread = true;  // see Watched::unread
  if (zmq_send(router_.handle(), routing_id->data(), routing_id->size(),
               ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
    // EHOSTUNREACH (ROUTER_MANDATORY): that connection has closed and will not come back.
    if (zmq_errno() == EHOSTUNREACH) {
      connections_.forget(connection);
      queues_.counters.connections.store(connections_.size(), std::memory_order_relaxed);
    }
    return false;
  }
  if (!header.empty() &&
      zmq_send(router_.handle(), header.data(), header.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
    return false;
  return zmq_msg_send(payload.handle(), router_.handle(), ZMQ_DONTWAIT) >= 0;
}

// At most kReadBatch ZeroMQ messages and about as many delivered messages per turn (a
// bundle's entries each count), so that bundles cannot multiply what one turn takes from
// one socket: kReadBatch + kBundleEntriesMax at most.
bool ZmqIo::read_router() {
  const std::size_t start = arrived_.size();
  bool dry = false;
  for (std::size_t taken = 0; taken < kReadBatch && arrived_.size() - start < kReadBatch; ++taken) {
    // Routing id, then the payload (a client's single message) or a header frame and the
    // payload (zmq_frames.h). Anything else no DEALER of ours sends.
    zmq::message_t frames[3];
    const std::size_t parts = receive_message(router_, frames, 3);
    if (parts == 0) {
      dry = zmq_errno() != EINTR;  // interrupted: not known to be dry, try again next turn
      break;
    }
    std::optional<FrameHeader> header;
    if (parts == 2) header = FrameHeader{};
    if (parts == 3) header = parse_header(frames[1].to_string_view());
    if (!header) {
      count(queues_.counters.receive_malformed);
      continue;
    }
    const std::uint64_t connection = connections_.id_for(frames[0].to_string_view());
    arrive(connection, *header, frames[parts - 1]);
  }
  queues_.counters.connections.store(connections_.size(), std::memory_order_relaxed);
  return !dry;
}

bool ZmqIo::read_dealer(Peer& peer) {
  const std::size_t start = arrived_.size();
  for (std::size_t taken = 0; taken < kReadBatch && arrived_.size() - start < kReadBatch; ++taken) {
    // The payload alone, or a bundle header without an id and the bundle.
    zmq::message_t frames[2];
    const std::size_t parts = receive_message(peer.dealer, frames, 2);
    if (parts == 0) return zmq_errno() == EINTR;  // interrupted: try again next turn
    std::optional<FrameHeader> header;
    if (parts == 1) header = FrameHeader{};
    if (parts == 2) header = parse_header(frames[0].to_string_view());
    if (!header || header->node) {
      count(queues_.counters.receive_malformed);
      continue;
    }
    // From the ROUTER of the node we dialled (its key checked, when CurveZMQ is on).
    header->node = peer.id;
    arrive(ZmqTransport::peer_connection(peer.id), *header, frames[parts - 1]);
  }
  return true;
}

void ZmqIo::arrive(std::uint64_t connection, const FrameHeader& header,
                   const zmq::message_t& payload) {
  if (!header.bundle) {
    arrived_.push_back(Inbound{connection, payload.to_string(), header.node});
    return;
  }
  const bool whole = unpack_bundle(payload.to_string_view(), [&](std::string_view message) {
    arrived_.push_back(Inbound{connection, std::string(message), header.node});
  });
  if (!whole) count(queues_.counters.receive_malformed);
}

bool ZmqIo::read_monitor(zmq::socket_t& monitor, bool of_peer) {
  TransportCounters& counters = queues_.counters;
  for (std::size_t i = 0; i < kReadBatch; ++i) {
    zmq::message_t frames[2];  // event id and value, endpoint
    if (receive_message(monitor, frames, 2) == 0) return zmq_errno() == EINTR;
    std::uint16_t event = 0;
    if (frames[0].size() < sizeof event) continue;
    std::memcpy(&event, frames[0].data(), sizeof event);
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        if (of_peer) count(counters.peer_connects);
        break;
      case ZMQ_EVENT_DISCONNECTED:
        count(of_peer ? counters.peer_disconnects : counters.inbound_disconnects);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        count(counters.handshake_failures);
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace phalanx::net

#if defined(__SANITIZE_THREAD__)
#define PHALANX_ZMQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PHALANX_ZMQ_TSAN 1
#endif
#endif
#ifdef PHALANX_ZMQ_TSAN
// libzmq (a Debian package) is not built with ThreadSanitizer: its threads hand messages to
// ours through lock-free queues that TSan cannot see, so each handover would be reported as
// a race. The TSan runtime asks every binary for this at start-up. It ignores what libzmq
// itself does to memory, and silences reports with libzmq on a stack, or libstdc++ (which
// libzmq calls, and whose frames then hide libzmq's). Our own threads' accesses to our data
// stay checked unless they too go through out-of-line libstdc++ code. Defined here, in a
// file every ZmqTransport user links, so that no test needs TSAN_OPTIONS.
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libzmq.so\nrace:libzmq.so\nrace:libstdc++.so\n";
}
// And the memory libzmq writes from its own threads through intercepted calls (memcpy into
// a message it hands us) is not recorded at all: suppressed reports still cost a stack
// symbolisation each, thousands per second of replica traffic, which slowed a 4-replica
// test from 1.5 s to a quarter of an hour of view changes.
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1";
}
#endif
