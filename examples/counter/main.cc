// phalanx-counter: four replicas of Counter (n = 3f+1, f = 1), each a node::Node on a
// thread of this process, talking CurveZMQ on 127.0.0.1; a client adds 1, 2, ..., 10 and
// prints each agreed total; then every replica's total, and everything stops.
// docs/embedding.md walks through this file.
//
//   phalanx-counter [--base-port P]    replicas listen on ports P..P+3 (default 7300)
#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "counter.h"
#include "phalanx/node/cluster.h"

using namespace phalanx;

int fail(const std::string& message) {
  std::cerr << "phalanx-counter: " << message << "\n";
  return 1;
}

int main(int argc, char** argv) {
  bool port_given = argc == 3 && std::string_view(argv[1]) == "--base-port";
  int base_port = port_given ? std::atoi(argv[2]) : 7300;
  if ((argc != 1 && !port_given) || base_port < 1 || base_port > 65532)
    return fail("usage: phalanx-counter [--base-port P]");

  // The cluster: its id, and each replica's endpoint and public key. Fresh keys each run;
  // a deployment makes them once with phalanx-keygen and loads the cluster file instead.
  pbft::ClusterConfig config;
  config.cluster_id = "counter-example";
  std::vector<crypto::SecretKey> keys;
  for (pbft::ReplicaId id = 0; id < 4; ++id) {
    keys.push_back(crypto::SecretKey::generate());
    pbft::ReplicaEntry& replica = config.replicas.emplace_back();
    replica.id = id;
    replica.endpoint = "tcp://127.0.0.1:" + std::to_string(base_port + id);
    replica.public_key = keys.back().public_key();
  }

  // The replicas. Each node borrows its application (which must outlive it), owns its
  // transport and storage, and runs the protocol on a thread of its own after start().
  std::array<Counter, 4> counters;
  std::vector<std::unique_ptr<node::Node>> nodes;
  for (pbft::ReplicaId id = 0; id < 4; ++id) {
    auto transport = node::replica_transport(config, id, keys[id], node::LinkSecurity::kCurve);
    if (!transport.ok()) return fail(transport.error().message);
    nodes.push_back(std::make_unique<node::Node>(
        node::node_options(config, id), std::move(keys[id]), counters[id],
        std::move(transport).value(), std::make_unique<storage::MemoryStorage>()));
    nodes.back()->start();
  }

  // The client: a result counts once f+1 replicas sent the same one.
  auto client_key = crypto::SecretKey::generate();
  auto transport = node::client_transport(config, client_key, node::LinkSecurity::kCurve);
  if (!transport.ok()) return fail(transport.error().message);
  pbft::Client client(node::client_settings(config), std::move(client_key),
                      std::move(transport).value());
  std::uint64_t total = 0;
  for (std::uint64_t amount = 1; amount <= 10; ++amount) {
    auto result = client.call(Counter::encode(amount));
    if (!result.ok()) return fail(result.error().message);
    total = Counter::decode(result.value()).value_or(0);
    std::cout << "add " << amount << ": total " << total << "\n";
  }

  // The other replicas may be a moment behind the f+1 that answered: wait for them.
  auto all_agree = [&] {
    for (auto& counter : counters)
      if (counter.total() != total) return false;
    return true;
  };
  for (int wait = 0; wait < 500 && !all_agree(); ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (pbft::ReplicaId id = 0; id < 4; ++id)
    std::cout << "replica " << id << ": total " << counters[id].total() << "\n";
  nodes.clear();  // stops every node and joins its thread
  if (!all_agree()) return fail("the replicas do not agree");
  std::cout << "all 4 replicas agree\n";
  return 0;
}
