#include "phalanx/crypto/mac.h"

#include <sodium.h>

#include "phalanx/crypto/curve.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

MacKey::~MacKey() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

namespace {

static_assert(crypto_kx_SESSIONKEYBYTES == MacKey::kSize);
static_assert(crypto_generichash_KEYBYTES_MIN <= MacKey::kSize &&
              MacKey::kSize <= crypto_generichash_KEYBYTES_MAX);
static_assert(crypto_generichash_BYTES_MIN <= kMacSize);

// Our X25519 pair and the peer's X25519 public key; nullopt if the peer's has none.
struct Agreement {
  CurvePublic own_public;
  CurveSecret own_secret;
  CurvePublic peer_public;
};
std::optional<Agreement> agreement(const SecretKey& own, const PublicKey& peer) {
  auto own_public = curve_public_key(own.public_key());
  auto peer_public = curve_public_key(peer);
  if (!own_public || !peer_public) return std::nullopt;
  return Agreement{*own_public, curve_secret_key(own), *peer_public};
}

// crypto_kx names the two keys by who receives (rx) and who transmits (tx).
SessionKeys from_rx_tx(std::array<std::uint8_t, MacKey::kSize>& rx,
                       std::array<std::uint8_t, MacKey::kSize>& tx, bool client_side) {
  SessionKeys keys{client_side ? MacKey(tx) : MacKey(rx), client_side ? MacKey(rx) : MacKey(tx)};
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
  return keys;
}

// Either side of crypto_kx: libsodium's client and server functions take the same
// arguments and name the keys by direction, which from_rx_tx turns into ours.
using KeyExchange = int (*)(unsigned char* rx, unsigned char* tx, const unsigned char* own_public,
                            const unsigned char* own_secret, const unsigned char* peer_public);
std::optional<SessionKeys> session_keys(const SecretKey& own, const PublicKey& peer,
                                        KeyExchange exchange, bool client_side) {
  ensure_sodium_initialized();
  auto a = agreement(own, peer);
  if (!a) return std::nullopt;
  std::array<std::uint8_t, MacKey::kSize> rx, tx;
  if (exchange(rx.data(), tx.data(), a->own_public.data(), a->own_secret.array().data(),
               a->peer_public.data()) != 0)
    return std::nullopt;
  return from_rx_tx(rx, tx, client_side);
}

}  // namespace

std::optional<SessionKeys> client_session_keys(const SecretKey& client, const PublicKey& replica) {
  return session_keys(client, replica, crypto_kx_client_session_keys, true);
}

std::optional<SessionKeys> replica_session_keys(const SecretKey& replica, const PublicKey& client) {
  return session_keys(replica, client, crypto_kx_server_session_keys, false);
}

Mac mac_of(const MacKey& key, const Digest& digest) {
  Mac mac;
  crypto_generichash(mac.data(), mac.size(), digest.array().data(), digest.array().size(),
                     key.array().data(), key.array().size());
  return mac;
}

bool mac_matches(const MacKey& key, const Digest& digest, ByteView mac) {
  if (mac.size() != kMacSize) return false;
  Mac expected = mac_of(key, digest);
  return crypto_verify_16(expected.data(), reinterpret_cast<const unsigned char*>(mac.data())) == 0;
}

}  // namespace phalanx::crypto
