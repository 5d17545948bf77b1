// What a node::Node does with a connection that sent a message the edge rejected
// (node.cc, step_inbound): it mutes it, except for a wrong MAC entry, which a correct
// replica relaying a lying client's request can send (authenticators.h). The node runs on
// its own thread over a scripted transport, so the test controls every inbound message.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"
#include "phalanx/node/node.h"
#include "support/lying_client.h"
#include "support/test_cluster.h"

namespace phalanx {
namespace {

using namespace std::chrono_literals;

// Hands the node what the test pushes, and swallows what the node sends.
class ScriptedTransport final : public net::Transport {
 public:
  void push(std::uint64_t connection, Bytes bytes) {
    std::lock_guard lock(mutex_);
    inbound_.push_back(net::Inbound{connection, std::move(bytes), std::nullopt});
    arrived_.notify_all();
  }
  bool send_to_node(net::NodeId, net::SharedBytes) override { return true; }
  bool send_to_connection(std::uint64_t, net::SharedBytes) override { return true; }
  std::size_t receive(std::vector<net::Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, timeout, [&] { return !inbound_.empty(); });
    std::size_t moved = 0;
    for (; moved < max && !inbound_.empty(); ++moved) {
      out.push_back(std::move(inbound_.front()));
      inbound_.pop_front();
    }
    return moved;
  }
  net::TransportStats stats() const override { return {}; }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<net::Inbound> inbound_;
};

class NodeGate : public ::testing::Test {
 protected:
  static constexpr pbft::ReplicaId kSelf = 1;  // a backup

  NodeGate() : macs_(*pbft::ClientMacs::agree(client_key(), cluster_.verifier().replica_keys)) {
    node::NodeOptions options;
    options.id = kSelf;
    options.verifier = cluster_.verifier();
    options.replica.accept_mac_clients = true;
    auto transport = std::make_unique<ScriptedTransport>();
    transport_ = transport.get();
    node_ = std::make_unique<node::Node>(
        std::move(options), crypto::SecretKey::derive_for_testing("replica", kSelf), app_,
        std::move(transport), std::make_unique<storage::MemoryStorage>());
    node_->start();
  }
  ~NodeGate() override { node_->stop(); }

  static crypto::SecretKey client_key() { return crypto::SecretKey::derive_for_testing("client", 0); }

  wire::Envelope mac_request(pbft::RequestId id) const {
    wire::Request request;
    request.set_client_key(client_key().public_key().bytes());
    request.set_request_id(id);
    request.set_operation(examples::kv::put("k", std::to_string(id)));
    return pbft::seal_request(macs_, cluster_.verifier().cluster_id, request);
  }

  // Waits until the node has looked at `count` messages (rejected, muted or accepted).
  bool handled(std::uint64_t count) const {
    const auto until = std::chrono::steady_clock::now() + 10s;
    const node::Metrics& metrics = node_->metrics();
    while (std::chrono::steady_clock::now() < until) {
      std::uint64_t seen = metrics.requests_received + metrics.gated_muted;
      for (const auto& rejected : metrics.rejected) seen += rejected;
      if (seen >= count) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }

  std::uint64_t rejected(pbft::Rejection reason) const {
    return node_->metrics().rejected[static_cast<std::size_t>(reason)];
  }

  testing::TestCluster cluster_;
  pbft::ClientMacs macs_;
  examples::KvApplication app_;
  ScriptedTransport* transport_ = nullptr;
  std::unique_ptr<node::Node> node_;
};

TEST_F(NodeGate, AWrongMacEntryDoesNotMuteTheConnection) {
  transport_->push(7, pbft::encode(testing::with_entries_spoiled(mac_request(1), {kSelf})));
  transport_->push(7, pbft::encode(mac_request(2)));
  ASSERT_TRUE(handled(2));
  EXPECT_EQ(rejected(pbft::Rejection::kBadMac), 1u);
  EXPECT_EQ(node_->metrics().gated_muted, 0u);
  EXPECT_EQ(node_->metrics().requests_received, 1u) << "the next request was dropped unread";
}

// The contrast, so that the test above can fail: any other rejection mutes.
TEST_F(NodeGate, ARejectedSignatureMutesTheConnection) {
  wire::Envelope forged = cluster_.request(0, 1, examples::kv::put("k", "v"));
  forged.mutable_signature()->front() ^= 0x01;
  transport_->push(8, pbft::encode(forged));
  transport_->push(8, pbft::encode(mac_request(2)));
  transport_->push(9, pbft::encode(mac_request(3)));  // another connection is not muted
  ASSERT_TRUE(handled(3));
  EXPECT_EQ(rejected(pbft::Rejection::kBadSignature), 1u);
  EXPECT_EQ(node_->metrics().gated_muted, 1u);
  EXPECT_EQ(node_->metrics().requests_received, 1u);
}

}  // namespace
}  // namespace phalanx
