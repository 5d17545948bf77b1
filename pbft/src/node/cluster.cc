#include "phalanx/node/cluster.h"

namespace phalanx::node {

NodeOptions node_options(const pbft::ClusterConfig& config, pbft::ReplicaId id) {
  NodeOptions options;
  options.id = id;
  options.verifier = config.verifier();
  options.verifier.cache = std::make_shared<crypto::VerifyCache>();
  options.replica = config.replica_options;
  return options;
}

pbft::ClientSettings client_settings(const pbft::ClusterConfig& config) {
  pbft::ClientSettings settings;
  settings.verifier = config.verifier();
  settings.verifier.cache = std::make_shared<crypto::VerifyCache>();
  settings.options = config.client_options;
  return settings;
}

namespace {
Result<std::vector<net::ZmqPeer>> peers_of(const pbft::ClusterConfig& config,
                                           std::optional<pbft::ReplicaId> self,
                                           LinkSecurity security) {
  std::vector<net::ZmqPeer> peers;
  for (const auto& replica : config.replicas) {
    if (self && replica.id == *self) continue;
    net::ZmqPeer peer{replica.id, replica.endpoint, std::nullopt};
    if (security == LinkSecurity::kCurve) {
      peer.curve_public = crypto::curve_public_key(replica.public_key);
      if (!peer.curve_public)
        return Error{"replica " + std::to_string(replica.id) +
                     ": public key has no X25519 form; cannot use CurveZMQ"};
    }
    peers.push_back(std::move(peer));
  }
  return peers;
}

Result<std::unique_ptr<net::ZmqTransport>> make(net::ZmqTransportOptions options,
                                                const crypto::SecretKey& key,
                                                LinkSecurity security) {
  if (security == LinkSecurity::kCurve)
    options.curve = net::ZmqCurveKeys::from_secret_key(key);
  return net::ZmqTransport::create(std::move(options));
}
}  // namespace

Result<std::unique_ptr<net::ZmqTransport>> replica_transport(const pbft::ClusterConfig& config,
                                                             pbft::ReplicaId id,
                                                             const crypto::SecretKey& key,
                                                             LinkSecurity security) {
  auto peers = peers_of(config, id, security);
  if (!peers.ok()) return peers.error();
  net::ZmqTransportOptions options;
  options.self = id;
  options.bind_endpoint = config.replicas.at(id).endpoint;
  options.peers = std::move(peers).value();
  options.message_bytes_max = pbft::WireLimits{}.envelope_bytes_max;
  options.io_thread = false;  // IoDriver::kReceiveLoop: a node's loop
  return make(std::move(options), key, security);
}

Result<std::unique_ptr<net::ZmqTransport>> client_transport(const pbft::ClusterConfig& config,
                                                            const crypto::SecretKey& key,
                                                            LinkSecurity security,
                                                            IoDriver driver) {
  auto peers = peers_of(config, std::nullopt, security);
  if (!peers.ok()) return peers.error();
  net::ZmqTransportOptions options;
  options.peers = std::move(peers).value();
  options.io_thread = driver == IoDriver::kOwnThread;
  return make(std::move(options), key, security);
}

std::string endpoint_host(const std::string& endpoint) {
  auto scheme = endpoint.find("://");
  std::string rest = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
  auto colon = rest.rfind(':');
  return colon == std::string::npos ? rest : rest.substr(0, colon);
}

}  // namespace phalanx::node
