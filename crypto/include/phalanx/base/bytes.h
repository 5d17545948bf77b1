#pragma once
// Byte strings. Wire data is held in std::string because protobuf's `bytes` fields are
// std::string: one representation end to end means no copies at the protobuf boundary.

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace phalanx {

using Bytes = std::string;          // owned bytes (not text)
using ByteView = std::string_view;  // borrowed bytes (not text)

inline ByteView as_bytes(std::span<const std::uint8_t> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// Orders two fixed-size byte arrays as memcmp would (lexicographically), eight bytes at a
// time and inline. Keys and digests key ordered maps on the message path; the defaulted
// comparison of std::array calls memcmp for each step of each lookup, which profiles
// showed at ~5% of a replica's CPU.
template <std::size_t N>
  requires(N % 8 == 0)
std::strong_ordering compare_bytes(const std::array<std::uint8_t, N>& a,
                                   const std::array<std::uint8_t, N>& b) {
  for (std::size_t at = 0; at < N; at += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a.data() + at, 8);
    std::memcpy(&y, b.data() + at, 8);
    if (x == y) continue;
    if constexpr (std::endian::native == std::endian::little) {
      x = __builtin_bswap64(x);  // the first byte decides first, as in memcmp
      y = __builtin_bswap64(y);
    }
    return x <=> y;
  }
  return std::strong_ordering::equal;
}

// Lower-case hex, for keys in config files and digests in logs.
std::string to_hex(ByteView data);
// Decodes hex (either case); nullopt on odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view text);

}  // namespace phalanx
