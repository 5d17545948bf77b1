#pragma once
// The cluster the fuzz targets open messages in: 4 replicas and one client with keys
// derived from fixed labels (crypto::SecretKey::derive_for_testing), so that seed corpora
// stay valid from run to run.

#include <cstdint>
#include <string>

#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::fuzz {

inline constexpr std::uint32_t kReplicas = 4;
inline constexpr const char* kClusterId = "fuzz";

inline crypto::SecretKey replica_key(pbft::ReplicaId id) {
  return crypto::SecretKey::derive_for_testing("phalanx-fuzz-replica", id);
}
inline crypto::SecretKey client_key() {
  return crypto::SecretKey::derive_for_testing("phalanx-fuzz-client", 0);
}
// Client `index` of the cluster (client_key() is client 0), for targets with several.
inline crypto::SecretKey client_key(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("phalanx-fuzz-client", index);
}

inline pbft::Verifier cluster_verifier() {
  pbft::Verifier verifier;
  verifier.cluster_id = kClusterId;
  for (pbft::ReplicaId id = 0; id < kReplicas; ++id)
    verifier.replica_keys.push_back(replica_key(id).public_key());
  return verifier;
}

// The same cluster as replica 1 sees it when it accepts MAC clients, and as client 0 sees
// it with its MAC keys: opening with it reaches the authenticator checks (wire.h step 7).
inline pbft::Verifier mac_verifier() {
  pbft::Verifier verifier = cluster_verifier();
  verifier.replica_macs = std::make_shared<const pbft::ReplicaMacs>(1, replica_key(1));
  verifier.client_macs = std::make_shared<const pbft::ClientMacs>(
      *pbft::ClientMacs::agree(client_key(), verifier.replica_keys));
  return verifier;
}

// `payload` signed as a message of `kind`: by the client for REQUEST (the envelope then
// carries its key), else by replica `sender`.
inline wire::Envelope signed_envelope(wire::Kind kind, pbft::ReplicaId sender, Bytes payload) {
  if (kind == wire::REQUEST) {
    // Not seal_request: the payload is the fuzzer's bytes, not a wire::Request.
    crypto::Signer client(client_key());
    wire::Envelope envelope;
    envelope.set_kind(kind);
    envelope.set_client_key(client.public_key().bytes());
    envelope.set_signature(
        client.sign(pbft::signing_domain(kClusterId, kind), payload).bytes());
    envelope.set_payload(std::move(payload));
    return envelope;
  }
  return pbft::seal(crypto::Signer(replica_key(sender)), kClusterId, kind, sender,
                    std::move(payload));
}

}  // namespace phalanx::fuzz
