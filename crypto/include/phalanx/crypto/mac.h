#pragma once
// Pairwise MACs between a client and a replica, for clients that authenticate requests
// with a MAC per replica instead of one signature (PBFT's authenticators).
//
// The keys are agreed, not distributed: both sides already hold Ed25519 keys, which map to
// X25519 keys (curve.h), and libsodium's crypto_kx turns the two into a pair of session
// keys, one per direction. The client computes them with its secret key and the replica's
// public key, the replica with its secret key and the client's public key; nobody else can.
// A MAC is keyed BLAKE2b-128 over a 32-byte signing digest (sign.h), so it covers the same
// domain (cluster, kind, protocol version) a signature would.
//
// Unlike a signature a MAC convinces only its one receiver: a replica cannot show a third
// party that a client sent a request. What that means for the protocol is in wire.h.
//
// Thread-safety: values and pure functions.

#include <array>
#include <cstdint>
#include <optional>

#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::crypto {

// A 32-byte session key, wiped on destruction. Copyable: a replica's cache and the
// authenticator code both hold them.
class MacKey {
 public:
  static constexpr std::size_t kSize = 32;
  explicit MacKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  ~MacKey();
  MacKey(const MacKey& other) = default;
  MacKey& operator=(const MacKey& other) = default;
  const std::array<std::uint8_t, kSize>& array() const { return bytes_; }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

inline constexpr std::size_t kMacSize = 16;
using Mac = std::array<std::uint8_t, kMacSize>;

// The two keys one client shares with one replica.
struct SessionKeys {
  MacKey to_replica;  // requests: the client MACs, the replica checks
  MacKey to_client;   // replies: the replica MACs, the client checks
};

// nullopt when the peer's public key has no X25519 counterpart or is a low-order point:
// nothing can be agreed with it.
std::optional<SessionKeys> client_session_keys(const SecretKey& client, const PublicKey& replica);
std::optional<SessionKeys> replica_session_keys(const SecretKey& replica, const PublicKey& client);

Mac mac_of(const MacKey& key, const Digest& digest);
// Constant-time comparison; false for a `mac` of the wrong length.
bool mac_matches(const MacKey& key, const Digest& digest, ByteView mac);

}  // namespace phalanx::crypto
