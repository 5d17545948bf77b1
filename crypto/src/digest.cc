#include "phalanx/crypto/digest.h"

#include <sodium.h>

#include <cstring>

#include "phalanx/base/assert.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher::state_ too small");
static_assert(crypto_generichash_BYTES == Digest::kSize);

std::optional<Digest> Digest::from_bytes(ByteView bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  std::array<std::uint8_t, kSize> array;
  std::memcpy(array.data(), bytes.data(), kSize);
  return Digest(array);
}

namespace {
crypto_generichash_state* state_of(unsigned char* raw) {
  return reinterpret_cast<crypto_generichash_state*>(raw);
}
}  // namespace

Hasher::Hasher() {
  ensure_sodium_initialized();
  crypto_generichash_init(state_of(state_), nullptr, 0, Digest::kSize);
}

Hasher& Hasher::update(ByteView data) {
  PHALANX_ASSERT(!finished_, "Hasher used after finish()");
  crypto_generichash_update(state_of(state_), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  return *this;
}

Hasher& Hasher::update_u64(std::uint64_t value) {
  unsigned char little_endian[8];
  for (int i = 0; i < 8; ++i) little_endian[i] = static_cast<unsigned char>(value >> (8 * i));
  return update(ByteView(reinterpret_cast<const char*>(little_endian), 8));
}

Hasher& Hasher::update_field(ByteView data) {
  update_u64(data.size());
  return update(data);
}

Digest Hasher::finish() {
  PHALANX_ASSERT(!finished_, "Hasher::finish() called twice");
  finished_ = true;
  std::array<std::uint8_t, Digest::kSize> out;
  crypto_generichash_final(state_of(state_), out.data(), out.size());
  return Digest(out);
}

Digest blake2b(ByteView data) {
  ensure_sodium_initialized();
  std::array<std::uint8_t, Digest::kSize> out;
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  return Digest(out);
}

}  // namespace phalanx::crypto
