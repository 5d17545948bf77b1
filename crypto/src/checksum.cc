#include "phalanx/crypto/checksum.h"

#include <sodium.h>

#include "phalanx/base/assert.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

static_assert(sizeof(crypto_generichash_state) <= 384, "Checksum64::state_ too small");

namespace {

constexpr unsigned char kKey[] = "phalanx checksum";
constexpr std::size_t kKeyBytes = sizeof(kKey) - 1;
constexpr std::size_t kOutputBytes = 16;
static_assert(kKeyBytes >= crypto_generichash_KEYBYTES_MIN);
static_assert(kOutputBytes >= crypto_generichash_BYTES_MIN);

crypto_generichash_state* state_of(unsigned char* raw) {
  return reinterpret_cast<crypto_generichash_state*>(raw);
}

std::uint64_t fold(const unsigned char (&out)[kOutputBytes]) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i)
    value |= std::uint64_t{static_cast<unsigned char>(out[i] ^ out[i + 8])} << (8 * i);
  return value;
}

}  // namespace

std::uint64_t checksum64(ByteView data) {
  ensure_sodium_initialized();
  unsigned char out[kOutputBytes];
  crypto_generichash(out, kOutputBytes, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), kKey, kKeyBytes);
  return fold(out);
}

Checksum64::Checksum64() {
  ensure_sodium_initialized();
  crypto_generichash_init(state_of(state_), kKey, kKeyBytes, kOutputBytes);
}

Checksum64& Checksum64::update(ByteView data) {
  PHALANX_ASSERT(!finished_, "Checksum64 used after finish()");
  crypto_generichash_update(state_of(state_), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  return *this;
}

std::uint64_t Checksum64::finish() {
  PHALANX_ASSERT(!finished_, "Checksum64::finish() called twice");
  finished_ = true;
  unsigned char out[kOutputBytes];
  crypto_generichash_final(state_of(state_), out, kOutputBytes);
  return fold(out);
}

}  // namespace phalanx::crypto
