// Adaptive batching (ReplicaOptions::pipeline_batches_max): under load, a primary with
// that many batches in flight lets the next one fill up instead of sending it at
// batch_delay_max, so the agreement's signatures are spread over more requests.
//
// Whether that buys throughput depends on where the CPU is. In this simulator every
// replica has a processor of its own (SimClusterOptions::cpu: one message at a time,
// Ed25519 at this machine's cost), so a waiting primary idles and a tight pipeline costs
// throughput; on a machine whose cores the replicas share (phalanx-bench on 2 cores) the
// CPU saved goes to the others and a pipeline of 4 gains throughput at high load
// (docs/performance.md). So: the mechanism must grow batches, and the default must not
// cost throughput where the cores are dedicated. Simulated time: the figures are
// deterministic, and asserting on them is not a timed test.
#include <gtest/gtest.h>

#include <cstdio>

#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

struct Outcome {
  double requests_per_second = 0;  // simulated
  double requests_per_batch = 0;
};

Outcome run(std::uint64_t seed, std::size_t pipeline_batches_max) {
  SimClusterOptions options;
  options.seed = seed;
  options.clients = 32;  // closed loop: 32 requests outstanding
  options.requests_per_client = 30;
  options.network = net::LinkRule{1 * kMs, 2 * kMs, 0, 0};
  options.cpu = SimClusterOptions::Cpu{5'000, 1'000, 55'000, 20'000};
  options.replica_options.pipeline_batches_max = pipeline_batches_max;
  SimCluster cluster(options);
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary();
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << reproduce_command(seed);
  EXPECT_GT(result.harness.executed_batches, 0u);
  Outcome outcome;
  outcome.requests_per_second = static_cast<double>(result.completed_requests) /
                                (static_cast<double>(result.completed_at) / pbft::kSecond);
  // Every replica executes every batch: one replica's share.
  outcome.requests_per_batch = static_cast<double>(result.completed_requests) * options.replicas /
                               static_cast<double>(result.harness.executed_batches);
  return outcome;
}

TEST(AdaptiveBatching, BatchesGrowAndTheDefaultCostsNoThroughput) {
  const std::size_t default_pipeline = pbft::ReplicaOptions{}.pipeline_batches_max;
  ASSERT_GT(default_pipeline, 0u) << "adaptive batching is on by default";
  for (std::uint64_t seed : seeds(3)) {
    Outcome off = run(seed, 0);
    Outcome tight = run(seed, 1);
    Outcome standard = run(seed, default_pipeline);
    std::printf(
        "seed %llu: req/s and req/batch: off %.0f %.1f, pipeline 1 %.0f %.1f, "
        "pipeline %zu %.0f %.1f\n",
        static_cast<unsigned long long>(seed), off.requests_per_second, off.requests_per_batch,
        tight.requests_per_second, tight.requests_per_batch, default_pipeline,
        standard.requests_per_second, standard.requests_per_batch);
    EXPECT_GT(tight.requests_per_batch, 2 * off.requests_per_batch) << "seed " << seed;
    // At this load the default pipeline rarely fills, so its batches are the same as with
    // it off but for the interleaving (6.1 against 6.2 requests on one seed): within 5%.
    EXPECT_GE(standard.requests_per_batch, 0.95 * off.requests_per_batch) << "seed " << seed;
    EXPECT_GE(standard.requests_per_second, 0.95 * off.requests_per_second) << "seed " << seed;
  }
}

}  // namespace
}  // namespace phalanx::adversary
