#include "phalanx/crypto/curve.h"

#include <sodium.h>

#include "phalanx/base/assert.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

CurveSecret::~CurveSecret() { sodium_memzero(bytes_.data(), bytes_.size()); }
CurveSecret::CurveSecret(CurveSecret&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}
CurveSecret& CurveSecret::operator=(CurveSecret&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

std::optional<CurvePublic> curve_public_key(const PublicKey& key) {
  ensure_sodium_initialized();
  CurvePublic out;
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), key.array().data()) != 0)
    return std::nullopt;
  return out;
}

CurveSecret curve_secret_key(const SecretKey& key) {
  ensure_sodium_initialized();
  std::array<std::uint8_t, 32> out;
  PHALANX_ASSERT(crypto_sign_ed25519_sk_to_curve25519(out.data(), key.secret_.data()) == 0,
                 "Ed25519 secret key has no X25519 counterpart");
  CurveSecret secret(out);
  sodium_memzero(out.data(), out.size());
  return secret;
}

}  // namespace phalanx::crypto
