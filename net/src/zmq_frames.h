#pragma once
// The frames of one ZeroMQ message that a ZmqTransport sends: an optional header frame,
// then the payload frame, which holds one message or a bundle of several.
//
// Why bundles: each ZeroMQ message costs a trip through both ends' I/O threads, socket
// calls and, with CurveZMQ, a box per frame; on this project's 2-core machine an unbatched
// message costs tens of times a streamed one. Messages to the same destination that leave
// in the same turn of the I/O loop therefore share one ZeroMQ message. Nothing waits to
// fill a bundle: only what is already queued is bundled, so latency is unchanged.
//
// Header frame (absent for a client's or a ROUTER's single message):
//   'N' id   a replica's single message (id: 4 bytes little-endian, the introduction)
//   'B' id   a replica's bundle
//   'B'      a bundle from a client or a ROUTER (no id)
// Bundle: one or more entries, each a 4-byte little-endian length and that many bytes.
//
// Thread-safety: plain functions and a value type.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "phalanx/net/transport.h"

namespace phalanx::net {

// A bundle grows to at most this many bytes; a larger message travels alone. Small enough
// that a slow peer's send high-water mark (counted in ZeroMQ messages) holds no more memory
// than it would with single messages of the transport's size limit.
inline constexpr std::size_t kBundleBytesMax = 64 * 1024;
inline constexpr std::size_t kBundleEntryHeaderBytes = 4;

struct FrameHeader {
  std::optional<NodeId> node;  // the sender's claimed id (a replica's introduction)
  bool bundle = false;
};

// The header frame for a message from `self` (nullopt: a client, or a ROUTER's answer);
// empty when none is sent (a single message without an introduction).
std::string header_frame(std::optional<NodeId> self, bool bundle);
// nullopt when `frame` is no header this transport sends.
std::optional<FrameHeader> parse_header(std::string_view frame);

// Packs messages into one bundle frame.
class BundleWriter {
 public:
  // True when `message` can join the bundle without taking it past kBundleBytesMax.
  bool fits(std::size_t message_bytes) const {
    return bytes_.size() + kBundleEntryHeaderBytes + message_bytes <= kBundleBytesMax;
  }
  void add(std::string_view message);
  std::size_t count() const { return count_; }
  // The bundle so far; the writer starts afresh.
  std::string take();

 private:
  std::string bytes_;
  std::size_t count_ = 0;
};

// Calls `each` with every message of `bundle`, in order. False, without any call, when the
// bundle is malformed (empty, or an entry that runs past its end).
bool unpack_bundle(std::string_view bundle, const std::function<void(std::string_view)>& each);

}  // namespace phalanx::net
