// The harness's process faults and send filter do what sim_cluster.h says: a crashed
// replica never steps or sends again, not even the rest of the step it crashed in; a
// paused one does not step, and reads what was held for it when it resumes; the filter
// sees every message once per destination and can drop it; completion records and the
// settle time cover the whole run. Without these, the view-change tests would prove less
// than they claim.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

SimClusterOptions small_cluster(std::uint64_t seed) {
  SimClusterOptions options;
  options.seed = seed;
  options.clients = 2;
  options.requests_per_client = 20;
  options.network = net::LinkRule{1 * kMs, 5 * kMs, 0, 0};
  return options;
}

TEST(SimFaults, CrashedReplicaNeverStepsOrSendsAgain) {
  constexpr pbft::Instant kCrashAt = 30 * kMs;
  SimClusterOptions options = small_cluster(seed_or(41));
  SimCluster cluster(options);
  cluster.schedule_crash(kCrashAt, 2);
  std::uint64_t steps_after = 0;
  std::uint64_t sends_after = 0;
  cluster.set_step_observer([&](pbft::ReplicaId id, const pbft::Replica&) {
    if (id == 2 && cluster.now() >= kCrashAt) ++steps_after;
  });
  cluster.set_send_filter([&](SimCluster& c, const SentMessage& sent) {
    if (sent.from == 2 && c.now() >= kCrashAt) ++sends_after;
    return SendVerdict::kSend;
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  EXPECT_TRUE(cluster.check().empty());
  EXPECT_TRUE(cluster.crashed(2));
  EXPECT_TRUE(result.crashed[2]);
  EXPECT_EQ(steps_after, 0u);
  EXPECT_EQ(sends_after, 0u);
  EXPECT_GT(result.harness.delivered_to_silent, 0u);
}

// The filter crashes the primary after its first PRE-PREPARE reached one backup: the
// rest of that broadcast, and everything else it asked for in that step, never leaves.
TEST(SimFaults, FilterCrashesTheSenderMidBroadcast) {
  SimClusterOptions options = small_cluster(seed_or(43));
  SimCluster cluster(options);
  std::map<pbft::ReplicaId, int> pre_prepares_to;
  cluster.set_send_filter([&](SimCluster& c, const SentMessage& sent) {
    if (sent.kind() == wire::PRE_PREPARE && sent.from == 0) {
      ++pre_prepares_to[sent.to];
      c.crash(0);  // this one still leaves (kSend); nothing after it does
    }
    return SendVerdict::kSend;
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  EXPECT_TRUE(cluster.check().empty());
  ASSERT_EQ(pre_prepares_to.size(), 1u);
  EXPECT_EQ(pre_prepares_to.begin()->second, 1);
  EXPECT_GT(result.harness.unsent_after_crash, 0u);
  for (pbft::ReplicaId id = 1; id < 4; ++id) EXPECT_GE(result.replicas[id].view, 1u);
}

TEST(SimFaults, FilterDropsOneDestinationOfABroadcast) {
  SimClusterOptions options = small_cluster(seed_or(45));
  SimCluster cluster(options);
  std::uint64_t seen = 0;
  cluster.set_send_filter([&](SimCluster&, const SentMessage& sent) {
    if (sent.kind() != wire::COMMIT) return SendVerdict::kSend;
    ++seen;
    return sent.to == 3 ? SendVerdict::kDrop : SendVerdict::kSend;
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  EXPECT_TRUE(cluster.check().empty());
  EXPECT_GT(seen, 0u);
  EXPECT_GT(result.harness.filtered, 0u);
  EXPECT_LT(result.harness.filtered, seen);
}

// Paused from 20 ms to 520 ms: no step in between, the first step at the resume is a
// held message, and the replica ends level with the others.
TEST(SimFaults, PausedReplicaHoldsItsMessagesAndResumesUnaware) {
  constexpr pbft::Instant kFrom = 20 * kMs;
  constexpr pbft::Instant kUntil = 520 * kMs;
  SimClusterOptions options = small_cluster(seed_or(47));
  options.requests_per_client = 100;
  options.settle_time = 1 * pbft::kSecond;
  SimCluster cluster(options);
  cluster.pause(3, kFrom, kUntil);
  std::vector<pbft::Instant> steps;
  cluster.set_step_observer([&](pbft::ReplicaId id, const pbft::Replica&) {
    if (id == 3) steps.push_back(cluster.now());
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  EXPECT_TRUE(cluster.check().empty());
  EXPECT_FALSE(cluster.paused(3));
  EXPECT_TRUE(std::none_of(steps.begin(), steps.end(),
                           [&](pbft::Instant at) { return at > kFrom && at < kUntil; }));
  EXPECT_TRUE(std::count(steps.begin(), steps.end(), kUntil) > 1) << "held messages read at once";
  EXPECT_GT(result.harness.held_while_paused, 0u);
  EXPECT_EQ(result.replicas[3].last_executed, result.replicas[0].last_executed) << result.summary();
}

TEST(SimFaults, CompletionRecordsAndSettleTime) {
  SimClusterOptions options = small_cluster(seed_or(49));
  options.settle_time = 2 * pbft::kSecond;
  SimCluster cluster(options);
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  const auto& completions = cluster.completions();
  ASSERT_EQ(completions.size(), result.expected_requests);
  EXPECT_EQ(completions.back().completed_at, result.completed_at);
  EXPECT_EQ(result.sim_time, result.completed_at + options.settle_time);
  for (const auto& completion : completions) {
    EXPECT_LT(completion.submitted_at, completion.completed_at);
    EXPECT_EQ(completion.first_sent_to, 0u);  // the primary of view 0: nothing failed
    EXPECT_EQ(completion.broadcasts, 0u);
  }
}

}  // namespace
}  // namespace phalanx::adversary
