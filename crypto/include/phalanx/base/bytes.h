#pragma once
// Byte strings. Wire data is held in std::string because protobuf's `bytes` fields are
// std::string: one representation end to end means no copies at the protobuf boundary.

#include <cstdint>
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

// Lower-case hex, for keys in config files and digests in logs.
std::string to_hex(ByteView data);
// Decodes hex (either case); nullopt on odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view text);

}  // namespace phalanx
