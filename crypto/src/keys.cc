#include "phalanx/crypto/keys.h"

#include <sodium.h>

#include <cstring>

#include "phalanx/base/assert.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

static_assert(crypto_sign_PUBLICKEYBYTES == PublicKey::kSize);
static_assert(crypto_sign_BYTES == Signature::kSize);
static_assert(crypto_sign_SEEDBYTES == Seed::kSize);
static_assert(crypto_sign_SECRETKEYBYTES == 64);

namespace {
template <typename T, std::size_t N>
std::optional<T> from_exact(ByteView bytes) {
  if (bytes.size() != N) return std::nullopt;
  std::array<std::uint8_t, N> array;
  std::memcpy(array.data(), bytes.data(), N);
  return T(array);
}
}  // namespace

std::optional<PublicKey> PublicKey::from_bytes(ByteView bytes) {
  return from_exact<PublicKey, kSize>(bytes);
}

std::optional<PublicKey> PublicKey::from_hex(std::string_view hex) {
  auto bytes = phalanx::from_hex(hex);
  if (!bytes) return std::nullopt;
  return from_bytes(*bytes);
}

std::optional<Signature> Signature::from_bytes(ByteView bytes) {
  return from_exact<Signature, kSize>(bytes);
}

Seed::~Seed() { sodium_memzero(bytes_.data(), bytes_.size()); }
Seed::Seed(Seed&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}
Seed& Seed::operator=(Seed&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

SecretKey::~SecretKey() { sodium_memzero(secret_.data(), secret_.size()); }
SecretKey::SecretKey(SecretKey&& other) noexcept
    : secret_(other.secret_), public_key_(other.public_key_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
}
SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    public_key_ = other.public_key_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
  }
  return *this;
}

SecretKey SecretKey::from_seed(const Seed& seed) {
  ensure_sodium_initialized();
  SecretKey key;
  std::array<std::uint8_t, PublicKey::kSize> public_bytes;
  crypto_sign_seed_keypair(public_bytes.data(), key.secret_.data(), seed.array().data());
  key.public_key_ = PublicKey(public_bytes);
  return key;
}

SecretKey SecretKey::generate() {
  ensure_sodium_initialized();
  std::array<std::uint8_t, Seed::kSize> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  Seed seed(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return from_seed(seed);
}

SecretKey SecretKey::derive_for_testing(std::string_view label, std::uint64_t index) {
  Digest digest = Hasher().update_field("phalanx/test-key").update_field(label).update_u64(index)
                      .finish();
  return from_seed(Seed(digest.array()));
}

SecretKey SecretKey::clone() const {
  SecretKey copy;
  copy.secret_ = secret_;
  copy.public_key_ = public_key_;
  return copy;
}

SecretKey SecretKey::derive_child(std::uint64_t index) const {
  Seed parent = seed_of(*this);
  Digest digest = Hasher()
                      .update_field("phalanx/child-key")
                      .update(as_bytes(parent.array()))
                      .update_u64(index)
                      .finish();
  return from_seed(Seed(digest.array()));
}

Seed seed_of(const SecretKey& key) {
  std::array<std::uint8_t, Seed::kSize> bytes;
  crypto_sign_ed25519_sk_to_seed(bytes.data(), key.secret_.data());
  Seed seed(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return seed;
}

}  // namespace phalanx::crypto
