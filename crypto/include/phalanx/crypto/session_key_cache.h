#pragma once
// One replica's session keys with its MAC clients (mac.h), agreed on first use and
// remembered: an agreement costs an X25519 multiplication, about a signature check, and a
// client sends many requests. Bounded: holding `capacity` clients' keys, it forgets them
// all (the next request of each costs one agreement again, no more than a signed one).
// Thread-safety: all methods may be called concurrently (one mutex).

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>

#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/mac.h"

namespace phalanx::crypto {

class SessionKeyCache {
 public:
  SessionKeyCache(SecretKey replica, std::size_t capacity);

  // replica_session_keys(replica, client), remembered; nullopt for a client key without a
  // curve point (never remembered).
  std::optional<SessionKeys> keys_for(const PublicKey& client) const;
  std::size_t size() const;

 private:
  SecretKey replica_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::map<PublicKey, SessionKeys> keys_;  // guarded by mutex_
};

}  // namespace phalanx::crypto
