// L1 and S1-S3 across connectivity faults (DESIGN.md "System model"): replicas isolated,
// one-way cuts, partitions, and one replica crashed from the start, all before an unknown
// stabilisation time after which the network heals (it stays lossy). Safety must hold
// throughout; every request must complete after the heal. A failing seed prints the one
// command that replays it (environment variables: see seed_runner.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

// Up to kFaultsMax connectivity faults at random times before the heal.
constexpr std::uint64_t kFaultsMax = 4;

std::string node_name(const SimClusterOptions& options, net::NodeId node) {
  return node < options.replicas ? "r" + std::to_string(node)
                                 : "c" + std::to_string(node - options.replicas);
}

void add_fault(SeedRun& run, net::Rng& rng, pbft::Instant at) {
  const SimClusterOptions& options = run.options;
  const std::uint32_t nodes = options.replicas + options.clients;
  auto replica = static_cast<net::NodeId>(rng.uniform(0, options.replicas - 1));
  std::string when = "@" + std::to_string(at / kMs) + "ms";
  switch (rng.uniform(0, 2)) {
    case 0:
      run.changes.emplace_back(at,
                               [replica](net::SimNetwork& network) { network.isolate(replica); });
      run.faults += " isolate(" + node_name(options, replica) + ")" + when;
      break;
    case 1: {
      auto to = static_cast<net::NodeId>(rng.uniform(0, nodes - 1));
      if (to == replica) break;
      run.changes.emplace_back(
          at, [replica, to](net::SimNetwork& network) { network.cut(replica, to); });
      run.faults +=
          " cut(" + node_name(options, replica) + "->" + node_name(options, to) + ")" + when;
      break;
    }
    default: {
      std::vector<net::NodeId> side;  // the other replicas and every client: the other side
      for (net::NodeId id = 0; id < options.replicas; ++id) {
        if (rng.chance(0.5)) side.push_back(id);
      }
      run.changes.emplace_back(at, [side](net::SimNetwork& network) { network.partition({side}); });
      std::string names;
      for (auto id : side) names += node_name(options, id);
      run.faults += " partition(" + names + "|rest)" + when;
      break;
    }
  }
}

SeedRun partitions_cuts_and_a_crash(std::uint64_t seed) {
  net::Rng rng(seed);
  SeedRun run;
  SimClusterOptions& options = run.options;
  options.seed = seed;
  options.replicas = rng.chance(0.5) ? 4 : 7;
  options.clients = static_cast<std::uint32_t>(rng.uniform(1, 3));
  options.requests_per_client = static_cast<std::uint32_t>(rng.uniform(5, 20));
  options.network.latency_min_ns = 1 * kMs;
  options.network.latency_max_ns = rng.uniform(1, 30) * kMs;
  options.network.drop_probability = static_cast<double>(rng.uniform(0, 30)) / 100;
  options.network.duplicate_probability = static_cast<double>(rng.uniform(0, 10)) / 100;
  if (rng.chance(0.4)) {
    options.silent = {static_cast<pbft::ReplicaId>(rng.uniform(0, options.replicas - 1))};
  }
  options.time_limit = 120 * pbft::kSecond;  // the heal comes within 10 s
  options.steps_max = 3'000'000;             // ~100x what a seed needs: a spinning core fails fast

  const pbft::Instant heal_at = rng.uniform(1, 10) * pbft::kSecond;
  const std::uint64_t faults = rng.uniform(0, kFaultsMax);
  for (std::uint64_t i = 0; i < faults; ++i) add_fault(run, rng, rng.uniform(0, heal_at - 1));
  run.changes.emplace_back(heal_at, [](net::SimNetwork& network) { network.heal(); });
  run.faults += " heal@" + std::to_string(heal_at / kMs) + "ms";
  return run;
}

TEST(NetworkFaults, PartitionsCutsAndACrashThenHeal) {
  run_seeds(partitions_cuts_and_a_crash, 200);
}

}  // namespace
}  // namespace phalanx::adversary
