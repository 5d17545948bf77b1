// End-to-end simulation of the normal case (PBFT 4.2) with checkpoints (4.3): whole
// clusters over a lossy, slow, duplicating, reordering network, many seeds, checked for
// S1-S3, S5 and completion. A failing seed prints the one command that replays it
// (environment variables: see seed_runner.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/examples/kv_application.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

// A small cluster over a random faulty network, all drawn from the seed.
SeedRun random_faults(std::uint64_t seed, std::uint32_t replicas) {
  net::Rng rng(seed);
  return random_cluster(seed, replicas,
                        RandomShape{.requests_min = 10,
                                    .requests_max = 20,
                                    .latency_max_ms_min = 1,
                                    .latency_max_ms_max = 20,
                                    .drop_percent_max = 30,
                                    .duplicate_percent_max = 10,
                                    .steps_max = 2'000'000},
                        rng);
}

// The same, with a log window of a few sequence numbers (checkpoints, garbage collection
// and the full-window paths all run constantly) and one replica, maybe the primary,
// crashed from the start (f = 1).
SeedRun small_window_one_silent(std::uint64_t seed) {
  SeedRun run = random_faults(seed, 4);
  net::Rng rng = net::Rng(seed).fork(1);
  run.options.replica_options.checkpoint_interval = rng.uniform(2, 4);
  run.options.silent = {static_cast<pbft::ReplicaId>(rng.uniform(0, 3))};
  return run;
}

SeedRun n4(std::uint64_t seed) {
  return random_faults(seed, 4);
}
SeedRun n7(std::uint64_t seed) {
  return random_faults(seed, 7);
}

// 300 seeds with n = 4 and 200 with n = 7, two shards each.
TEST(NormalCase, RandomFaultsN4Shard0) {
  run_seeds(n4, 300, 0, 2);
}
TEST(NormalCase, RandomFaultsN4Shard1) {
  run_seeds(n4, 300, 1, 2);
}
TEST(NormalCase, RandomFaultsN7Shard0) {
  run_seeds(n7, 200, 0, 2);
}
TEST(NormalCase, RandomFaultsN7Shard1) {
  run_seeds(n7, 200, 1, 2);
}
TEST(NormalCase, RandomFaultsSmallWindowOneSilent) {
  run_seeds(small_window_one_silent, 100);
}

TEST(NormalCase, SameSeedReplaysExactly) {
  SimClusterOptions options = random_faults(seed_or(7), 4).options;
  options.network.drop_probability = 0.1;
  options.network.duplicate_probability = 0.05;
  SimCluster first(options);
  SimCluster second(options);
  RunResult a = first.run();
  RunResult b = second.run();
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.sim_time, b.sim_time);
  EXPECT_EQ(a.summary(), b.summary());
  EXPECT_TRUE(first.history() == second.history());
  EXPECT_GT(a.network.delivered, 0u);

  options.seed += 1;  // and another seed gives another run
  SimCluster third(options);
  EXPECT_NE(third.run().trace_hash, a.trace_hash);
}

TEST(NormalCase, SilentBackupDoesNotStopProgress) {
  SimClusterOptions options;
  options.seed = seed_or(11);
  options.clients = 3;
  options.requests_per_client = 20;
  options.network = net::LinkRule{1 * kMs, 10 * kMs, 0.05, 0.02};
  options.silent = {3};  // a backup of view 0, crashed from the start: f = 1 is tolerated
  // A client completes on f+1 replies; the third correct replica may still be recovering
  // a lost COMMIT then. Every correct replica executes everything, eventually.
  options.settle_time = 1 * pbft::kSecond;
  SimCluster cluster(options);
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << reproduce_command(options.seed);
  EXPECT_EQ(result.replicas[3].last_executed, 0u);
  EXPECT_GT(result.harness.delivered_to_silent, 0u);
  for (pbft::ReplicaId id = 0; id < 3; ++id) {
    EXPECT_EQ(cluster.kv(id).entries().count("c2-k20"), 1u) << "replica " << id;
  }
}

// PBFT 4.4: a primary crashed from the start is replaced by a view change, and every
// request still completes.
TEST(NormalCase, SilentPrimaryIsReplacedByAViewChange) {
  SimClusterOptions options;
  options.seed = seed_or(13);
  options.clients = 3;
  options.requests_per_client = 20;
  options.network = net::LinkRule{1 * kMs, 10 * kMs, 0.05, 0.02};
  options.silent = {0};  // the primary of view 0
  SimCluster cluster(options);
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << reproduce_command(options.seed);
  for (pbft::ReplicaId id = 1; id < 4; ++id) EXPECT_GE(result.replicas[id].view, 1u);
}

TEST(NormalCase, LossyPeriodThenHealCompletes) {
  SimClusterOptions options;
  options.seed = seed_or(5);
  options.clients = 3;
  options.requests_per_client = 30;
  options.network = net::LinkRule{1 * kMs, 5 * kMs, 0, 0};
  SimCluster cluster(options);
  cluster.schedule(20 * kMs, [](net::SimNetwork& network) {
    network.set_rule(net::LinkRule{1 * kMs, 30 * kMs, 0.5, 0.1});
    network.cut(1, 2);
  });
  cluster.schedule(2 * pbft::kSecond, [](net::SimNetwork& network) {
    network.set_rule(net::LinkRule{1 * kMs, 5 * kMs, 0, 0});
    network.heal();
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << reproduce_command(options.seed);
  EXPECT_GT(result.network.dropped, 0u);
  EXPECT_GT(result.network.cut, 0u);
}

// PBFT 4.3: checkpoints every K = 128 make the log window [h, h + 256] slide; the log
// never holds more than the window, however many requests go through.
TEST(NormalCase, CheckpointsBoundTheLog) {
  SimClusterOptions options;
  options.seed = seed_or(3);
  options.clients = 20;
  options.requests_per_client = 500;
  options.replica_options.checkpoint_interval = 128;
  options.replica_options.window_checkpoints = 2;
  options.network = net::LinkRule{1 * kMs, 4 * kMs, 0, 0};
  options.time_limit = 3600 * pbft::kSecond;
  SimCluster cluster(options);
  std::size_t log_slots_max = 0;
  cluster.set_step_observer([&](pbft::ReplicaId, const pbft::Replica& replica) {
    log_slots_max = std::max(log_slots_max, replica.status().log_slots);
  });
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  EXPECT_EQ(result.completed_requests, 10'000u);
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << reproduce_command(options.seed);
  if (std::getenv("PHALANX_SIM_VERBOSE") != nullptr) std::printf("%s\n", result.summary().c_str());
  // The window (2 x 128) above the stable checkpoint, and the committed slots between the
  // previous stable checkpoint and it (128), kept for peers catching up by the log.
  EXPECT_LE(log_slots_max, 3 * 128u);
  EXPECT_GT(log_slots_max, 0u);
  for (const auto& status : result.replicas) {
    EXPECT_GE(status.stable_seq, 128u) << result.summary();
    EXPECT_LE(status.last_executed - status.stable_seq, 256u) << result.summary();
  }
}

}  // namespace
}  // namespace phalanx::adversary
