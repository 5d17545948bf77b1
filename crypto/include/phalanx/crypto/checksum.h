#pragma once
// 64-bit checksums that detect damaged bytes on disk (torn writes, flipped bits). Not a
// cryptographic commitment: 64 bits suffice to catch accidents, not an adversary who
// can write to the disk (that one owns the replica anyway).
//
// The checksum is BLAKE2b with a 16-byte output (libsodium's minimum), keyed with the
// public constant "phalanx checksum" so that a checksum can never be mistaken for a
// digest computed elsewhere (domain separation, not a secret), folded to 64 bits by
// XOR-ing its two little-endian halves.
// Thread-safety: checksum64 is pure; one Checksum64 is used by one thread.

#include <cstdint>

#include "phalanx/base/bytes.h"

namespace phalanx::crypto {

std::uint64_t checksum64(ByteView data);

// Incremental form, for data too large to copy into one buffer (a snapshot file):
// update() over pieces gives the checksum64 of their concatenation.
class Checksum64 {
 public:
  Checksum64();
  Checksum64& update(ByteView data);
  std::uint64_t finish();

 private:
  alignas(64) unsigned char state_[384];  // crypto_generichash_state (opaque, 384 bytes)
  bool finished_ = false;
};

}  // namespace phalanx::crypto
