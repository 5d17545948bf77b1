// SimNetwork: the faults it promises (loss, duplication, delay and reordering, partitions,
// one-way cuts, isolation) happen as configured, can change mid-run, and a seed replays.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "phalanx/net/sim_network.h"

namespace phalanx::net {
namespace {

constexpr std::uint64_t kMs = kSimMillisecond;

std::shared_ptr<const std::string> bytes_of(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// Pops everything due up to `until_ns`, as (time, from, to, bytes).
using Received = std::vector<std::tuple<std::uint64_t, NodeId, NodeId, std::string>>;
Received drain(SimNetwork& network, std::uint64_t until_ns = ~std::uint64_t{0}) {
  Received received;
  while (auto delivery = network.pop(until_ns)) {
    received.emplace_back(delivery->at_ns, delivery->from, delivery->to, *delivery->bytes);
  }
  return received;
}

Received run_random_traffic(std::uint64_t seed) {
  LinkRule rule{1 * kMs, 20 * kMs, 0.2, 0.1};
  SimNetwork network(5, seed, rule);
  for (int i = 0; i < 500; ++i) {
    auto from = static_cast<NodeId>(i % 5);
    auto to = static_cast<NodeId>((i * 7 + 3) % 5);
    network.send(from, to, bytes_of("m" + std::to_string(i)), static_cast<std::uint64_t>(i) * kMs);
  }
  return drain(network);
}

TEST(SimNetwork, SameSeedGivesSameDeliveryOrder) {
  Received first = run_random_traffic(42);
  Received second = run_random_traffic(42);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second);
  EXPECT_NE(first, run_random_traffic(43));
}

TEST(SimNetwork, DeliversInTimeOrderAndReorders) {
  SimNetwork network(2, 7, LinkRule{1 * kMs, 50 * kMs, 0, 0});
  for (int i = 0; i < 200; ++i) network.send(0, 1, bytes_of(std::to_string(i)), 0);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 200u);
  bool reordered = false;
  for (std::size_t i = 1; i < received.size(); ++i) {
    EXPECT_LE(std::get<0>(received[i - 1]), std::get<0>(received[i]));
    if (std::stoi(std::get<3>(received[i - 1])) > std::stoi(std::get<3>(received[i]))) {
      reordered = true;
    }
  }
  EXPECT_TRUE(reordered);
  for (const auto& entry : received) {
    EXPECT_GE(std::get<0>(entry), 1 * kMs);
    EXPECT_LE(std::get<0>(entry), 50 * kMs);
  }
}

TEST(SimNetwork, TiesComeOutInEnqueueOrder) {
  SimNetwork network(3, 1, LinkRule{5 * kMs, 5 * kMs, 0, 0});
  for (int i = 0; i < 20; ++i)
    network.send(static_cast<NodeId>(i % 2), 2, bytes_of(std::to_string(i)), 0);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 20u);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(std::get<3>(received[static_cast<std::size_t>(i)]), std::to_string(i));
}

TEST(SimNetwork, NothingIsDeliveredBeforeItIsDue) {
  SimNetwork network(2, 1, LinkRule{10 * kMs, 10 * kMs, 0, 0});
  network.send(0, 1, bytes_of("x"), 100 * kMs);
  EXPECT_EQ(network.next_delivery_at(), 110 * kMs);
  EXPECT_FALSE(network.pop(109 * kMs).has_value());
  auto delivery = network.pop(110 * kMs);
  ASSERT_TRUE(delivery.has_value());
  EXPECT_EQ(*delivery->bytes, "x");
  EXPECT_TRUE(network.idle());
}

TEST(SimNetwork, DropRateIsRoughlyAsConfigured) {
  SimNetwork network(2, 99, LinkRule{1 * kMs, 1 * kMs, 0.25, 0});
  constexpr int kMessages = 20'000;
  for (int i = 0; i < kMessages; ++i) network.send(0, 1, bytes_of("m"), 0);
  std::size_t delivered = drain(network).size();
  EXPECT_EQ(network.counters().sent, static_cast<std::uint64_t>(kMessages));
  EXPECT_EQ(network.counters().dropped + delivered, static_cast<std::uint64_t>(kMessages));
  double rate = static_cast<double>(network.counters().dropped) / kMessages;
  EXPECT_NEAR(rate, 0.25, 0.02);
}

TEST(SimNetwork, DuplicatesAreDeliveredTwice) {
  SimNetwork network(2, 5, LinkRule{1 * kMs, 10 * kMs, 0, 0.3});
  constexpr int kMessages = 10'000;
  for (int i = 0; i < kMessages; ++i) network.send(0, 1, bytes_of(std::to_string(i)), 0);
  Received received = drain(network);
  EXPECT_EQ(received.size(), kMessages + network.counters().duplicated);
  EXPECT_EQ(network.counters().delivered, received.size());
  double rate = static_cast<double>(network.counters().duplicated) / kMessages;
  EXPECT_NEAR(rate, 0.3, 0.02);
  std::vector<int> copies(kMessages, 0);
  for (const auto& entry : received)
    ++copies[static_cast<std::size_t>(std::stoi(std::get<3>(entry)))];
  for (int count : copies) EXPECT_TRUE(count == 1 || count == 2);
}

TEST(SimNetwork, OneWayCutLosesOneDirectionOnly) {
  SimNetwork network(2, 3);
  network.cut(0, 1);
  network.send(0, 1, bytes_of("lost"), 0);
  network.send(1, 0, bytes_of("heard"), 0);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::get<3>(received[0]), "heard");
  EXPECT_EQ(network.counters().cut, 1u);
  EXPECT_FALSE(network.connected(0, 1));
  EXPECT_TRUE(network.connected(1, 0));
}

TEST(SimNetwork, PartitionSeparatesGroupsUntilHealed) {
  SimNetwork network(5, 3);
  network.partition({{0, 1}, {2, 3}});  // node 4 is in no group: a third side
  EXPECT_TRUE(network.connected(0, 1));
  EXPECT_TRUE(network.connected(3, 2));
  EXPECT_FALSE(network.connected(1, 2));
  EXPECT_FALSE(network.connected(4, 0));
  for (NodeId from = 0; from < 5; ++from) {
    for (NodeId to = 0; to < 5; ++to) {
      if (from != to) network.send(from, to, bytes_of("p"), 0);
    }
  }
  EXPECT_EQ(drain(network).size(), 4u);  // 0<->1 and 2<->3

  network.heal();
  network.send(1, 2, bytes_of("after heal"), 10 * kMs);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::get<3>(received[0]), "after heal");
}

TEST(SimNetwork, MessagesInFlightAreLostWhenTheLinkGoesDown) {
  SimNetwork network(3, 3, LinkRule{10 * kMs, 10 * kMs, 0, 0});
  network.send(0, 1, bytes_of("in flight"), 0);
  network.send(0, 2, bytes_of("unaffected"), 0);
  network.isolate(1);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::get<3>(received[0]), "unaffected");
  EXPECT_EQ(network.counters().cut, 1u);
}

TEST(SimNetwork, IsolateAndReconnect) {
  SimNetwork network(3, 3);
  network.isolate(2);
  network.send(2, 0, bytes_of("a"), 0);
  network.send(1, 2, bytes_of("b"), 0);
  network.send(0, 1, bytes_of("c"), 0);
  EXPECT_EQ(drain(network).size(), 1u);
  network.reconnect(2);
  network.send(2, 0, bytes_of("d"), 5 * kMs);
  EXPECT_EQ(drain(network).size(), 1u);
}

TEST(SimNetwork, RuleChangesMidRun) {
  SimNetwork network(2, 11, LinkRule{1 * kMs, 1 * kMs, 0, 0});
  for (int i = 0; i < 100; ++i) network.send(0, 1, bytes_of("before"), 0);
  network.set_rule(LinkRule{30 * kMs, 30 * kMs, 1.0, 0});
  for (int i = 0; i < 100; ++i) network.send(0, 1, bytes_of("during"), 0);
  network.set_link_rule(0, 1, LinkRule{30 * kMs, 30 * kMs, 0, 0});
  network.send(0, 1, bytes_of("slow"), 0);
  network.send(1, 0, bytes_of("still lossy"), 0);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 101u);
  EXPECT_EQ(std::get<3>(received.back()), "slow");
  EXPECT_EQ(std::get<0>(received.back()), 30 * kMs);
  EXPECT_EQ(network.counters().dropped, 101u);
}

TEST(SimNetwork, NodeRuleAppliesToBothDirections) {
  SimNetwork network(3, 2);
  network.set_node_rule(1, LinkRule{1 * kMs, 1 * kMs, 1.0, 0});
  network.send(0, 1, bytes_of("x"), 0);
  network.send(1, 2, bytes_of("y"), 0);
  network.send(0, 2, bytes_of("z"), 0);
  Received received = drain(network);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(std::get<3>(received[0]), "z");
}

TEST(SimNetwork, InFlightLimitBoundsTheQueue) {
  SimNetwork network(2, 1, LinkRule{}, /*in_flight_max=*/10);
  for (int i = 0; i < 15; ++i) network.send(0, 1, bytes_of("m"), 0);
  EXPECT_EQ(network.in_flight(), 10u);
  EXPECT_EQ(network.counters().overflow, 5u);
}

}  // namespace
}  // namespace phalanx::net
