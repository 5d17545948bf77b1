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

// Binds replica `id`'s endpoint and connects to every other replica. Driven by the loop
// that calls its receive() (IoDriver::kReceiveLoop, below): a Node's.
Result<std::unique_ptr<net::ZmqTransport>> replica_transport(const pbft::ClusterConfig& config,
                                                             pbft::ReplicaId id,
                                                             const crypto::SecretKey& key,
                                                             LinkSecurity security);
// Who serves a transport's sockets (ZmqTransportOptions::io_thread): an I/O thread of its
// own, or the loop that calls its receive(). The second saves two hand-offs between threads
// per message, but what is queued leaves only when receive() is next called: for an owner
// that calls it in a loop, as pbft::Client and node::Node do.
enum class IoDriver { kOwnThread, kReceiveLoop };

// Connects to every replica; binds nothing. Hand it to a pbft::Client with kReceiveLoop.
Result<std::unique_ptr<net::ZmqTransport>> client_transport(
    const pbft::ClusterConfig& config, const crypto::SecretKey& key, LinkSecurity security,
    IoDriver driver = IoDriver::kOwnThread);

// "tcp://host:port" -> "host" (empty when the endpoint has no host part).
std::string endpoint_host(const std::string& endpoint);

}  // namespace phalanx::node
