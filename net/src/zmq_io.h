#pragma once
// ZmqIo: every ZeroMQ socket of one ZmqTransport, and the loop that serves them.
//
// open() makes the sockets on the creating thread (so that bind errors come back from
// ZmqTransport::create); run() then owns them on the I/O thread until the queues are
// stopped. ZeroMQ allows a socket to move between threads across a full memory barrier:
// starting the I/O thread is one, and joining it gives them back to the destructor.
//
// Each turn of the loop: send a bounded batch of outbound messages (never waiting: a full
// peer drops), those to one destination bundled into as few ZeroMQ messages as fit
// (zmq_frames.h); wait in poll(2) on the wake eventfd and the ZMQ_FDs of the ROUTER, the
// DEALERs and their monitors; read a bounded batch from each socket that may hold messages
// into the inbound queue (connection events into the counters). Bounded batches keep one
// busy socket from starving the others.
//
// Thread-safety: open() and the destructor on the owner's thread, run() on one I/O thread.

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>

#include "phalanx/base/result.h"
#include "phalanx/net/zmq_transport.h"
#include "zmq_connection_table.h"
#include "zmq_frames.h"
#include "zmq_queues.h"

namespace phalanx::net {

class ZmqIo {
 public:
  static Result<std::unique_ptr<ZmqIo>> open(const ZmqTransportOptions& options,
                                             TransportQueues& queues);
  ZmqIo(const ZmqIo&) = delete;
  ZmqIo& operator=(const ZmqIo&) = delete;
  ~ZmqIo();

  // Serves the sockets until the queues are stopped (the I/O thread's loop).
  void run();
  // One turn of that loop: waits up to `timeout_ms` (-1: until something is ready) for a
  // socket or the wake eventfd, sends a batch of the outbound queue, and delivers what
  // arrived into the inbound queue. kMore: outbound messages are left for the next turn.
  // For a transport without an I/O thread, the caller of receive() drives it.
  TransportQueues::Take turn(long timeout_ms);
  const std::string& bound_endpoint() const { return bound_endpoint_; }

 private:
  struct Peer {
    NodeId id = 0;
    zmq::socket_t dealer;
    zmq::socket_t monitor;  // PAIR receiving the dealer's connection events
  };
  // What turn() waits on: the wake eventfd (index 0), the ROUTER, the DEALERs, and the
  // monitors of each (read without delay: libzmq's I/O thread blocks on a full monitor).
  struct Watched {
    enum class Kind : std::uint8_t { kWake, kRouter, kRouterMonitor, kDealer, kDealerMonitor };
    Kind kind = Kind::kWake;
    std::size_t peer = 0;  // index into peers_ for the two dealer kinds
    // The socket may hold messages that its ZMQ_FD will not announce: ZMQ_FD signals only
    // new commands to the socket, and any send or receive on it may take one in passing.
    // Cleared once a read ends on EAGAIN, which takes in every pending command.
    bool unread = true;
  };

  ZmqIo(const ZmqTransportOptions& options, TransportQueues& queues);
  Status open_router(const ZmqTransportOptions& options);
  Status open_peer(const ZmqTransportOptions& options, const ZmqPeer& peer);
  zmq::socket_t monitor(zmq::socket_t& socket);

  void watch_sockets();
  // Reads what `watched` holds; true when some may be left (its read batch ran out, or a
  // signal interrupted the read).
  bool read(const Watched& watched);
  // Where an outbound message goes: (kind, target) of Outgoing.
  using Destination = std::pair<Outgoing::Kind, std::uint64_t>;
  void send_batch(const std::vector<Outgoing>& batch);
  void send_to(const Destination& destination, const std::vector<const SharedBytes*>& messages);
  void send_counted(const Destination& destination, bool bundle, zmq::message_t payload,
                    std::size_t messages);
  bool send_to_peer(NodeId node, const std::string& header, zmq::message_t& payload);
  bool send_on_router(std::uint64_t connection, const std::string& header, zmq::message_t& payload);
  bool read_router();
  bool read_dealer(Peer& peer);
  void arrive(std::uint64_t connection, const FrameHeader& header, const zmq::message_t& payload);
  bool read_monitor(zmq::socket_t& monitor, bool of_peer);

  TransportQueues& queues_;
  // The header frames our DEALERs send (zmq_frames.h); a ROUTER's carry no id.
  const std::string single_header_;
  const std::string bundle_header_;
  const std::string router_bundle_header_;
  zmq::context_t context_;  // declared first: destroyed after every socket is closed
  zmq::socket_t router_;    // empty for a client
  zmq::socket_t router_monitor_;
  std::vector<Peer> peers_;
  std::unordered_map<NodeId, std::size_t> peer_index_;
  std::string bound_endpoint_;
  int monitors_made_ = 0;  // names the inproc endpoint of each monitor
  ConnectionTable connections_;
  std::vector<Inbound> arrived_;    // read this turn, delivered at its end
  std::vector<Outgoing> outbound_;  // taken this turn
  // Made on the first turn; pollfds_[i] is the file descriptor of watched_[i].
  std::vector<pollfd> pollfds_;
  std::vector<Watched> watched_;
  std::size_t router_watched_ = 0;            // index of the ROUTER in watched_
  std::vector<std::size_t> dealers_watched_;  // index of each peer's DEALER in watched_
  // Reused by send_batch each turn: the destinations in order of first appearance, and
  // each one's messages in the order they were queued (the order promised per link).
  std::vector<std::pair<Destination, std::vector<const SharedBytes*>>> by_destination_;
  std::unordered_map<std::uint64_t, std::size_t> destination_index_;  // into by_destination_
  BundleWriter bundle_;  // reused by send_to (its list of messages keeps its capacity)
};

}  // namespace phalanx::net
