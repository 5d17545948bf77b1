#pragma once
// Ed25519 keys and signatures as strong types.
// SecretKey is move-only, wiped with sodium_memzero on destruction, and has no way to be
// printed or formatted: the only way its bytes leave it is write_secret_key_file().
// Thread-safety: values; const methods may be called concurrently.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "phalanx/base/bytes.h"

namespace phalanx::crypto {

class PublicKey {
 public:
  static constexpr std::size_t kSize = 32;

  PublicKey() = default;
  explicit PublicKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  static std::optional<PublicKey> from_bytes(ByteView bytes);
  static std::optional<PublicKey> from_hex(std::string_view hex);

  const std::array<std::uint8_t, kSize>& array() const { return bytes_; }
  ByteView view() const { return as_bytes(bytes_); }
  Bytes bytes() const { return Bytes(view()); }
  std::string hex() const { return to_hex(view()); }
  std::string short_hex() const { return hex().substr(0, 8); }

  std::strong_ordering operator<=>(const PublicKey& other) const {
    return compare_bytes(bytes_, other.bytes_);
  }
  bool operator==(const PublicKey&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

class Signature {
 public:
  static constexpr std::size_t kSize = 64;

  Signature() = default;
  explicit Signature(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  static std::optional<Signature> from_bytes(ByteView bytes);

  const std::array<std::uint8_t, kSize>& array() const { return bytes_; }
  ByteView view() const { return as_bytes(bytes_); }
  Bytes bytes() const { return Bytes(view()); }

  auto operator<=>(const Signature&) const = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// The 32-byte seed an Ed25519 key pair is derived from. Wiped like SecretKey.
class Seed {
 public:
  static constexpr std::size_t kSize = 32;
  explicit Seed(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  ~Seed();
  Seed(const Seed&) = delete;
  Seed& operator=(const Seed&) = delete;
  Seed(Seed&& other) noexcept;
  Seed& operator=(Seed&& other) noexcept;

  const std::array<std::uint8_t, kSize>& array() const { return bytes_; }

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

class SecretKey {
 public:
  // Deterministic: the same seed always gives the same key pair.
  static SecretKey from_seed(const Seed& seed);
  // A fresh key from the operating system's random source (keygen only; never the core).
  static SecretKey generate();
  // For tests and simulation: a key derived from a label and an index, so that
  // ("replica", 2) is the same key in every run. Never use for real deployments.
  static SecretKey derive_for_testing(std::string_view label, std::uint64_t index);

  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;

  const PublicKey& public_key() const { return public_key_; }
  // An explicit copy, for the rare owner that must hand a key to two places (Twins).
  SecretKey clone() const;
  // A distinct key derived deterministically from this one and `index`: one key file gives
  // a client as many identities as it needs requests in flight.
  SecretKey derive_child(std::uint64_t index) const;

 private:
  SecretKey() = default;
  friend class Signer;
  friend Seed seed_of(const SecretKey& key);
  friend class CurveSecret curve_secret_key(const SecretKey& key);

  std::array<std::uint8_t, 64> secret_{};  // libsodium layout: seed || public key
  PublicKey public_key_;
};

// The seed a key was made from; used only by the key file writer.
Seed seed_of(const SecretKey& key);

}  // namespace phalanx::crypto
