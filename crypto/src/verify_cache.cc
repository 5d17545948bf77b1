#include "phalanx/crypto/verify_cache.h"

#include <cstring>

#include "phalanx/crypto/sign.h"

namespace phalanx::crypto {

std::size_t VerifyCache::Hash::operator()(const Digest& digest) const {
  std::size_t value;
  std::memcpy(&value, digest.array().data(), sizeof value);  // a digest is uniform already
  return value;
}

bool VerifyCache::verify(const PublicKey& key, const Digest& digest, const Signature& signature) {
  Digest entry = Hasher().update(key.view()).update(digest.view()).update(signature.view()).finish();
  {
    std::lock_guard lock(mutex_);
    if (valid_.count(entry) != 0) {
      ++hits_;
      return true;
    }
    ++misses_;
  }
  if (!verify_digest(key, digest, signature)) return false;
  std::lock_guard lock(mutex_);
  if (valid_.insert(entry).second) order_.push_back(entry);
  if (valid_.size() > capacity_) {
    for (std::size_t i = 0; i < capacity_ / 2; ++i) {
      valid_.erase(order_.front());
      order_.pop_front();
    }
  }
  return true;
}

std::uint64_t VerifyCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t VerifyCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace phalanx::crypto
