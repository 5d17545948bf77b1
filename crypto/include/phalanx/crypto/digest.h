#pragma once
// BLAKE2b-256 digests. Digest is a value type distinct from keys and signatures, so that
// the compiler rejects passing one where another is meant.
// Thread-safety: all functions are pure and may be called from any thread.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "phalanx/base/bytes.h"

namespace phalanx::crypto {

class Digest {
 public:
  static constexpr std::size_t kSize = 32;

  Digest() = default;  // all zero; not the digest of anything in practice
  explicit Digest(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  // nullopt unless `bytes` is exactly kSize long.
  static std::optional<Digest> from_bytes(ByteView bytes);

  const std::array<std::uint8_t, kSize>& array() const { return bytes_; }
  ByteView view() const { return as_bytes(bytes_); }
  Bytes bytes() const { return Bytes(view()); }
  std::string hex() const { return to_hex(view()); }
  // First 8 hex characters, for logs.
  std::string short_hex() const { return hex().substr(0, 8); }

  std::strong_ordering operator<=>(const Digest& other) const {
    return compare_bytes(bytes_, other.bytes_);
  }
  bool operator==(const Digest&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// Incremental BLAKE2b-256. Feed length-prefixed fields (update_field) wherever the
// boundaries between fields matter, so that ("ab","c") and ("a","bc") differ.
class Hasher {
 public:
  Hasher();
  Hasher& update(ByteView data);
  Hasher& update_u64(std::uint64_t value);  // little-endian, 8 bytes
  Hasher& update_field(ByteView data);      // u64 length, then the bytes
  Digest finish();

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state (opaque, 384 bytes)
  bool finished_ = false;
};

Digest blake2b(ByteView data);

}  // namespace phalanx::crypto
