// Four node::Node replicas on their own threads, over real ZeroMQ on loopback, and one
// pbft::Client shared by several calling threads: the threaded parts together, in one
// process so that ThreadSanitizer sees every thread (the tsan preset runs this).
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"

namespace phalanx {
namespace {

// Each test has its own ports: ctest runs them in parallel, and a client of one test must
// never reach the other's replicas (same keys, same cluster id).
constexpr int kClusterPort = 23400;
constexpr int kNobodyPort = 23500;  // where no replica listens
constexpr int kCallbackPort = 23450;
constexpr int kReceiveLoopPort = 23550;

pbft::ClusterConfig loopback_cluster(int base_port) {
  pbft::ClusterConfig config;
  config.cluster_id = "node-client-test";
  for (pbft::ReplicaId id = 0; id < 4; ++id) {
    pbft::ReplicaEntry entry;
    entry.id = id;
    entry.endpoint = "tcp://127.0.0.1:" + std::to_string(base_port + id);
    entry.public_key = crypto::SecretKey::derive_for_testing("replica", id).public_key();
    config.replicas.push_back(entry);
  }
  return config;
}

struct Cluster {
  explicit Cluster(const pbft::ClusterConfig& config) {
    for (pbft::ReplicaId id = 0; id < 4; ++id) {
      auto key = crypto::SecretKey::derive_for_testing("replica", id);
      auto transport = node::replica_transport(config, id, key, node::LinkSecurity::kCurve);
      EXPECT_TRUE(transport.ok()) << transport.error().message;
      apps.push_back(std::make_unique<examples::KvApplication>());
      nodes.push_back(std::make_unique<node::Node>(node::node_options(config, id), std::move(key),
                                                   *apps.back(), std::move(transport).value(),
                                                   std::make_unique<storage::MemoryStorage>()));
      nodes.back()->start();
    }
  }
  std::vector<std::unique_ptr<examples::KvApplication>> apps;
  std::vector<std::unique_ptr<node::Node>> nodes;
};

// Several threads call one client whose transport is served by `driver`: its own I/O
// thread, or the client's loop through receive() (what phalanx-bench uses).
void many_threads_share_one_client(int base_port, node::IoDriver driver) {
  pbft::ClusterConfig config = loopback_cluster(base_port);
  Cluster cluster(config);
  auto client_key = crypto::SecretKey::derive_for_testing("client", 0);
  auto transport = node::client_transport(config, client_key, node::LinkSecurity::kCurve, driver);
  ASSERT_TRUE(transport.ok()) << transport.error().message;
  pbft::ClientSettings settings = node::client_settings(config);
  settings.identities = 8;
  pbft::Client client(settings, std::move(client_key), std::move(transport).value());

  constexpr int kThreads = 4, kRequests = 50;
  std::vector<std::thread> callers;
  std::atomic<int> succeeded{0};
  for (int t = 0; t < kThreads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto result = client.call(examples::kv::put(key, "v"));
        if (result.ok() && examples::kv::decode_result(result.value())->ok) ++succeeded;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(succeeded.load(), kThreads * kRequests);
  EXPECT_EQ(client.stats().completed, static_cast<std::uint64_t>(kThreads * kRequests));

  // Every replica reaches the same state (each node's status and digest, read while the
  // nodes run: exactly what the /status endpoint does from its own thread).
  std::optional<node::Node::StateDigest> first;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::vector<std::optional<node::Node::StateDigest>> digests;
    for (auto& replica : cluster.nodes) digests.push_back(replica->state_digest());
    bool agree = digests[0].has_value();
    for (auto& digest : digests)
      agree = agree && digest && digest->seq == digests[0]->seq &&
              digest->digest == digests[0]->digest &&
              digest->seq == cluster.nodes[0]->status().last_executed;
    if (agree) {
      first = digests[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(first.has_value()) << "replicas did not reach one state";
  EXPECT_GT(first->seq, 0u);
  for (auto& replica : cluster.nodes) {
    std::string metrics = replica->metrics().render();
    EXPECT_NE(metrics.find("phalanx_requests_executed_total 200"), std::string::npos);
  }
}

TEST(NodeAndClient, ManyThreadsShareOneClientAndEveryRequestCompletes) {
  many_threads_share_one_client(kClusterPort, node::IoDriver::kOwnThread);
}

TEST(NodeAndClient, AClientWhoseLoopDrivesItsTransportCompletesEveryRequest) {
  many_threads_share_one_client(kReceiveLoopPort, node::IoDriver::kReceiveLoop);
}

// The callback form of submit(), as a closed loop uses it: each completion submits the
// next request from the client's own thread. The replies beyond the f+1 that completed a
// request arrive for nothing and are dropped before their signatures are checked.
TEST(NodeAndClient, CompletionsMaySubmitAgainAndLateRepliesGoUnchecked) {
  pbft::ClusterConfig config = loopback_cluster(kCallbackPort);
  Cluster cluster(config);
  auto client_key = crypto::SecretKey::derive_for_testing("client", 1);
  auto transport = node::client_transport(config, client_key, node::LinkSecurity::kCurve);
  ASSERT_TRUE(transport.ok()) << transport.error().message;
  pbft::ClientSettings settings = node::client_settings(config);
  settings.identities = 2;
  pbft::Client client(settings, std::move(client_key), std::move(transport).value());

  constexpr int kChain = 40;
  std::mutex mutex;
  std::condition_variable finished;
  int completed = 0, failed = 0;
  std::function<void(Result<Bytes>)> next = [&](Result<Bytes> outcome) {
    std::lock_guard lock(mutex);
    (outcome.ok() ? completed : failed) += 1;
    if (completed + failed < kChain)
      client.submit(examples::kv::put("chain", std::to_string(completed)), next);
    else
      finished.notify_all();
  };
  client.submit(examples::kv::put("chain", "start"), next);
  std::unique_lock lock(mutex);
  ASSERT_TRUE(finished.wait_for(lock, std::chrono::seconds(30),
                                [&] { return completed + failed >= kChain; }));
  EXPECT_EQ(completed, kChain);
  EXPECT_EQ(failed, 0);
  lock.unlock();

  // Four replicas answer and two suffice: the others' replies come late.
  for (int wait = 0; wait < 100 && client.stats().late_replies == 0; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pbft::ClientStats stats = client.stats();
  EXPECT_GT(stats.late_replies, 0u);
  EXPECT_EQ(stats.rejected_replies, 0u);
  EXPECT_EQ(stats.completed, static_cast<std::uint64_t>(kChain));
}

TEST(NodeAndClient, ARequestWithNoQuorumFailsAtItsDeadline) {
  pbft::ClusterConfig config = loopback_cluster(kNobodyPort);
  auto client_key = crypto::SecretKey::derive_for_testing("client", 1);
  auto transport = node::client_transport(config, client_key, node::LinkSecurity::kCurve);
  ASSERT_TRUE(transport.ok());
  pbft::Client client(node::client_settings(config), std::move(client_key),
                      std::move(transport).value());
  auto started = std::chrono::steady_clock::now();
  auto result = client.call(examples::kv::put("k", "v"), std::chrono::milliseconds(300));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("no f+1 matching replies"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace phalanx
