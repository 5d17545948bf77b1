#pragma once
// MAC authenticators: the cheaper way for a client to authenticate its requests, and for
// replicas to answer it (crypto/mac.h for the keys; wire.h for where they travel).
//
// A MAC-authenticated REQUEST carries no signature but an authenticator: one 16-byte MAC
// per replica, in replica-id order, each over the request's signing digest with the key
// that client shares with that replica. The reply to such a client carries one MAC with
// the key in the other direction. Replicas still sign everything they send each other.
//
// A replica can check only its own entry, so a client may send an authenticator that is
// valid for some replicas and not others. What Phalanx does about it (wire.h, normal_case):
//   - a request received directly is accepted only if this replica's entry is valid;
//   - the primary proposes only requests it accepted that way;
//   - a backup whose entry is invalid for some request of a PRE-PREPARE keeps the batch
//     but does not PREPARE it; it commits and executes the batch only once 2f other
//     backups have prepared it (at least f+1 of them correct, each of which checked its
//     own entry, so the client did send the request);
//   - requests inside certificates (view changes, new views, commit certificates) are not
//     checked again: the 2f+1 signatures of the certificate stand for them.
//   - after a restart, a backup resumes no PREPARE for a batch it cannot vouch for
//     (recovery.cc, resume_votes);
//   - a wrong MAC entry does not get the sender's connection muted (node.cc): it may be a
//     correct replica relaying a lying client's request.
// So a forged request never executes. But a client that lies to k correct replicas, with
// k plus the faulty replicas above f, stalls the batch that carries its request, and every
// batch after it, until a view change. Views whose primary it lied to never propose its
// request, so the honest clients are served there and the liar starves; but the replicas
// that did accept its request keep suspecting such a primary, and may leave the view
// (tests/sim/mac_clients_test.cc: a few view changes in 20 s). One client can thus cost a
// healthy cluster view changes and throughput. That is why signed requests stay the
// default and a cluster accepts MAC clients only when configured to: accept them from
// clients you trust not to attack availability.
//
// Thread-safety: ReplicaMacs is thread-safe (crypto::SessionKeyCache); ClientMacs is
// immutable after construction.

#include <cstddef>
#include <optional>
#include <vector>

#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/mac.h"
#include "phalanx/crypto/session_key_cache.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

// The authenticator's length for n replicas.
inline std::size_t authenticator_size(std::size_t n) {
  return n * crypto::kMacSize;
}

// One replica's side: checks its entry of clients' authenticators and MACs its replies,
// with the keys agreed with each client cached (at most `clients_max` clients' keys).
class ReplicaMacs {
 public:
  ReplicaMacs(ReplicaId self, crypto::SecretKey key, std::size_t clients_max = 4096)
      : self_(self), keys_(std::move(key), clients_max) {}

  ReplicaId self() const { return self_; }
  // True when entry `self` of `authenticator` is `client`'s MAC of `digest` for this
  // replica. False for an authenticator of the wrong size or a key with no curve point.
  bool entry_matches(const crypto::PublicKey& client, const crypto::Digest& digest,
                     ByteView authenticator, std::size_t n) const;
  // The MAC that authenticates a reply with signing digest `digest` to `client`; nullopt
  // for a client key with no curve point (such a client cannot have sent a valid request).
  std::optional<crypto::Mac> reply_mac(const crypto::PublicKey& client,
                                       const crypto::Digest& digest) const;

 private:
  ReplicaId self_;
  crypto::SessionKeyCache keys_;
};

// A client's side: its keys with every replica, agreed once.
class ClientMacs {
 public:
  // nullopt when some replica's key has no curve point (not a usable cluster).
  static std::optional<ClientMacs> agree(const crypto::SecretKey& client,
                                         const std::vector<crypto::PublicKey>& replicas);

  std::size_t replicas() const { return keys_.size(); }
  // One MAC per replica, in replica-id order: authenticator_size(n) bytes.
  Bytes authenticator(const crypto::Digest& digest) const;
  bool reply_matches(ReplicaId replica, const crypto::Digest& digest, ByteView mac) const;

 private:
  explicit ClientMacs(std::vector<crypto::SessionKeys> keys) : keys_(std::move(keys)) {}
  std::vector<crypto::SessionKeys> keys_;  // index = replica id
};

}  // namespace phalanx::pbft
