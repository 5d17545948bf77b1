#pragma once
// net::ZmqTransport: the Transport between replica processes and their clients, over ZeroMQ.
//
// Sockets. A replica binds one ROUTER at `bind_endpoint`; every peer replica and every
// client reaches it through a DEALER of its own. Each transport keeps one DEALER per peer
// (connected to that peer's ROUTER), so a node's messages to another travel over one TCP
// connection, in order. A client binds nothing: it has only DEALERs, and replicas answer it
// back over the connection its request came in on (send_to_connection).
//
// Connection ids (Inbound::connection):
// - a message that came in on the ROUTER carries the id of the connection it came over:
//   1, 2, 3, ... in order of first appearance, never reused. The transport remembers at
//   most `connections_max` of them and forgets the least recently used (a client that is
//   forgotten and speaks again gets a new id);
// - a message that came in on the DEALER to peer n (an answer from n's ROUTER) carries
//   peer_connection(n). send_to_connection(peer_connection(n), ...) is send_to_node(n, ...).
//
// Bundles: messages to one destination that are queued together leave together, packed in
// one ZeroMQ message (net/src/zmq_frames.h has the format), and are received as the
// messages they were, in order. Nothing waits to fill a bundle.
//
// Inbound::node: a transport with a `self` (a replica) sends each message behind a 5-byte
// frame naming it ('N', or 'B' for a bundle, then the id, little-endian), so messages that
// came in on the ROUTER carry that id, and clients' messages carry none. The claim is not authenticated (any
// client can make it); it only keeps a driver from taking a replica's link for a client's.
// Messages on the DEALER to peer n carry n; loopback messages carry self.
//
// Keeping Transport's promises:
// - send_to_node / send_to_connection put the message on a bounded outbound queue and
//   return: true when it was queued, false when it was dropped at once (queue full, unknown
//   node, larger than message_bytes_max, no ROUTER to send on). Later drops are counted in
//   stats().send_dropped: the peer's send_hwm_messages reached (a dead or slow peer costs at
//   most that many ZeroMQ messages of memory, each a single message or a bundle of at most
//   16 KiB and 256 messages), or the connection forgotten or gone.
// - libzmq refuses a received frame larger than message_bytes_max before allocating it
//   (ZMQ_MAXMSGSIZE) and cuts that connection; libzmq does not say why it cut one, so such
//   refusals appear only in stats().inbound_disconnects, never in oversized_refused. The
//   sender (a DEALER) reconnects on its own; messages in flight behind the big one are lost.
// - received messages wait in a queue bounded in messages and in bytes; beyond it new ones
//   are dropped and counted (receive_dropped).
// - a peer that restarts is reached again without help: DEALERs reconnect every
//   reconnect_interval_ms, backing off to reconnect_interval_ms_max. Heartbeats cut a link
//   that is silent for heartbeat_timeout_ms (a peer that vanished without closing its socket)
//   so that the reconnect can start.
// - send_to_node(self, ...) loops back into this transport's own inbound queue, with
//   connection peer_connection(self).
//
// CurveZMQ (`curve` set): every link is encrypted, and every DEALER checks the key of the
// ROUTER it reaches, so a node that does not hold a peer's secret cannot receive what is
// sent to that peer, nor can one that was given a wrong key for it deliver anything. A
// ROUTER accepts any client key (clients are not listed in the transport): who sent a
// message is proved by its signature, above the transport.
//
// Known limit of libzmq 4.3: the size limit is per frame, and a peer may send a multipart
// message of many frames that libzmq buffers whole; such messages are dropped here once
// they arrive (receive_malformed), but libzmq holds them until then.
//
// Threads: one I/O thread, started by create() and joined by the destructor, owns every
// ZeroMQ socket. Every public method may be called from any thread; none of them blocks
// except receive(), for at most its timeout. With `io_thread` off there is no such thread:
// receive() does its work, on one calling thread at a time (see ZmqTransportOptions).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/crypto/curve.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/net/transport.h"

namespace phalanx::net {

// A replica this transport sends to.
struct ZmqPeer {
  NodeId id = 0;
  std::string endpoint;  // where its ROUTER listens, e.g. "tcp://10.0.0.2:7000"
  // The X25519 key of its ROUTER (crypto::curve_public_key of its Ed25519 key). Required
  // when the transport's `curve` is set; ignored otherwise.
  std::optional<crypto::CurvePublic> curve_public;
};

// This node's (or client's) own X25519 key pair, for CurveZMQ.
struct ZmqCurveKeys {
  crypto::CurveSecret secret;
  crypto::CurvePublic public_key;

  // Both halves from a node's Ed25519 key, so a node needs no second key file.
  static ZmqCurveKeys from_secret_key(const crypto::SecretKey& key);
};

struct ZmqTransportOptions {
  std::optional<NodeId> self;  // nullopt for a client
  // Where this node's ROUTER listens; empty for a client (it only connects). A port of 0
  // or "*" asks the system for one; bound_endpoint() tells which.
  std::string bind_endpoint;
  std::vector<ZmqPeer> peers;  // every replica but self

  // Limits (STYLE.md 8). Memory held for one dead peer is at most send_hwm_messages
  // messages; the queues between callers and the I/O thread hold at most their bounds.
  std::size_t message_bytes_max = 16u << 20;  // matches pbft Limits::envelope_bytes_max
  int send_hwm_messages = 1000;               // per peer DEALER and per ROUTER connection
  int receive_hwm_messages = 1000;            // ditto, on the receiving side of each
  std::size_t inbound_queue_max = 10'000;
  std::size_t inbound_queue_bytes_max = 256u << 20;
  std::size_t outbound_queue_max = 10'000;
  std::size_t outbound_queue_bytes_max = 256u << 20;
  std::size_t connections_max = 10'000;  // remembered ROUTER connections (clients, peers)

  int reconnect_interval_ms = 100;
  int reconnect_interval_ms_max = 1000;
  int heartbeat_interval_ms = 1000;  // 0 turns heartbeats off
  int heartbeat_timeout_ms = 5000;

  // Set: CurveZMQ on every socket (then every peer needs curve_public). A client may pass
  // keys made from its own Ed25519 key or from a fresh one; the ROUTERs accept any.
  std::optional<ZmqCurveKeys> curve;

  // False: no I/O thread; receive() serves the sockets on the calling thread, sending what
  // was queued and reading what arrived while it waits. That saves two hand-offs between
  // threads per message in each direction, for an owner with one loop that calls receive()
  // again soon after each batch, as a replica's node does (what it queues leaves when it
  // next calls receive). Sends, wake() and stats() may still come from any thread; receive()
  // from one thread at a time.
  bool io_thread = true;
};

// What ZmqTransport adds to TransportStats.
struct ZmqTransportStats : TransportStats {
  // ZeroMQ messages that carried `sent`: messages to one destination that leave together
  // share one (a bundle, zmq_frames.h), so sent / zmq_messages_sent is the bundling factor.
  std::uint64_t zmq_messages_sent = 0;
  std::uint64_t send_oversized = 0;       // of send_dropped: larger than message_bytes_max
  std::uint64_t receive_malformed = 0;    // multipart frames no DEALER of ours sends
  std::uint64_t handshake_failures = 0;   // ZMTP/CURVE handshakes that failed, either side
  std::uint64_t inbound_disconnects = 0;  // ROUTER connections cut (closed, refused, timed out)
};

class ZmqTransport final : public Transport {
 public:
  // Connection ids at and above this bit name peers (see the header comment).
  static constexpr std::uint64_t kPeerConnectionBit = std::uint64_t{1} << 63;
  static constexpr std::uint64_t peer_connection(NodeId node) { return kPeerConnectionBit | node; }

  // Checks the options, binds, connects and starts the I/O thread. An Error lists every
  // problem with the options, or says which endpoint could not be bound or connected.
  static Result<std::unique_ptr<ZmqTransport>> create(ZmqTransportOptions options);

  // Stops the I/O thread and closes every socket at once (linger 0: unsent messages are
  // dropped).
  ~ZmqTransport() override;
  ZmqTransport(const ZmqTransport&) = delete;
  ZmqTransport& operator=(const ZmqTransport&) = delete;

  bool send_to_node(NodeId to, SharedBytes bytes) override;
  bool send_to_connection(std::uint64_t connection, SharedBytes bytes) override;
  std::size_t receive(std::vector<Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override;
  TransportStats stats() const override;
  void wake() override;
  ZmqTransportStats zmq_stats() const;

  // The endpoint the ROUTER is bound to, with the port the system chose; empty for a client.
  const std::string& bound_endpoint() const;

 private:
  class Impl;  // zmq_transport.cc: keeps ZeroMQ out of this header
  explicit ZmqTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace phalanx::net
