#include "phalanx/pbft/authenticators.h"

namespace phalanx::pbft {

bool ReplicaMacs::entry_matches(const crypto::PublicKey& client, const crypto::Digest& digest,
                                ByteView authenticator, std::size_t n) const {
  if (self_ >= n || authenticator.size() != authenticator_size(n)) return false;
  auto keys = keys_.keys_for(client);
  if (!keys) return false;
  return crypto::mac_matches(keys->to_replica, digest,
                             authenticator.substr(self_ * crypto::kMacSize, crypto::kMacSize));
}

std::optional<crypto::Mac> ReplicaMacs::reply_mac(const crypto::PublicKey& client,
                                                  const crypto::Digest& digest) const {
  auto keys = keys_.keys_for(client);
  if (!keys) return std::nullopt;
  return crypto::mac_of(keys->to_client, digest);
}

std::optional<ClientMacs> ClientMacs::agree(const crypto::SecretKey& client,
                                            const std::vector<crypto::PublicKey>& replicas) {
  std::vector<crypto::SessionKeys> keys;
  keys.reserve(replicas.size());
  for (const auto& replica : replicas) {
    auto agreed = crypto::client_session_keys(client, replica);
    if (!agreed) return std::nullopt;
    keys.push_back(*agreed);
  }
  return ClientMacs(std::move(keys));
}

Bytes ClientMacs::authenticator(const crypto::Digest& digest) const {
  Bytes out;
  out.reserve(authenticator_size(keys_.size()));
  for (const auto& keys : keys_) out += as_bytes(crypto::mac_of(keys.to_replica, digest));
  return out;
}

bool ClientMacs::reply_matches(ReplicaId replica, const crypto::Digest& digest,
                               ByteView mac) const {
  return replica < keys_.size() && crypto::mac_matches(keys_[replica].to_client, digest, mac);
}

}  // namespace phalanx::pbft
