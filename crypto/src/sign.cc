#include "phalanx/crypto/sign.h"

#include <sodium.h>

#include <atomic>

#include "phalanx/base/assert.h"
#include "phalanx/crypto/op_counts.h"
#include "phalanx/crypto/sodium.h"

namespace phalanx::crypto {

namespace {
std::atomic<std::uint64_t> signs_made{0};
std::atomic<std::uint64_t> signatures_checked{0};
}  // namespace

OpCounts op_counts() {
  return OpCounts{signs_made.load(std::memory_order_relaxed),
                  signatures_checked.load(std::memory_order_relaxed)};
}

Digest signing_digest(const Domain& domain, ByteView payload) {
  PHALANX_ASSERT(domain.cluster_id.size() <= kClusterIdMax, "cluster id longer than allowed");
  return Hasher()
      .update_field("phalanx")
      .update_u64(kProtocolVersion)
      .update_field(domain.context)
      .update_field(domain.cluster_id)
      .update_field(payload)
      .finish();
}

Signature Signer::sign_digest(const Digest& digest) const {
  signs_made.fetch_add(1, std::memory_order_relaxed);
  std::array<std::uint8_t, Signature::kSize> out;
  crypto_sign_detached(out.data(), nullptr, digest.array().data(), digest.array().size(),
                       key_.secret_.data());
  return Signature(out);
}

Signature Signer::sign(const Domain& domain, ByteView payload) const {
  return sign_digest(signing_digest(domain, payload));
}

bool verify_digest(const PublicKey& key, const Digest& digest, const Signature& signature) {
  ensure_sodium_initialized();
  signatures_checked.fetch_add(1, std::memory_order_relaxed);
  return crypto_sign_verify_detached(signature.array().data(), digest.array().data(),
                                     digest.array().size(), key.array().data()) == 0;
}

bool verify(const PublicKey& key, const Domain& domain, ByteView payload,
            const Signature& signature) {
  return verify_digest(key, signing_digest(domain, payload), signature);
}

}  // namespace phalanx::crypto
