#pragma once
// One replica's session keys with its MAC clients (mac.h), agreed on first use and
// remembered: an agreement costs an X25519 multiplication, about a signature check, and a
// client sends many requests. Bounded: holding `capacity` clients' keys, it forgets the
// client it met first (whose next request costs one agreement again, no more than a signed
// one), so a stream of new client keys pushes out old ones one at a time.
// Thread-safety: all methods may be called concurrently (one mutex).

#include <cstddef>
#include <deque>
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
  mutable std::deque<PublicKey> order_;            // guarded by mutex_; oldest first
};

}  // namespace phalanx::crypto
