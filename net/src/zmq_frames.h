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
// Bundle: 1 to kBundleEntriesMax entries, each a 4-byte little-endian length and that many
// bytes (at least one: empty messages travel alone), kBundleBytesMax in all at most.
// Receivers refuse anything else whole, so that a peer cannot make one small frame cost
// many inbound messages' worth of memory and queue space.
//
// Thread-safety: plain functions and a value type.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/net/transport.h"

namespace phalanx::net {

// A bundle grows to at most this many bytes and entries; a larger message travels alone.
// The bytes bound what a connection's send high-water mark (counted in ZeroMQ messages)
// can hold for a client that does not read: send_hwm_messages times this. The entries
// bound what one received frame can add to the inbound queue.
inline constexpr std::size_t kBundleBytesMax = 16 * 1024;
inline constexpr std::size_t kBundleEntriesMax = 256;
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

// Packs messages into one bundle frame. It collects messages for one bundle and writes it only when
// asked: a message that ends up without company is sent alone as it is, never copied
// (ZmqIo::send_to).
class BundleWriter {
 public:
  // True when a message of `message_bytes` can join the bundle without taking it past its
  // limits (an empty message never can: receivers refuse empty entries).
  bool fits(std::size_t message_bytes) const {
    return message_bytes > 0 && messages_.size() < kBundleEntriesMax &&
           bytes_ + kBundleEntryHeaderBytes + message_bytes <= kBundleBytesMax;
  }
  // Remembers the message, not its bytes: they must stay alive until take() or clear().
  void add(std::string_view message);
  std::size_t count() const { return messages_.size(); }
  // The bundle of what was added; the writer starts afresh.
  std::string take();
  void clear();

 private:
  std::vector<std::string_view> messages_;
  std::size_t bytes_ = 0;  // the bundle's size so far
};

// Calls `each` with every message of `bundle`, in order. False, without any call, when the
// bundle is malformed: empty, over kBundleBytesMax or kBundleEntriesMax, an empty entry,
// or an entry that runs past its end.
bool unpack_bundle(std::string_view bundle, const std::function<void(std::string_view)>& each);

}  // namespace phalanx::net
