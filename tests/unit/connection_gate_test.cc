// node::ConnectionGate: muting a connection that sent a rejected message, the token bucket
// per connection, and the bound on the connections it remembers.
#include "node/connection_gate.h"

#include <gtest/gtest.h>

namespace phalanx::node {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;
using Verdict = ConnectionGate::Verdict;

ConnectionGateOptions options(double rate, double burst) {
  ConnectionGateOptions gate;
  gate.messages_per_second = rate;
  gate.burst = burst;
  gate.mute = std::chrono::seconds(1);
  gate.connections_max = 3;
  return gate;
}

TEST(ConnectionGate, APunishedConnectionIsMutedForTheMutePeriodOnly) {
  ConnectionGate gate(options(1000, 1000));
  EXPECT_EQ(gate.admit(7, kSecond), Verdict::kAdmit);
  gate.punish(7, kSecond);
  EXPECT_EQ(gate.admit(7, kSecond + 1), Verdict::kMuted);
  EXPECT_EQ(gate.admit(7, 2 * kSecond - 1), Verdict::kMuted);
  EXPECT_EQ(gate.admit(8, kSecond + 1), Verdict::kAdmit) << "another connection is not muted";
  EXPECT_EQ(gate.admit(7, 2 * kSecond), Verdict::kAdmit);
}

TEST(ConnectionGate, TheBucketAllowsABurstThenTheRate) {
  ConnectionGate gate(options(10, 5));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(gate.admit(1, kSecond), Verdict::kAdmit) << i;
  EXPECT_EQ(gate.admit(1, kSecond), Verdict::kRateLimited);
  // 10 per second: one token every 100 ms, and never more than the burst.
  EXPECT_EQ(gate.admit(1, kSecond + kSecond / 20), Verdict::kRateLimited);
  EXPECT_EQ(gate.admit(1, kSecond + kSecond / 10), Verdict::kAdmit);
  EXPECT_EQ(gate.admit(1, kSecond + kSecond / 10), Verdict::kRateLimited);
  int admitted = 0;
  for (int i = 0; i < 20; ++i) admitted += gate.admit(1, 100 * kSecond) == Verdict::kAdmit;
  EXPECT_EQ(admitted, 5);
}

TEST(ConnectionGate, RateLimitedMessagesTakeNoTokens) {
  ConnectionGate gate(options(1, 1));
  EXPECT_EQ(gate.admit(1, kSecond), Verdict::kAdmit);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(gate.admit(1, kSecond), Verdict::kRateLimited);
  EXPECT_EQ(gate.admit(1, 2 * kSecond), Verdict::kAdmit);
}

TEST(ConnectionGate, RemembersAtMostConnectionsMaxForgettingTheLeastRecentlySeen) {
  ConnectionGate gate(options(1000, 1000));
  gate.punish(1, kSecond);
  gate.admit(2, kSecond);
  gate.admit(3, kSecond);
  EXPECT_EQ(gate.connections(), 3u);
  gate.admit(2, kSecond);  // 1 is now the least recently seen
  gate.admit(4, kSecond);  // ... and is forgotten
  EXPECT_EQ(gate.connections(), 3u);
  EXPECT_EQ(gate.admit(1, kSecond + 1), Verdict::kAdmit) << "a forgotten connection starts afresh";
  gate.punish(4, kSecond);  // still remembered: coming back, 1 made 3 the one forgotten
  EXPECT_EQ(gate.admit(4, kSecond + 2), Verdict::kMuted);
}

}  // namespace
}  // namespace phalanx::node
