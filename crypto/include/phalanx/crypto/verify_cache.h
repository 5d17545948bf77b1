#pragma once
// A memory of signatures already found valid, so that a signature is checked once per
// process however often it arrives: duplicates, retransmissions, and the same PREPARE
// inside many certificates. Only successes are remembered (a forged signature costs its
// sender a verification each time, which rate limits bound elsewhere).
//
// A key is BLAKE2b(public key, signing digest, signature): a hit means this exact
// (key, message, signature) verified before. Bounded: when `capacity` entries are held,
// the older half is forgotten.
// Thread-safety: all methods may be called concurrently (one mutex).

#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>

#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::crypto {

class VerifyCache {
 public:
  explicit VerifyCache(std::size_t capacity = 1 << 20) : capacity_(capacity) {}

  // Same answer as verify_digest(key, digest, signature).
  bool verify(const PublicKey& key, const Digest& digest, const Signature& signature);

  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Hash {
    std::size_t operator()(const Digest& digest) const;
  };

  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_set<Digest, Hash> valid_;  // guarded by mutex_
  std::deque<Digest> order_;                // guarded by mutex_; insertion order, for eviction
  std::uint64_t hits_ = 0;                  // guarded by mutex_
  std::uint64_t misses_ = 0;                // guarded by mutex_
};

}  // namespace phalanx::crypto
