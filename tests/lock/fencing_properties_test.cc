// The properties a lock service with fencing tokens must keep (Kleppmann, "How to do
// distributed locking", 2016; README.md here), over many seeds, on four simulated
// replicas with lossy, slow, duplicating networks, partitions that heal, and Byzantine
// replicas:
// - uniqueness: no two grants return the same token;
// - monotonic sequence: a grant submitted after another grant completed returns a larger
//   token (what the clients saw: completion records and the replies they accepted);
// - availability: every request of every (correct) client completes once the network
//   heals, with f = 1 replica lying.
// Every run also passes the framework's checker (agreement, order, exactly-once,
// durability, accountability, completion). Clients run LockWorkload (lock_sim.h):
// acquires on two contended locks with leases of 20-300 ms, releases and renewals with
// the tokens they were given, queries. A failing seed prints the command that replays it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "lock/lock_sim.h"
#include "phalanx/adversary/behaviour.h"
#include "sim/seed_runner.h"

namespace phalanx::lock {
namespace {

using adversary::SimCluster;
using adversary::sim_test::kMs;
using adversary::sim_test::SeedRun;

// The faults of one family of runs, on top of a lossy network drawn from the seed.
struct Faults {
  bool equivocating_primary = false;       // replica 0, the primary of view 0
  std::int64_t primary_clock_skew_ms = 0;  // replica 0's wall clock lies by this much
  bool partitions_then_heal = false;       // connectivity faults, then the network heals
};

constexpr pbft::Instant kSkewBound = 1 * pbft::kSecond;  // batch_time_skew_max

// Totals over the seeds of one test, to show the workload did contend.
struct Tally {
  std::uint64_t grants = 0;
  std::uint64_t refused_as_held = 0;
  pbft::Instant worst_recovery = 0;  // last completion after the heal
};

std::string node_name(net::NodeId node, std::uint32_t replicas) {
  return node < replicas ? "r" + std::to_string(node) : "c" + std::to_string(node - replicas);
}

// One to three connectivity faults before `heal_at`, then every one of them ends.
void add_partitions(SeedRun& run, net::Rng& rng, pbft::Instant heal_at) {
  const std::uint32_t replicas = run.options.replicas;
  const std::uint32_t nodes = replicas + run.options.clients;
  for (std::uint64_t i = rng.uniform(1, 3); i > 0; --i) {
    const pbft::Instant at = rng.uniform(0, heal_at / kMs - 1) * kMs;
    const std::string when = "@" + std::to_string(at / kMs) + "ms";
    if (rng.chance(0.5)) {
      auto node = static_cast<net::NodeId>(rng.uniform(0, nodes - 1));
      run.changes.emplace_back(at, [node](net::SimNetwork& network) { network.isolate(node); });
      run.faults += " isolate(" + node_name(node, replicas) + ")" + when;
      continue;
    }
    std::vector<net::NodeId> side;
    std::string names;
    for (net::NodeId id = 0; id < replicas; ++id) {
      if (!rng.chance(0.5)) continue;
      side.push_back(id);
      names += node_name(id, replicas);
    }
    run.changes.emplace_back(at, [side](net::SimNetwork& network) { network.partition({side}); });
    run.faults += " partition(" + names + "|rest)" + when;
  }
  run.changes.emplace_back(heal_at, [](net::SimNetwork& network) { network.heal(); });
  run.faults += " heal@" + std::to_string(heal_at / kMs) + "ms";
}

SeedRun lock_run(std::uint64_t seed, const Faults& faults, const std::shared_ptr<Tally>& tally) {
  net::Rng rng(seed);
  SeedRun run;
  auto& options = run.options;
  options.seed = seed;
  options.replicas = 4;
  options.clients = static_cast<std::uint32_t>(rng.uniform(2, 4));
  options.requests_per_client = static_cast<std::uint32_t>(rng.uniform(10, 20));
  options.think_time = rng.uniform(0, 30) * kMs;
  options.network.latency_min_ns = 1 * kMs;
  options.network.latency_max_ns = rng.uniform(2, 20) * kMs;
  options.network.drop_probability = static_cast<double>(rng.uniform(0, 10)) / 100;
  options.network.duplicate_probability = static_cast<double>(rng.uniform(0, 5)) / 100;
  options.replica_options.batch_time_skew_max = kSkewBound;
  options.time_limit = 120 * pbft::kSecond;
  options.steps_max = 5'000'000;
  options.make_application = sim::make_recording_application;
  auto workload = std::make_shared<sim::LockWorkload>(rng.next(), sim::WorkloadShape{});
  options.make_operation = [workload](std::uint32_t client, std::uint32_t number) {
    return workload->next(client, number);
  };
  pbft::Instant heal_at = 0;
  if (faults.partitions_then_heal) {
    heal_at = rng.uniform(500, 3'000) * kMs;
    add_partitions(run, rng, heal_at);
  }
  if (faults.equivocating_primary) run.faults += " equivocating primary r0";
  if (faults.primary_clock_skew_ms != 0)
    run.faults += " r0 clock " + std::to_string(faults.primary_clock_skew_ms) + " ms";

  run.setup = [workload, faults](SimCluster& cluster) {
    workload->attach(cluster);
    if (faults.equivocating_primary) {
      auto behaviour = adversary::make_behaviour("equivocate", cluster.behaviour_context(0));
      PHALANX_ASSERT(behaviour.ok(), "the equivocate behaviour is built in");
      cluster.set_behaviour(0, std::move(behaviour).value());
    }
    if (faults.primary_clock_skew_ms != 0)
      cluster.set_wall_clock_skew(0, faults.primary_clock_skew_ms);
  };
  run.verify = [tally, heal_at](const SimCluster& cluster, const adversary::RunResult& result) {
    auto answers = sim::answers(cluster);
    if (!answers.ok()) return answers.error().message;
    for (const auto& answer : answers.value()) {
      tally->grants += answer.reply.outcome == Outcome::kGranted;
      tally->refused_as_held += answer.reply.outcome == Outcome::kHeld;
    }
    if (heal_at > 0 && result.completed_at > heal_at)
      tally->worst_recovery = std::max(tally->worst_recovery, result.completed_at - heal_at);
    return sim::fencing_problem(answers.value());
  };
  return run;
}

void run_family(const Faults& faults, std::uint64_t seeds) {
  auto tally = std::make_shared<Tally>();
  std::size_t ran = adversary::sim_test::run_seeds(
      [&](std::uint64_t seed) { return lock_run(seed, faults, tally); }, seeds);
  // The workload must have contended for the properties to mean something.
  EXPECT_GE(tally->grants, ran * 5) << "too few grants";
  if (ran >= 10) {
    EXPECT_GT(tally->refused_as_held, 0u) << "no client ever found a lock held";
  }
  std::printf("%zu seeds: %llu grants, %llu acquires refused as held", ran,
              static_cast<unsigned long long>(tally->grants),
              static_cast<unsigned long long>(tally->refused_as_held));
  if (faults.partitions_then_heal)
    std::printf(", last completion at most %llu ms after the heal",
                static_cast<unsigned long long>(tally->worst_recovery / kMs));
  std::printf("\n");
}

// The check itself can fail: fabricated answers that break each property.
sim::Answer grant(std::uint32_t client, pbft::Instant submitted_ms, pbft::Instant completed_ms,
                  Token token) {
  sim::Answer answer;
  answer.client = client;
  answer.submitted_at = submitted_ms * kMs;
  answer.completed_at = completed_ms * kMs;
  answer.reply.outcome = Outcome::kGranted;
  answer.reply.token = token;
  return answer;
}

TEST(LockFencingCheck, FindsARepeatedTokenAndAnOlderTokenAfterACompletedGrant) {
  EXPECT_EQ(sim::fencing_problem({grant(0, 0, 10, 1), grant(1, 20, 30, 2)}), "");
  // Overlapping grants may complete in either order: no order between them is promised.
  EXPECT_EQ(sim::fencing_problem({grant(0, 0, 30, 2), grant(1, 5, 20, 1)}), "");
  EXPECT_NE(sim::fencing_problem({grant(0, 0, 10, 1), grant(1, 20, 30, 1)}).find("uniqueness"),
            std::string::npos);
  EXPECT_NE(sim::fencing_problem({grant(0, 0, 10, 2), grant(1, 20, 30, 1)}).find("monotonic"),
            std::string::npos);
}

TEST(LockFencing, TokensUniqueAndIncreasingOverALossyNetwork) {
  run_family(Faults{}, 150);
}

TEST(LockFencing, TokensUniqueAndIncreasingWithAnEquivocatingPrimary) {
  run_family(Faults{.equivocating_primary = true}, 100);
}

// Inside the skew bound the backups accept its times: leases end early by up to 0.8 s of
// true time (README.md, "Leases and clocks"), and the tokens still order the holders.
TEST(LockFencing, TokensUniqueAndIncreasingWithAPrimaryClockAheadWithinTheBound) {
  run_family(Faults{.primary_clock_skew_ms = 800}, 60);
}

// Beyond the bound nothing it proposes is prepared: it is replaced, and the service goes on.
TEST(LockFencing, TokensUniqueAndIncreasingWithAPrimaryClockFarOff) {
  run_family(Faults{.primary_clock_skew_ms = -30'000}, 60);
}

TEST(LockAvailability, EveryRequestCompletesOnceThePartitionsHeal) {
  run_family(Faults{.partitions_then_heal = true}, 100);
}

TEST(LockAvailability, EveryRequestCompletesOnceThePartitionsHealDespiteAnEquivocatingPrimary) {
  run_family(Faults{.equivocating_primary = true, .partitions_then_heal = true}, 60);
}

}  // namespace
}  // namespace phalanx::lock
