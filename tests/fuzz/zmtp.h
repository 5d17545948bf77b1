#pragma once
// The ZMTP byte layout fuzz_transport_frames relies on: encoders for its seeds, and the two
// measurements its harness needs to write a stream the way a libzmq peer would.
//
// ZMTP 3.x (rfc.zeromq.org/spec/23, ZMTP 3.0; 3.1, spec 37, adds PING and PONG and is what
// libzmq 4.3 speaks):
//   greeting, 64 bytes: 0xFF, 8 bytes of padding, 0x7F (the signature; libzmq reads a peer
//     without it as ZMTP 1.0), version 3 and minor 0 or 1, the mechanism "NULL" padded with
//     zeros to 20 bytes, as-server 0, 31 bytes of zeros;
//   then frames: a flags byte (bit 0 MORE: another frame of the message follows; bit 1 LONG:
//     the size is 8 bytes, big-endian, else 1 byte; bit 2 COMMAND), the size, the body;
//   the NULL handshake: each side sends a READY command whose body is 5, "READY", then
//     properties, each a 1-byte name size, the name, a 4-byte big-endian value size, the
//     value: "Socket-Type" = "DEALER", and optionally "Identity", which a ROUTER takes as the
//     routing id. Messages follow the handshake.
// Older peers, which libzmq still accepts: ZMTP 2.0 (spec 15) sends the signature, the
// revision 1 and its socket type (DEALER: 5), then the same frames as 3.x, the routing id as
// the first message; ZMTP 1.0 (spec 13) has no greeting, and each frame is a size (1 byte,
// or 0xFF and 8 bytes) that counts the flags byte which follows it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "phalanx/base/bytes.h"

namespace phalanx::fuzz::zmtp {

inline constexpr std::size_t kGreetingBytes = 64;
inline constexpr std::uint8_t kMore = 0x01;
inline constexpr std::uint8_t kLong = 0x02;
inline constexpr std::uint8_t kCommand = 0x04;

inline Bytes big_endian(std::uint64_t value, int bytes) {
  Bytes out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(value >> (8 * i)));
  return out;
}

inline Bytes greeting(std::uint8_t minor) {
  Bytes bytes(kGreetingBytes, '\0');
  bytes[0] = '\xff';
  bytes[9] = '\x7f';
  bytes[10] = 3;
  bytes[11] = static_cast<char>(minor);
  bytes.replace(12, 4, "NULL");
  return bytes;
}

// A frame header claiming `size` bytes, in the short form unless it needs the long one or
// `flags` asks for it.
inline Bytes header(std::uint8_t flags, std::uint64_t size) {
  if (size <= 255 && (flags & kLong) == 0)
    return Bytes(1, static_cast<char>(flags)) + big_endian(size, 1);
  return Bytes(1, static_cast<char>(flags | kLong)) + big_endian(size, 8);
}

inline Bytes frame(std::uint8_t flags, ByteView body) {
  return header(flags, body.size()) + Bytes(body);
}

inline Bytes property(std::string_view name, std::string_view value) {
  return Bytes(1, static_cast<char>(name.size())) + Bytes(name) + big_endian(value.size(), 4) +
         Bytes(value);
}

inline Bytes ready(std::string_view identity = {}) {
  Bytes body = "\x05READY" + property("Socket-Type", "DEALER");
  if (!identity.empty()) body += property("Identity", identity);
  return frame(kCommand, body);
}

// The body size a frame header (flags byte and size) claims.
inline std::uint64_t claimed_size(ByteView header) {
  std::uint64_t size = 0;
  for (char byte : header.substr(1)) size = size << 8 | static_cast<std::uint8_t>(byte);
  return size;
}

// How many bytes of `stream` the frame at its start takes, header and body; 0 when the
// stream ends first.
inline std::size_t frame_bytes(ByteView stream) {
  if (stream.empty()) return 0;
  const std::size_t header_bytes = (static_cast<std::uint8_t>(stream[0]) & kLong) != 0 ? 9 : 2;
  if (stream.size() < header_bytes) return 0;
  const std::uint64_t body = claimed_size(stream.substr(0, header_bytes));
  if (body > stream.size() - header_bytes) return 0;
  return header_bytes + static_cast<std::size_t>(body);
}

// The greeting and first frame (the READY command) of a ZMTP 3 stream, as libzmq tells
// one: the signature's first byte, the low bit of its last, the major version. 0 for
// anything else, or when the stream ends before the first frame does.
inline std::size_t handshake_bytes(ByteView stream) {
  if (stream.size() < kGreetingBytes || static_cast<std::uint8_t>(stream[0]) != 0xff ||
      (stream[9] & 1) == 0 || static_cast<std::uint8_t>(stream[10]) < 3)
    return 0;
  const std::size_t ready_bytes = frame_bytes(stream.substr(kGreetingBytes));
  return ready_bytes == 0 ? 0 : kGreetingBytes + ready_bytes;
}

}  // namespace phalanx::fuzz::zmtp
