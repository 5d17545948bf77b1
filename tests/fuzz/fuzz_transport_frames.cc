// libFuzzer target: what net::ZmqTransport does with the bytes a peer sends it over TCP:
// libzmq's ZMTP engine behind the transport's ROUTER (greeting, handshake, frame headers),
// then zmq_io.cc's reading of each message (routing id, header frame, payload or bundle).
//
// One transport, created on the first input and kept, listens as replica 0 on 127.0.0.1,
// at the first free port of 24900..24999, in plaintext: CurveZMQ would stop every input at
// the handshake. For each input the harness connects, writes the input, half-closes and
// reads until the transport closes its end: libzmq has then read every byte and either
// handed the messages to the ROUTER or refused the stream. A client transport then sends a
// marker message, and the harness drains what the listener received until the marker
// arrives: whatever the input was, a well-behaved peer is still served afterwards.
//
// A ZMTP 3 input is written in two parts, as a libzmq peer would send it: the greeting and
// the first frame (the READY command), then, once the transport's own greeting and READY
// have come back, the rest. libzmq takes messages only once it has sent its READY; messages
// that arrive with the peer's READY, before that, it refuses as unexpected commands.
//
// Properties: nothing crashes (ASan, UBSan); no message over message_bytes_max is ever
// delivered; a frame header that claims more than message_bytes_max is refused before
// anything of that size is allocated: fuzz_transport_frames.options runs the target with
// -malloc_limit_mb above kMessageBytesMax, so one allocation of a claimed size (2^40 bytes
// in the seeds) is a finding. libzmq is not instrumented for coverage: the seeds are what
// lead the fuzzer into each of its paths.
//
// The ZMTP layout it relies on is in zmtp.h. A replica's message is two frames, the
// header with MORE ('N', or 'B' for a bundle, and its id in 4 bytes little-endian:
// net/src/zmq_frames.h) and the payload; a client's is the payload alone, or a 'B' header
// and a bundle (entries of a 4-byte little-endian length and that many bytes).
//
// Seeds (tests/fuzz/corpus/fuzz_transport_frames), written by this target itself:
//   PHALANX_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_transport_frames \
//       build/fuzz/tests/fuzz/fuzz_transport_frames -runs=0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "phalanx/net/zmq_transport.h"
#include "zmtp.h"

namespace {

using namespace phalanx;
namespace zmtp = phalanx::fuzz::zmtp;

// Far below the -malloc_limit_mb of fuzz_transport_frames.options (64 MiB).
constexpr std::size_t kMessageBytesMax = std::size_t{1} << 20;
constexpr int kPortFirst = 24900;
constexpr int kPortLast = 24999;
constexpr net::NodeId kListenerId = 0;
constexpr std::size_t kReceiveBatch = 256;
constexpr auto kReceiveWait = std::chrono::milliseconds(100);
// Bounds on waits that take a millisecond on an idle machine; reached only when something
// is stuck.
constexpr time_t kCloseWaitS = 5;
constexpr auto kMarkerWait = std::chrono::seconds(10);
constexpr std::size_t kHandshakeFrameBytesMax = 4096;  // libzmq's READY is under 100 bytes

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_transport_frames: %s\n", what);
  __builtin_trap();
}

net::ZmqTransportOptions listener_options(int port) {
  net::ZmqTransportOptions options;
  options.self = kListenerId;
  options.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(port);
  options.message_bytes_max = kMessageBytesMax;
  return options;
}

void write_all(int fd, ByteView bytes) {
  while (!bytes.empty()) {
    const ssize_t written = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written <= 0) return;  // the transport refused the stream and closed: fine
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void read_to_end(int fd) {
  char buffer[4096];
  while (recv(fd, buffer, sizeof buffer, 0) > 0) {
  }
}

// False when the transport closed (or stayed silent) before `size` bytes came.
bool read_exactly(int fd, std::size_t size, Bytes& out) {
  out.resize(size);
  for (std::size_t done = 0; done < size;) {
    const ssize_t got = recv(fd, out.data() + done, size - done, 0);
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// Reads the transport's greeting and its first frame (its READY, or an ERROR).
void await_handshake(int fd) {
  Bytes greeting, size, body;
  if (!read_exactly(fd, zmtp::kGreetingBytes + 1, greeting)) return;
  const bool long_size = (static_cast<std::uint8_t>(greeting.back()) & zmtp::kLong) != 0;
  if (!read_exactly(fd, long_size ? 8 : 1, size)) return;
  const std::uint64_t body_bytes = zmtp::claimed_size(greeting.substr(zmtp::kGreetingBytes) + size);
  if (body_bytes <= kHandshakeFrameBytesMax) read_exactly(fd, body_bytes, body);
}

class Harness {
 public:
  Harness() {
    for (int port = kPortFirst; port <= kPortLast && listener_ == nullptr; ++port) {
      auto made = net::ZmqTransport::create(listener_options(port));
      if (!made.ok()) continue;  // taken, by another fuzzing process perhaps
      listener_ = std::move(made).value();
      port_ = port;
    }
    require(listener_ != nullptr, "no free port in 24900..24999");
    net::ZmqTransportOptions client;
    client.peers.push_back(net::ZmqPeer{kListenerId, listener_->bound_endpoint(), {}});
    auto made = net::ZmqTransport::create(std::move(client));
    require(made.ok(), "cannot create the client transport");
    client_ = std::move(made).value();
  }

  void feed(ByteView input) {
    send_over_tcp(input);
    drain();
  }

 private:
  void send_over_tcp(ByteView input) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    require(fd >= 0, "socket() failed");
    const timeval wait{kCloseWaitS, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    require(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0,
            "cannot connect to the transport");
    const std::size_t handshake = zmtp::handshake_bytes(input);
    write_all(fd, input.substr(0, handshake));
    if (handshake > 0) await_handshake(fd);
    write_all(fd, input.substr(handshake));
    shutdown(fd, SHUT_WR);
    read_to_end(fd);
    close(fd);
  }

  // The marker goes out after the input's connection closed, so libzmq queued whatever
  // that input produced before it: draining up to the marker takes all of it (or nearly:
  // the ROUTER takes from its connections in turn; a rest is drained with the next input).
  void drain() {
    const std::string marker = "phalanx-fuzz-marker-" + std::to_string(++markers_sent_);
    require(client_->send_to_node(kListenerId, std::make_shared<const std::string>(marker)),
            "the client transport dropped the marker");
    const auto deadline = std::chrono::steady_clock::now() + kMarkerWait;
    bool marker_seen = false;
    while (!marker_seen) {
      require(std::chrono::steady_clock::now() < deadline,
              "the transport stopped delivering a well-behaved client's messages");
      inbound_.clear();
      listener_->receive(inbound_, kReceiveBatch, kReceiveWait);
      for (const net::Inbound& message : inbound_) {
        require(message.bytes.size() <= kMessageBytesMax, "delivered a message over the limit");
        require(message.connection != 0 &&
                    (message.connection & net::ZmqTransport::kPeerConnectionBit) == 0,
                "a ROUTER message without a ROUTER connection id");
        marker_seen = marker_seen || message.bytes == marker;
      }
    }
  }

  int port_ = 0;
  std::unique_ptr<net::ZmqTransport> listener_;
  std::unique_ptr<net::ZmqTransport> client_;  // a well-behaved peer, sending the markers
  std::uint64_t markers_sent_ = 0;
  std::vector<net::Inbound> inbound_;
};

// --- seeds -------------------------------------------------------------------------------

constexpr std::uint64_t kClaimedBytesHuge = std::uint64_t{1} << 40;

Bytes introduction(net::NodeId node) {
  Bytes body = "N";
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(node >> (8 * i)));
  return zmtp::frame(zmtp::kMore, body);
}

Bytes bundle_header(std::optional<net::NodeId> node) {
  Bytes body = "B";
  if (node)
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(*node >> (8 * i)));
  return zmtp::frame(zmtp::kMore, body);
}

Bytes bundle(const std::vector<Bytes>& entries) {
  Bytes body;
  for (const Bytes& entry : entries) {
    for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>(entry.size() >> (8 * i)));
    body += entry;
  }
  return zmtp::frame(0, body);
}

std::vector<std::pair<std::string, Bytes>> seed_streams() {
  using namespace zmtp;
  const Bytes handshake = greeting(1) + ready();
  const Bytes payload = frame(0, "a signed envelope would be here");
  const Bytes huge = header(0, kClaimedBytesHuge) + "and a few bytes";
  return {
      {"replica-message", greeting(0) + ready() + introduction(2) + payload},
      {"client-message", handshake + payload},
      {"client-identity-messages",
       greeting(1) + ready("fuzz-client") + payload + introduction(1) + frame(0, "second")},
      {"replica-long-frame", handshake + introduction(3) + frame(kLong, Bytes(300, 'x'))},
      {"oversized-message", handshake + huge},
      {"oversized-after-introduction", handshake + introduction(2) + huge},
      {"oversized-command", greeting(1) + header(kCommand, kClaimedBytesHuge) + "\x05READY"},
      {"oversized-by-one", handshake + header(kLong, kMessageBytesMax + 1) + "x"},
      // ZMTP 2.0: the padding says 1 (an empty routing id, for ZMTP 1.0 peers), revision 1,
      // DEALER; the empty routing id; a message.
      {"zmtp2-message",
       "\xff" + big_endian(1, 8) + "\x7f\x01\x05" + frame(0, "") + introduction(2) + payload},
      // ZMTP 1.0: the empty routing id (size 1: the flags byte alone), then "hello".
      {"zmtp1-message", Bytes("\x01\x00", 2) + Bytes("\x06\x00hello", 7)},
      {"zmtp1-oversized", "\xff" + big_endian(kClaimedBytesHuge, 8) + Bytes(1, '\0') + "x"},
      {"replica-bundle", handshake + bundle_header(2) + bundle({"first", "second", "third"})},
      {"client-bundle", handshake + bundle_header(std::nullopt) + bundle({"one", "two"})},
      {"bundle-entry-past-end",
       handshake + bundle_header(1) + frame(0, Bytes("\x10\0\0\0short", 9))},
      {"bundle-empty", handshake + bundle_header(std::nullopt) + frame(0, "")},
  };
}

void write_seeds(const std::string& dir) {
  for (const auto& [name, stream] : seed_streams()) {
    std::ofstream file(dir + "/" + name, std::ios::binary | std::ios::trunc);
    file << stream;
    require(static_cast<bool>(file), "cannot write a seed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("PHALANX_FUZZ_WRITE_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Never destroyed: its threads serve every input until the process exits.
  static Harness& harness = *new Harness();
  harness.feed(ByteView(reinterpret_cast<const char*>(data), size));
  return 0;
}
