// ZmqTransport over real sockets on loopback: each test is one promise of transport.h or
// zmq_transport.h. Waits poll for the awaited state and return as soon as it holds; the
// deadline only bounds a failing run.

#include "phalanx/net/zmq_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "phalanx/crypto/curve.h"
#include "phalanx/crypto/keys.h"
#include "zmq_frames.h"

namespace phalanx::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = 10s;

SharedBytes bytes_of(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

std::unique_ptr<ZmqTransport> make(ZmqTransportOptions options) {
  Result<std::unique_ptr<ZmqTransport>> created = ZmqTransport::create(std::move(options));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created ? std::move(created).value() : nullptr;
}

// A loopback endpoint whose port the system has just handed out (and taken back): every
// transport must know its peers' endpoints before any of them binds.
std::string free_endpoint() {
  ZmqTransportOptions options;
  options.bind_endpoint = "tcp://127.0.0.1:*";
  return make(std::move(options))->bound_endpoint();
}

std::vector<std::string> free_endpoints(std::size_t count) {
  std::vector<std::string> endpoints;
  for (std::size_t i = 0; i < count; ++i) endpoints.push_back(free_endpoint());
  return endpoints;
}

ZmqTransportOptions replica_options(NodeId self, const std::vector<std::string>& endpoints) {
  ZmqTransportOptions options;
  options.self = self;
  options.bind_endpoint = endpoints[self];
  for (NodeId id = 0; id < endpoints.size(); ++id) {
    if (id != self) options.peers.push_back(ZmqPeer{id, endpoints[id], std::nullopt});
  }
  return options;
}

ZmqTransportOptions client_options(NodeId replica, const std::string& endpoint) {
  ZmqTransportOptions options;
  options.peers.push_back(ZmqPeer{replica, endpoint, std::nullopt});
  return options;
}

bool eventually(const std::function<bool()>& condition, Clock::duration deadline = kDeadline) {
  const auto until = Clock::now() + deadline;
  while (!condition()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Receives until `count` messages have come or the deadline passed.
std::vector<Inbound> receive_count(Transport& transport, std::size_t count,
                                   Clock::duration deadline = kDeadline) {
  std::vector<Inbound> got;
  const auto until = Clock::now() + deadline;
  while (got.size() < count && Clock::now() < until)
    transport.receive(got, count - got.size(), 20ms);
  return got;
}

// Calls send(attempt) every 20 ms until the receiver has a message, and returns that.
std::optional<Inbound> send_until_received(const std::function<void(int)>& send,
                                           Transport& receiver) {
  const auto until = Clock::now() + kDeadline;
  for (int attempt = 0; Clock::now() < until; ++attempt) {
    send(attempt);
    std::vector<Inbound> got;
    if (receiver.receive(got, 1, 20ms) == 1) return got.front();
  }
  return std::nullopt;
}

// A hand-made DEALER connected to `endpoint`, as a Byzantine client would use: it sends
// frames no ZmqTransport sends.
struct RawDealer {
  explicit RawDealer(const std::string& endpoint) {
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
  }
  zmq::context_t context;
  zmq::socket_t socket{context, zmq::socket_type::dealer};
};

std::string message(NodeId from, NodeId to, int seq) {
  return std::to_string(from) + ":" + std::to_string(to) + ":" + std::to_string(seq);
}

TEST(ZmqTransport, ThreeNodesExchangeMessagesInOrderOnEachLink) {
  constexpr int kPerLink = 200;
  const std::vector<std::string> endpoints = free_endpoints(3);
  std::vector<std::unique_ptr<ZmqTransport>> nodes;
  for (NodeId id = 0; id < 3; ++id) nodes.push_back(make(replica_options(id, endpoints)));
  for (int seq = 0; seq < kPerLink; ++seq) {
    for (NodeId from = 0; from < 3; ++from) {
      for (NodeId to = 0; to < 3; ++to) {
        if (from == to) continue;
        EXPECT_TRUE(nodes[from]->send_to_node(to, bytes_of(message(from, to, seq))));
      }
    }
  }
  for (NodeId to = 0; to < 3; ++to) {
    const std::vector<Inbound> got = receive_count(*nodes[to], 2 * kPerLink);
    ASSERT_EQ(got.size(), 2u * kPerLink) << "node " << to;
    std::map<NodeId, int> next_seq;  // per sender
    for (const Inbound& in : got) {
      const NodeId from = static_cast<NodeId>(std::stoul(in.bytes));
      ASSERT_EQ(in.bytes, message(from, to, next_seq[from]++)) << "out of order on the link";
      ASSERT_EQ(in.node, std::optional<NodeId>(from)) << "a replica introduces itself";
    }
  }
}

TEST(ZmqTransport, ClientRequestIsAnsweredOverItsConnection) {
  ZmqTransportOptions server_options;
  server_options.self = 0;
  server_options.bind_endpoint = "tcp://127.0.0.1:*";
  auto server = make(std::move(server_options));
  auto client = make(client_options(0, server->bound_endpoint()));

  ASSERT_TRUE(client->send_to_node(0, bytes_of("request")));
  std::vector<Inbound> request = receive_count(*server, 1);
  ASSERT_EQ(request.size(), 1u);
  EXPECT_EQ(request[0].bytes, "request");
  EXPECT_EQ(request[0].connection & ZmqTransport::kPeerConnectionBit, 0u);
  EXPECT_EQ(request[0].node, std::nullopt) << "a client does not claim a node id";

  ASSERT_TRUE(server->send_to_connection(request[0].connection, bytes_of("reply")));
  std::vector<Inbound> reply = receive_count(*client, 1);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].bytes, "reply");
  EXPECT_EQ(reply[0].connection, ZmqTransport::peer_connection(0));
  EXPECT_EQ(reply[0].node, std::optional<NodeId>(0));

  // The client answers back the way the reply came: to node 0.
  ASSERT_TRUE(client->send_to_connection(reply[0].connection, bytes_of("again")));
  std::vector<Inbound> again = receive_count(*server, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].connection, request[0].connection) << "same DEALER, same connection";
  EXPECT_EQ(server->stats().connections, 1u);
}

// Messages queued together to one destination share ZeroMQ messages (zmq_frames.h), in
// both directions of a client's connection, and arrive as they were sent: in order, whole,
// from the right node; one too large for a bundle goes alone between its neighbours.
TEST(ZmqTransport, MessagesQueuedTogetherLeaveBundledAndArriveAsSent) {
  constexpr int kMessages = 2000;
  ZmqTransportOptions server_options;
  server_options.self = 0;
  server_options.bind_endpoint = "tcp://127.0.0.1:*";
  server_options.send_hwm_messages = 2 * kMessages;  // none dropped, whatever the bundling
  auto server = make(std::move(server_options));
  ZmqTransportOptions options = client_options(0, server->bound_endpoint());
  options.send_hwm_messages = 2 * kMessages;
  auto client = make(std::move(options));
  auto payload = [](int i) {
    // Every 100th is too large for any bundle.
    return i % 100 == 99 ? std::string(kBundleBytesMax + 1, static_cast<char>('a' + i % 26))
                         : "message " + std::to_string(i);
  };

  // The client's first message makes its connection known to the server.
  std::optional<Inbound> hello =
      send_until_received([&](int) { client->send_to_node(0, bytes_of("hello")); }, *server);
  ASSERT_TRUE(hello.has_value());

  for (int i = 0; i < kMessages; ++i) ASSERT_TRUE(client->send_to_node(0, bytes_of(payload(i))));
  // Retried hellos may still arrive first (a slow sanitizer build): they precede the rest.
  std::vector<Inbound> requests = receive_count(*server, kMessages);
  while (!requests.empty() && requests.front().bytes == "hello") {
    requests.erase(requests.begin());
    std::vector<Inbound> more = receive_count(*server, 1);
    requests.insert(requests.end(), more.begin(), more.end());
  }
  ASSERT_EQ(requests.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(requests[i].bytes, payload(i)) << "message " << i;
    ASSERT_EQ(requests[i].connection, hello->connection);
    ASSERT_EQ(requests[i].node, std::nullopt);
  }

  for (int i = 0; i < kMessages; ++i)
    ASSERT_TRUE(server->send_to_connection(hello->connection, bytes_of(payload(i))));
  std::vector<Inbound> replies = receive_count(*client, kMessages);
  ASSERT_EQ(replies.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(replies[i].bytes, payload(i)) << "reply " << i;
    ASSERT_EQ(replies[i].node, std::optional<NodeId>(0));
  }

  for (const ZmqTransportStats& stats : {client->zmq_stats(), server->zmq_stats()}) {
    EXPECT_LT(stats.zmq_messages_sent, stats.sent) << "nothing was bundled";
    EXPECT_EQ(stats.receive_malformed, 0u);
  }
}

// Without an I/O thread (ZmqTransportOptions::io_thread), receive() serves the sockets:
// what a node queued leaves when it next calls receive(), in order, and answers come back
// over the same connection. Each transport here is driven by one thread of the test.
TEST(ZmqTransport, WithoutAnIoThreadTheCallerOfReceiveMovesTheMessages) {
  constexpr int kMessages = 300;
  const std::vector<std::string> endpoints = free_endpoints(2);
  ZmqTransportOptions options0 = replica_options(0, endpoints);
  ZmqTransportOptions options1 = replica_options(1, endpoints);
  options0.io_thread = options1.io_thread = false;
  auto node0 = make(std::move(options0));
  auto node1 = make(std::move(options1));

  std::atomic<bool> done{false};
  std::vector<Inbound> answers;
  std::thread driver0([&] {
    for (int i = 0; i < kMessages; ++i) node0->send_to_node(1, bytes_of(message(0, 1, i)));
    std::vector<Inbound> got;
    while (!done.load()) {
      got.clear();
      node0->receive(got, 100, 10ms);
      answers.insert(answers.end(), got.begin(), got.end());
      if (answers.size() == static_cast<std::size_t>(kMessages)) done.store(true);
    }
  });
  std::size_t answered = 0;
  const auto until = Clock::now() + kDeadline;
  while (answered < static_cast<std::size_t>(kMessages) && Clock::now() < until) {
    std::vector<Inbound> got;
    node1->receive(got, 100, 10ms);
    for (const Inbound& in : got) {
      EXPECT_EQ(in.bytes, message(0, 1, static_cast<int>(answered))) << "out of order";
      EXPECT_EQ(in.node, std::optional<NodeId>(0));
      node1->send_to_connection(in.connection, bytes_of("answer " + std::to_string(answered)));
      ++answered;
    }
  }
  // Node 1's last answers leave with its next receive().
  const auto answers_until = Clock::now() + kDeadline;
  while (!done.load() && Clock::now() < answers_until) {
    std::vector<Inbound> none;
    node1->receive(none, 100, 10ms);
  }
  done.store(true);
  driver0.join();
  ASSERT_EQ(answered, static_cast<std::size_t>(kMessages));
  ASSERT_EQ(answers.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(answers[i].bytes, "answer " + std::to_string(i));
}

// wake() from another thread ends a receive() that waits in zmq_poll, not at its timeout.
TEST(ZmqTransport, WithoutAnIoThreadWakeEndsAWaitingReceive) {
  ZmqTransportOptions options = replica_options(0, free_endpoints(1));
  options.io_thread = false;
  auto node = make(std::move(options));
  std::thread waker([&] {
    std::this_thread::sleep_for(100ms);
    node->wake();
  });
  const auto start = Clock::now();
  std::vector<Inbound> got;
  EXPECT_EQ(node->receive(got, 10, 20s), 0u);
  EXPECT_LT(Clock::now() - start, 10s) << "the wake was lost";
  waker.join();
}

// Without an I/O thread, a receive() waits in poll(2) on the sockets' ZMQ_FDs, which
// announce only what arrives after a socket was last read dry. A burst of several read
// batches' worth (kReadBatch ZeroMQ messages per turn) that is all in before the first
// receive() must still come out without a wait: nothing new arrives to announce the rest.
TEST(ZmqTransport, WithoutAnIoThreadABurstLongerThanOneReadIsTakenWithoutWaiting) {
  constexpr std::size_t kMessages = 900;  // within both ends' high-water marks (1000)
  ZmqTransportOptions options = replica_options(0, free_endpoints(1));
  options.io_thread = false;
  auto node = make(std::move(options));
  RawDealer client(node->bound_endpoint());
  for (std::size_t i = 0; i < kMessages; ++i)
    client.socket.send(zmq::buffer(std::to_string(i)), zmq::send_flags::none);
  std::this_thread::sleep_for(300ms);  // for the burst to reach the node's socket
  std::vector<Inbound> got;
  while (got.size() < kMessages) {
    // Nothing for 5 s means the messages left in the socket went unannounced.
    if (node->receive(got, kMessages, 5s) == 0) break;
  }
  ASSERT_EQ(got.size(), kMessages);
  for (std::size_t i = 0; i < kMessages; ++i) EXPECT_EQ(got[i].bytes, std::to_string(i));
}

// A send takes the socket's pending commands in passing (libzmq does, when it has not for
// a millisecond), among them the one that announced a message that came in meanwhile: the
// message must still be read, though its ZMQ_FD no longer fires. Node 1 answers each ping
// twice, 3 ms apart; node 0 reads the first answer, lets the second arrive, sends on the
// same DEALER and must then get the second without waiting for anything new.
TEST(ZmqTransport, WithoutAnIoThreadAMessageThatArrivedBeforeOurSendIsStillRead) {
  constexpr int kRounds = 20;
  const std::vector<std::string> endpoints = free_endpoints(2);
  ZmqTransportOptions options0 = replica_options(0, endpoints);
  options0.io_thread = false;
  auto node0 = make(std::move(options0));
  auto node1 = make(replica_options(1, endpoints));
  std::atomic<bool> done{false};
  std::thread answer_twice([&] {
    std::vector<Inbound> got;
    while (!done.load()) {
      got.clear();
      node1->receive(got, 100, 100ms);
      for (const Inbound& in : got) {
        if (in.bytes.rfind("ping", 0) != 0) continue;  // "quiet" wants no answer
        node1->send_to_connection(in.connection, bytes_of("first " + in.bytes));
        std::this_thread::sleep_for(3ms);
        node1->send_to_connection(in.connection, bytes_of("second " + in.bytes));
      }
    }
  });
  int rounds = 0;
  for (; rounds < kRounds; ++rounds) {
    const std::string ping = "ping " + std::to_string(rounds);
    node0->send_to_node(1, bytes_of(ping));
    std::vector<Inbound> got;
    if (node0->receive(got, 1, 5s) != 1 || got.front().bytes != "first " + ping) break;
    std::this_thread::sleep_for(10ms);  // the second answer arrives; nobody reads it yet
    node0->send_to_node(1, bytes_of("quiet"));
    got.clear();
    if (node0->receive(got, 1, 5s) != 1 || got.front().bytes != "second " + ping) break;
  }
  done.store(true);
  answer_twice.join();
  EXPECT_EQ(rounds, kRounds);
}

// A bundle no ZmqTransport sends (here: more entries than kBundleEntriesMax) is refused
// whole and counted, and the connection's next message is still served.
TEST(ZmqTransport, ABundleOverItsLimitsIsRefusedWhole) {
  ZmqTransportOptions options;
  options.self = 0;
  options.bind_endpoint = "tcp://127.0.0.1:*";
  auto server = make(std::move(options));
  RawDealer raw(server->bound_endpoint());
  zmq::socket_t& dealer = raw.socket;
  std::string bundle;
  for (std::size_t i = 0; i <= kBundleEntriesMax; ++i) bundle += std::string("\x01\0\0\0x", 5);
  dealer.send(zmq::buffer(std::string("B")), zmq::send_flags::sndmore);
  dealer.send(zmq::buffer(bundle));
  dealer.send(zmq::buffer(std::string("after")));
  std::vector<Inbound> got = receive_count(*server, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, "after");
  EXPECT_EQ(server->zmq_stats().receive_malformed, 1u);
  std::vector<Inbound> more;
  EXPECT_EQ(server->receive(more, 10, 100ms), 0u) << "something of the refused bundle arrived";
}

TEST(ZmqTransport, OversizedMessageIsRefusedWhileNormalOnesFlow) {
  ZmqTransportOptions receiver_options;
  receiver_options.bind_endpoint = "tcp://127.0.0.1:*";
  receiver_options.message_bytes_max = 1024;
  auto receiver = make(std::move(receiver_options));
  // A sender that ignores the limit, as a Byzantine client would.
  ZmqTransportOptions sender_options = client_options(0, receiver->bound_endpoint());
  sender_options.message_bytes_max = 64 * 1024;
  auto sender = make(std::move(sender_options));

  ASSERT_TRUE(sender->send_to_node(0, bytes_of(std::string(4096, 'x'))));
  // libzmq cuts the link on the big frame; the sender reconnects and small ones get through.
  std::optional<Inbound> first = send_until_received(
      [&](int k) { sender->send_to_node(0, bytes_of("small-" + std::to_string(k))); }, *receiver);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->bytes.rfind("small-", 0), 0u);
  EXPECT_TRUE(eventually([&] { return receiver->zmq_stats().inbound_disconnects >= 1; }));
  std::vector<Inbound> rest;
  receiver->receive(rest, 1000, 100ms);
  for (const Inbound& in : rest) EXPECT_LE(in.bytes.size(), 1024u);
}

TEST(ZmqTransport, SenderRefusesAMessageAboveItsOwnLimit) {
  ZmqTransportOptions options = client_options(0, free_endpoint());
  options.message_bytes_max = 1024;
  auto sender = make(std::move(options));
  EXPECT_FALSE(sender->send_to_node(0, bytes_of(std::string(1025, 'x'))));
  EXPECT_TRUE(sender->send_to_node(0, bytes_of(std::string(1024, 'x'))));
  const ZmqTransportStats stats = sender->zmq_stats();
  EXPECT_EQ(stats.send_oversized, 1u);
  EXPECT_EQ(stats.send_dropped, 1u);
}

// The high-water mark counts ZeroMQ messages, and bundles (zmq_frames.h) are at most
// kBundleBytesMax: so at most kHwm bundles of these messages are held.
TEST(ZmqTransport, SendsToADeadPeerNeverBlockAndHoldAtMostTheHighWaterMark) {
  constexpr int kSends = 4'000;
  constexpr int kHwm = 100;
  constexpr std::size_t kBytes = 1'000;
  constexpr std::uint64_t kPerBundle = kBundleBytesMax / (kBytes + kBundleEntryHeaderBytes);
  ZmqTransportOptions options = replica_options(0, free_endpoints(2));  // node 1 never starts
  options.send_hwm_messages = kHwm;
  options.outbound_queue_max = kSends;
  auto node = make(std::move(options));

  const auto start = Clock::now();
  for (int i = 0; i < kSends; ++i) node->send_to_node(1, bytes_of(std::string(kBytes, 'x')));
  EXPECT_LT(Clock::now() - start, 2s) << "sending must not wait for the peer";

  ASSERT_TRUE(eventually([&] {
    const TransportStats stats = node->stats();
    return stats.outbound_queue_depth == 0 && stats.sent + stats.send_dropped == kSends;
  }));
  const ZmqTransportStats stats = node->zmq_stats();
  EXPECT_LE(stats.zmq_messages_sent, static_cast<std::uint64_t>(kHwm)) << "held for the dead peer";
  EXPECT_LE(stats.sent, kHwm * kPerBundle) << "held for the dead peer";
  EXPECT_GE(stats.send_dropped, kSends - kHwm * kPerBundle);
}

TEST(ZmqTransport, RestartedPeerIsReachedAgainWithoutHelp) {
  const std::vector<std::string> endpoints = free_endpoints(2);
  auto node0 = make(replica_options(0, endpoints));
  auto node1 = make(replica_options(1, endpoints));
  ASSERT_TRUE(node0->send_to_node(1, bytes_of("before")));
  ASSERT_EQ(receive_count(*node1, 1).size(), 1u);

  node1.reset();
  node1 = make(replica_options(1, endpoints));
  ASSERT_NE(node1, nullptr);
  std::optional<Inbound> after = send_until_received(
      [&](int k) { node0->send_to_node(1, bytes_of("after-" + std::to_string(k))); }, *node1);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->bytes.rfind("after-", 0), 0u);
  ASSERT_TRUE(node1->send_to_node(0, bytes_of("back")));
  EXPECT_EQ(receive_count(*node0, 1).size(), 1u);
  EXPECT_TRUE(eventually([&] {
    const TransportStats stats = node0->stats();
    return stats.peer_connects >= 2 && stats.peer_disconnects >= 1;
  }));
}

ZmqTransportOptions curve_options(NodeId self, const std::vector<std::string>& endpoints) {
  ZmqTransportOptions options = replica_options(self, endpoints);
  options.curve =
      ZmqCurveKeys::from_secret_key(crypto::SecretKey::derive_for_testing("replica", self));
  for (ZmqPeer& peer : options.peers) {
    peer.curve_public = crypto::curve_public_key(
        crypto::SecretKey::derive_for_testing("replica", peer.id).public_key());
  }
  return options;
}

TEST(ZmqTransport, CurveLinksCarryMessages) {
  const std::vector<std::string> endpoints = free_endpoints(3);
  std::vector<std::unique_ptr<ZmqTransport>> nodes;
  for (NodeId id = 0; id < 3; ++id) nodes.push_back(make(curve_options(id, endpoints)));
  for (NodeId from = 0; from < 3; ++from) {
    for (NodeId to = 0; to < 3; ++to) {
      if (from == to) continue;
      ASSERT_TRUE(nodes[from]->send_to_node(to, bytes_of(message(from, to, 0))));
    }
  }
  for (NodeId to = 0; to < 3; ++to) EXPECT_EQ(receive_count(*nodes[to], 2).size(), 2u);
  EXPECT_EQ(nodes[0]->zmq_stats().handshake_failures, 0u);
}

TEST(ZmqTransport, CurveNodeWithTheWrongKeyCannotDeliver) {
  const std::vector<std::string> endpoints = free_endpoints(3);
  auto node0 = make(curve_options(0, endpoints));
  auto node1 = make(curve_options(1, endpoints));
  // Node 2 was told a wrong key for node 0 (replica 3's): it cannot complete a handshake.
  ZmqTransportOptions wrong = curve_options(2, endpoints);
  wrong.peers.resize(1);  // node 0 only, so that its peer_connects speak of node 0
  wrong.peers[0].curve_public =
      crypto::curve_public_key(crypto::SecretKey::derive_for_testing("replica", 3).public_key());
  auto node2 = make(std::move(wrong));

  ASSERT_TRUE(node2->send_to_node(0, bytes_of("from the wrong key")));
  ASSERT_TRUE(node1->send_to_node(0, bytes_of("from the right key")));
  const std::vector<Inbound> got = receive_count(*node0, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, "from the right key");
  EXPECT_TRUE(eventually([&] { return node0->zmq_stats().handshake_failures >= 1; }));
  std::vector<Inbound> more;
  EXPECT_EQ(node0->receive(more, 10, 200ms), 0u) << more.front().bytes;
  EXPECT_EQ(node2->stats().peer_connects, 0u);
}

TEST(ZmqTransport, FullInboundQueueDropsNewMessagesAndStaysBounded) {
  constexpr int kSends = 1000;
  constexpr std::size_t kQueueMax = 100;
  ZmqTransportOptions receiver_options;
  receiver_options.bind_endpoint = "tcp://127.0.0.1:*";
  receiver_options.inbound_queue_max = kQueueMax;
  auto receiver = make(std::move(receiver_options));
  ZmqTransportOptions sender_options = client_options(0, receiver->bound_endpoint());
  sender_options.send_hwm_messages = 2 * kSends;  // every message reaches the receiver
  auto sender = make(std::move(sender_options));

  for (int i = 0; i < kSends; ++i)
    ASSERT_TRUE(sender->send_to_node(0, bytes_of(std::to_string(i))));
  ASSERT_TRUE(eventually([&] {
    const TransportStats stats = receiver->stats();
    return stats.received + stats.receive_dropped == kSends;
  }));
  const TransportStats stats = receiver->stats();
  EXPECT_EQ(stats.received, kQueueMax);
  EXPECT_EQ(stats.receive_dropped, kSends - kQueueMax);
  EXPECT_EQ(stats.inbound_queue_depth, kQueueMax);
  std::vector<Inbound> got;
  EXPECT_EQ(receiver->receive(got, 2 * kQueueMax, 0ms), kQueueMax);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].bytes, std::to_string(i));
}

TEST(ZmqTransport, LeastRecentlyUsedConnectionIsForgotten) {
  ZmqTransportOptions server_options;
  server_options.bind_endpoint = "tcp://127.0.0.1:*";
  server_options.connections_max = 2;
  auto server = make(std::move(server_options));
  std::vector<std::unique_ptr<ZmqTransport>> clients;
  std::vector<std::uint64_t> connections;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(make(client_options(0, server->bound_endpoint())));
    ASSERT_TRUE(clients.back()->send_to_node(0, bytes_of("hello")));
    std::vector<Inbound> got = receive_count(*server, 1);
    ASSERT_EQ(got.size(), 1u);
    connections.push_back(got[0].connection);
  }
  EXPECT_EQ(server->stats().connections, 2u);
  ASSERT_TRUE(server->send_to_connection(connections[0], bytes_of("to the forgotten")));
  EXPECT_TRUE(eventually([&] { return server->stats().send_dropped == 1; }));
  ASSERT_TRUE(server->send_to_connection(connections[2], bytes_of("to the newest")));
  EXPECT_EQ(receive_count(*clients[2], 1).size(), 1u);
}

TEST(ZmqTransport, FramesNoTransportSendsAreDroppedAndCounted) {
  ZmqTransportOptions receiver_options;
  receiver_options.bind_endpoint = "tcp://127.0.0.1:*";
  auto receiver = make(std::move(receiver_options));
  RawDealer dealer(receiver->bound_endpoint());
  zmq::socket_t& raw = dealer.socket;
  raw.send(zmq::str_buffer("not an introduction"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("payload"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("one"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("two"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("three"), zmq::send_flags::none);
  raw.send(zmq::str_buffer("N\x07\x00\x00\x00"), zmq::send_flags::sndmore);  // claims node 7
  raw.send(zmq::str_buffer("well formed"), zmq::send_flags::none);

  const std::vector<Inbound> got = receive_count(*receiver, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, "well formed");
  EXPECT_EQ(got[0].node, std::optional<NodeId>(7)) << "claimed, not proved";
  EXPECT_EQ(receiver->zmq_stats().receive_malformed, 2u);
}

TEST(ZmqTransport, SendToSelfLoopsBack) {
  auto node = make(replica_options(0, free_endpoints(2)));
  ASSERT_TRUE(node->send_to_node(0, bytes_of("to me")));
  const std::vector<Inbound> got = receive_count(*node, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, "to me");
  EXPECT_EQ(got[0].connection, ZmqTransport::peer_connection(0));
  EXPECT_EQ(got[0].node, std::optional<NodeId>(0));
}

TEST(ZmqTransport, SendToAnUnknownNodeOrConnectionIsDropped) {
  auto node = make(replica_options(0, free_endpoints(2)));
  EXPECT_FALSE(node->send_to_node(7, bytes_of("nobody")));
  EXPECT_FALSE(node->send_to_connection(ZmqTransport::peer_connection(7), bytes_of("nobody")));
  EXPECT_FALSE(node->send_to_connection(0, bytes_of("nobody")));
  EXPECT_EQ(node->stats().send_dropped, 3u);
}

TEST(ZmqTransport, ConcurrentSendersKeepTheirOrder) {
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  const std::vector<std::string> endpoints = free_endpoints(2);
  ZmqTransportOptions sender_options = replica_options(0, endpoints);
  sender_options.send_hwm_messages = 2 * kThreads * kEach;  // none dropped before connecting
  auto node0 = make(std::move(sender_options));
  auto node1 = make(replica_options(1, endpoints));
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) node0->send_to_node(1, bytes_of(message(t, 1, i)));
    });
  }
  std::vector<Inbound> got = receive_count(*node1, kThreads * kEach);
  for (std::thread& sender : senders) sender.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kThreads * kEach));
  std::map<NodeId, int> next_seq;
  for (const Inbound& in : got) {
    const NodeId from = static_cast<NodeId>(std::stoul(in.bytes));
    ASSERT_EQ(in.bytes, message(from, 1, next_seq[from]++));
  }
}

TEST(ZmqTransport, CreateListsEveryProblemWithTheOptions) {
  ZmqTransportOptions options;
  options.self = 0;
  options.bind_endpoint = "tcp://127.0.0.1:*";
  options.peers = {ZmqPeer{1, "tcp://127.0.0.1:1", std::nullopt},
                   ZmqPeer{1, "tcp://127.0.0.1:2", std::nullopt}};
  options.send_hwm_messages = 0;
  Result<std::unique_ptr<ZmqTransport>> created = ZmqTransport::create(std::move(options));
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("peer 1 is listed twice"), std::string::npos);
  EXPECT_NE(created.error().message.find("send_hwm_messages"), std::string::npos);
}

TEST(ZmqTransport, CreateSaysWhichEndpointCannotBeBound) {
  ZmqTransportOptions first;
  first.bind_endpoint = "tcp://127.0.0.1:*";
  auto holder = make(std::move(first));
  ZmqTransportOptions second;
  second.bind_endpoint = holder->bound_endpoint();
  Result<std::unique_ptr<ZmqTransport>> created = ZmqTransport::create(std::move(second));
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find(holder->bound_endpoint()), std::string::npos)
      << created.error().message;
}

}  // namespace
}  // namespace phalanx::net
