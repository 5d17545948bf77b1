#include "phalanx/crypto/session_key_cache.h"

#include "phalanx/base/assert.h"

namespace phalanx::crypto {

SessionKeyCache::SessionKeyCache(SecretKey replica, std::size_t capacity)
    : replica_(std::move(replica)), capacity_(capacity) {
  PHALANX_ASSERT(capacity_ > 0, "a session key cache holds at least one client");
}

std::optional<SessionKeys> SessionKeyCache::keys_for(const PublicKey& client) const {
  std::lock_guard lock(mutex_);
  if (auto found = keys_.find(client); found != keys_.end()) return found->second;
  // Agreed under the lock: two threads asking for one new client agree once.
  auto keys = replica_session_keys(replica_, client);
  if (!keys) return std::nullopt;
  if (keys_.size() >= capacity_) {
    keys_.erase(order_.front());
    order_.pop_front();
  }
  keys_.emplace(client, *keys);
  order_.push_back(client);
  return keys;
}

std::size_t SessionKeyCache::size() const {
  std::lock_guard lock(mutex_);
  return keys_.size();
}

}  // namespace phalanx::crypto
