#pragma once
// X25519 keys derived from a node's Ed25519 key (libsodium's birational map), for link
// encryption (CurveZMQ) and MAC key agreement without a second key to distribute.
// CurveSecret is move-only and wiped on destruction, like SecretKey.
// Thread-safety: pure functions.

#include <array>
#include <cstdint>
#include <optional>

#include "phalanx/crypto/keys.h"

namespace phalanx::crypto {

using CurvePublic = std::array<std::uint8_t, 32>;

class CurveSecret {
 public:
  explicit CurveSecret(const std::array<std::uint8_t, 32>& bytes) : bytes_(bytes) {}
  ~CurveSecret();
  CurveSecret(const CurveSecret&) = delete;
  CurveSecret& operator=(const CurveSecret&) = delete;
  CurveSecret(CurveSecret&& other) noexcept;
  CurveSecret& operator=(CurveSecret&& other) noexcept;
  const std::array<std::uint8_t, 32>& array() const { return bytes_; }

 private:
  std::array<std::uint8_t, 32> bytes_{};
};

// nullopt for a point that has no X25519 counterpart (not a valid Ed25519 public key).
std::optional<CurvePublic> curve_public_key(const PublicKey& key);
CurveSecret curve_secret_key(const SecretKey& key);

}  // namespace phalanx::crypto
