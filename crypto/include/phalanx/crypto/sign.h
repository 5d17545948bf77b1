#pragma once
// Ed25519 signatures with domain separation.
//
// What is signed is never raw bytes but a BLAKE2b-256 digest of
//   ("phalanx", protocol version, message kind context, cluster id, payload),
// each field length-prefixed. A signature therefore cannot be replayed into another
// cluster, reinterpreted as another message kind, or carried to another protocol
// version. The payload is the exact serialized bytes that travel (protobuf encoding is
// not canonical, so nothing is ever re-encoded before verifying).
//
// Thread-safety: pure functions; Signer is immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>

#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::crypto {

inline constexpr std::uint32_t kProtocolVersion = 1;

// Where a signature is valid: one cluster and one message kind.
struct Domain {
  std::string_view cluster_id;  // from the cluster config; at most kClusterIdMax bytes
  std::string_view context;     // one per message kind, e.g. "pre-prepare"
};
inline constexpr std::size_t kClusterIdMax = 64;

Digest signing_digest(const Domain& domain, ByteView payload);

class Signer {
 public:
  explicit Signer(SecretKey key) : key_(std::move(key)) {}
  const PublicKey& public_key() const { return key_.public_key(); }
  Signature sign(const Domain& domain, ByteView payload) const;
  Signature sign_digest(const Digest& digest) const;

 private:
  SecretKey key_;
};

bool verify(const PublicKey& key, const Domain& domain, ByteView payload,
            const Signature& signature);
bool verify_digest(const PublicKey& key, const Digest& digest, const Signature& signature);

}  // namespace phalanx::crypto
