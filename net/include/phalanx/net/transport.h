#pragma once
// net::Transport: opaque byte strings between the nodes of a cluster and its clients.
//
// A transport moves bytes; it neither authenticates nor interprets them (signatures,
// checked above it, say who really sent a message). Its promises:
// - sending never blocks the caller: a message to a dead, slow or unknown peer is queued
//   up to a bound and then dropped (counted), so one bad peer costs bounded memory and
//   never delays the others;
// - a received message larger than the configured maximum is refused before it is
//   allocated or handed on;
// - received messages wait in a bounded queue; when it is full new ones are dropped
//   (counted) rather than growing memory.
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace phalanx::net {

using NodeId = std::uint32_t;
using SharedBytes = std::shared_ptr<const std::string>;

// Where an inbound message arrived from, as the transport sees it. `connection` names the
// link it came over, so that an answer can go back the same way (clients have no node id).
struct Inbound {
  std::uint64_t connection = 0;
  std::string bytes;
  // Set when the connection introduced itself as node `*node` (replicas do; clients do
  // not). Unauthenticated: it only tells a driver not to route client replies over a link
  // that a replica opened (a backup relaying a client's request to the primary).
  std::optional<NodeId> node;
};

struct TransportStats {
  std::uint64_t sent = 0;
  std::uint64_t send_dropped = 0;       // queue to that peer full, or peer unknown
  std::uint64_t received = 0;
  std::uint64_t receive_dropped = 0;    // inbound queue full
  std::uint64_t oversized_refused = 0;  // over the size limit (where the library reports it)
  std::uint64_t inbound_queue_depth = 0;
  std::uint64_t outbound_queue_depth = 0;
  std::uint64_t connections = 0;        // connection ids currently known
  std::uint64_t peer_connects = 0;      // connection events to peers
  std::uint64_t peer_disconnects = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // To the node with this id (a replica). False when dropped.
  virtual bool send_to_node(NodeId to, SharedBytes bytes) = 0;
  // Back over the connection an inbound message came from (a client). False when dropped.
  virtual bool send_to_connection(std::uint64_t connection, SharedBytes bytes) = 0;
  // Waits up to `timeout` for at least one inbound message; moves up to `max` into `out`.
  // Returns how many it moved.
  virtual std::size_t receive(std::vector<Inbound>& out, std::size_t max,
                              std::chrono::milliseconds timeout) = 0;
  virtual TransportStats stats() const = 0;
  // Makes a receive() that is waiting, or the next one, return at once (possibly with
  // nothing): how another thread tells the receiving one there is work. Any thread. The
  // default does nothing (receive returns at its timeout).
  virtual void wake() {}
};

}  // namespace phalanx::net
