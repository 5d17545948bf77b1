#pragma once
// From a cluster file to running parts: the transport, node options and client settings a
// replica or a client of that cluster needs. What phalanx-replica and phalanx-client use,
// and what an embedding program can use too.
// Thread-safety: pure functions of their arguments (the transports start threads).

#include <memory>

#include "phalanx/base/result.h"
#include "phalanx/net/zmq_transport.h"
#include "phalanx/node/client.h"
#include "phalanx/node/node.h"
#include "phalanx/pbft/config.h"

namespace phalanx::node {

// Link encryption between replicas and from clients: CurveZMQ with keys derived from the
// Ed25519 keys already in the cluster file. On by default.
enum class LinkSecurity { kCurve, kPlaintext };

NodeOptions node_options(const pbft::ClusterConfig& config, pbft::ReplicaId id);
pbft::ClientSettings client_settings(const pbft::ClusterConfig& config);

// Binds replica `id`'s endpoint and connects to every other replica.
Result<std::unique_ptr<net::ZmqTransport>> replica_transport(const pbft::ClusterConfig& config,
                                                             pbft::ReplicaId id,
                                                             const crypto::SecretKey& key,
                                                             LinkSecurity security);
// Connects to every replica; binds nothing.
Result<std::unique_ptr<net::ZmqTransport>> client_transport(const pbft::ClusterConfig& config,
                                                            const crypto::SecretKey& key,
                                                            LinkSecurity security);

// "tcp://host:port" -> "host" (empty when the endpoint has no host part).
std::string endpoint_host(const std::string& endpoint);

}  // namespace phalanx::node
