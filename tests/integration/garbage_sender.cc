// Sends hostile bytes to one replica over a real client connection (ZeroMQ, CurveZMQ as the
// cluster uses): empty, random, truncated and oversized messages. Used by
// tests/integration/cluster_test.sh to show they are rejected, counted, and harmless.
//
//   garbage_sender CLUSTER_TOML REPLICA_ID COUNT
#include <chrono>
#include <iostream>
#include <thread>

#include "phalanx/net/rng.h"
#include "phalanx/node/cluster.h"

int main(int argc, char** argv) {
  using namespace phalanx;
  if (argc != 4) {
    std::cerr << "usage: garbage_sender CLUSTER_TOML REPLICA_ID COUNT\n";
    return 2;
  }
  auto config = pbft::load_cluster_config(argv[1]);
  if (!config.ok()) {
    std::cerr << config.error().message << "\n";
    return 2;
  }
  auto replica = static_cast<net::NodeId>(std::stoul(argv[2]));
  std::size_t count = std::stoul(argv[3]);
  auto key = crypto::SecretKey::generate();
  auto transport = node::client_transport(config.value(), key, node::LinkSecurity::kCurve);
  if (!transport.ok()) {
    std::cerr << transport.error().message << "\n";
    return 3;
  }
  net::Rng rng(42);
  for (std::size_t i = 0; i < count; ++i) {
    std::string bytes(rng.uniform(0, 512), '\0');
    for (auto& byte : bytes) byte = static_cast<char>(rng.next());
    transport.value()->send_to_node(replica, std::make_shared<const std::string>(std::move(bytes)));
    // In bursts, so that the bounded queues on the way pass most of it.
    if (i % 200 == 199) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Let the I/O thread flush before the transport closes (linger 0 drops the rest).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::cout << "sent " << count << " garbage messages to replica " << replica << "\n";
  return 0;
}
