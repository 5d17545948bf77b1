// Crash-recovery (DESIGN.md "System model": correct replicas crash and restart with what
// they made durable). Replicas keep their records in the real on-disk format on simulated
// disks; they crash at random instants, in the middle of a sync (the disk keeps a random
// prefix of what was being written, or all, or none), and in the middle of sending a
// step's messages; up to all of them at once; then restart and recover. Over many seeds:
// S1-S5 hold (the checker, which also watches every message each replica signs for a
// conflicting one), every result a client accepted is in every replica's final state,
// and every request completes once the replicas are back.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/examples/kv_application.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;
using CrashPolicy = SimCluster::CrashPolicy;

std::string to_string(CrashPolicy policy) {
  switch (policy) {
    case CrashPolicy::kDropUnsynced:
      return "drop";
    case CrashPolicy::kKeepPrefix:
      return "tear";
    case CrashPolicy::kKeepAll:
      return "keep";
  }
  return "?";
}

// How a replica goes down in one wave of crashes.
enum class CrashKind { kInstant, kWhilePersisting, kWhileSending };

struct Wave {
  pbft::Instant at = 0;
  pbft::Instant downtime = 0;
  std::set<pbft::ReplicaId> replicas;
};

// Replicas marked to crash at their next message (kWhileSending), decided per wave.
struct Pending {
  std::set<pbft::ReplicaId> at_next_send;
  std::uint64_t crashed_while_sending = 0;
};

// Every replica that is up at the end holds every accepted put, and all of them the
// same entries at the same last executed sequence number.
std::string check_final_states(const SimCluster& cluster, const RunResult& result) {
  pbft::Seq furthest = 0;
  for (pbft::ReplicaId id = 0; id < result.replicas.size(); ++id)
    if (!result.crashed[id]) furthest = std::max(furthest, result.replicas[id].last_executed);
  const std::map<std::string, std::string>* reference = nullptr;
  for (pbft::ReplicaId id = 0; id < result.replicas.size(); ++id) {
    if (result.crashed[id]) continue;
    if (result.replicas[id].last_executed != furthest)
      return "replica " + std::to_string(id) + " stopped at seq " +
             std::to_string(result.replicas[id].last_executed) + " of " + std::to_string(furthest);
    const auto& entries = cluster.kv(id).entries();
    if (reference && entries != *reference)
      return "replica " + std::to_string(id) + " holds other entries than the others";
    reference = &entries;
  }
  if (!reference) return "every replica is down at the end";
  // The workload's n-th request of client i puts key c<i>-k<n> (sim_cluster.cc), and a
  // client's completions come in the order of its requests.
  std::map<std::uint32_t, std::uint32_t> completed;
  for (const auto& completion : cluster.completions()) {
    std::string key = "c" + std::to_string(completion.client) + "-k" +
                      std::to_string(++completed[completion.client]);
    if (!reference->count(key)) return "the accepted put of " + key + " is missing";
  }
  return {};
}

SeedRun crashes_and_restarts(std::uint64_t seed, bool all_at_once) {
  net::Rng rng(seed);
  std::uint32_t replicas = rng.chance(0.2) ? 7 : 4;
  SeedRun run = random_cluster(seed, replicas,
                               RandomShape{.requests_min = 15,
                                           .requests_max = 30,
                                           .latency_max_ms_min = 1,
                                           .latency_max_ms_max = 10,
                                           .drop_percent_max = 10,
                                           .duplicate_percent_max = 5,
                                           .steps_max = 5'000'000},
                               rng);
  SimClusterOptions& options = run.options;
  options.storage = SimClusterOptions::Storage::kLog;
  // Small checkpoint intervals: snapshots, and crashes around them, happen often.
  options.replica_options.checkpoint_interval = rng.uniform(2, 16);
  options.settle_time = 5 * pbft::kSecond;

  // View changes, so that crashes also hit replicas in the middle of them and recovery
  // has prepared certificates to carry: a replica (often the primary) is cut off for a
  // while, in half of the seeds.
  if (rng.chance(0.5)) {
    auto isolated = static_cast<net::NodeId>(rng.chance(0.5) ? 0 : rng.uniform(0, replicas - 1));
    pbft::Instant from = rng.uniform(0, 1500) * kMs;
    pbft::Instant until = from + rng.uniform(200, 2000) * kMs;
    run.changes.emplace_back(from,
                             [isolated](net::SimNetwork& network) { network.isolate(isolated); });
    run.changes.emplace_back(until, [](net::SimNetwork& network) { network.heal(); });
    run.faults += " isolate(r" + std::to_string(isolated) + ")@" + std::to_string(from / kMs) +
                  "-" + std::to_string(until / kMs) + "ms";
  }

  // One to three waves; each takes down some replicas (all of them with all_at_once, and
  // in a fifth of the other waves) and brings them back after a downtime.
  std::vector<Wave> waves;
  const std::uint64_t count = all_at_once ? 1 : rng.uniform(1, 3);
  for (std::uint64_t i = 0; i < count; ++i) {
    Wave wave;
    wave.at = rng.uniform(5, 2500) * kMs;
    wave.downtime = rng.uniform(10, 3000) * kMs;
    bool everyone = all_at_once || rng.chance(0.2);
    for (pbft::ReplicaId id = 0; id < replicas; ++id)
      if (everyone || rng.chance(0.4)) wave.replicas.insert(id);
    if (wave.replicas.empty())
      wave.replicas.insert(static_cast<pbft::ReplicaId>(rng.uniform(0, replicas - 1)));
    waves.push_back(wave);
  }

  auto pending = std::make_shared<Pending>();
  for (const Wave& wave : waves) {
    run.faults += " wave@" + std::to_string(wave.at / kMs) + "ms+" +
                  std::to_string(wave.downtime / kMs) + "ms{";
    for (pbft::ReplicaId id : wave.replicas) {
      auto kind = static_cast<CrashKind>(rng.uniform(0, 2));
      auto policy = static_cast<CrashPolicy>(rng.uniform(0, 2));
      run.faults += " r" + std::to_string(id) + ":" +
                    (kind == CrashKind::kInstant           ? "instant"
                     : kind == CrashKind::kWhilePersisting ? "persisting"
                                                           : "sending") +
                    "/" + to_string(policy);
      run.actions.emplace_back(wave.at, [id, kind, policy, pending](SimCluster& cluster) {
        if (cluster.crashed(id)) return;
        switch (kind) {
          case CrashKind::kInstant:
            cluster.crash(id, policy);
            break;
          case CrashKind::kWhilePersisting:
            cluster.crash_while_persisting(id, policy);
            break;
          case CrashKind::kWhileSending:
            pending->at_next_send.insert(id);
            break;
        }
      });
      // A replica that never reached its crash point (idle) goes down at the restart time
      // anyway, so that every wave has a crash and a restart.
      run.actions.emplace_back(wave.at + wave.downtime, [id, pending](SimCluster& cluster) {
        pending->at_next_send.erase(id);
        cluster.crash(id);
      });
      run.actions.emplace_back(wave.at + wave.downtime + 1, [id](SimCluster& cluster) {
        bool restarted = cluster.restart(id);
        PHALANX_ASSERT(restarted, "a replica's disk without bit flips always loads");
      });
    }
    run.faults += "}";
  }
  run.setup = [pending](SimCluster& cluster) {
    // A replica marked to crash while sending goes down at its next message: the
    // message leaves with a probability of one half, the rest of its step never does.
    cluster.set_send_filter([pending](SimCluster& c, const SentMessage& sent) {
      if (sent.from >= c.options().replicas || !pending->at_next_send.count(sent.from))
        return SendVerdict::kSend;
      pending->at_next_send.erase(sent.from);
      ++pending->crashed_while_sending;
      c.crash(sent.from);
      return (sent.at / kMs) % 2 ? SendVerdict::kSend : SendVerdict::kDrop;
    });
  };
  run.verify = check_final_states;
  return run;
}

// At least 500 seeds in all (the issue's floor), over four shards that ctest runs in
// parallel.
constexpr std::uint64_t kSeeds = 480;
constexpr std::uint64_t kShards = 4;
constexpr std::uint64_t kAllAtOnceSeeds = 100;

TEST(CrashRecovery, RandomCrashesAndRestartsShard0) {
  run_seeds([](std::uint64_t seed) { return crashes_and_restarts(seed, false); }, kSeeds, 0,
            kShards);
}
TEST(CrashRecovery, RandomCrashesAndRestartsShard1) {
  run_seeds([](std::uint64_t seed) { return crashes_and_restarts(seed, false); }, kSeeds, 1,
            kShards);
}
TEST(CrashRecovery, RandomCrashesAndRestartsShard2) {
  run_seeds([](std::uint64_t seed) { return crashes_and_restarts(seed, false); }, kSeeds, 2,
            kShards);
}
TEST(CrashRecovery, RandomCrashesAndRestartsShard3) {
  run_seeds([](std::uint64_t seed) { return crashes_and_restarts(seed, false); }, kSeeds, 3,
            kShards);
}
// With a tighter pipeline (two batches in flight) the runs take other paths. Seed 474
// found that a replica fetching the older of two checkpoints nobody serves any more (its
// peers restarted from the newer one) asked for it for ever; a transfer that gets no chunk
// for a few timeouts now moves to the newer checkpoint (state_transfer.cc).
TEST(CrashRecovery, RandomCrashesAndRestartsTightPipeline) {
  auto tight = [](std::uint64_t seed) {
    SeedRun run = crashes_and_restarts(seed, false);
    run.options.replica_options.pipeline_batches_max = 2;
    return run;
  };
  if (!env_number("PHALANX_SEED")) {
    EXPECT_TRUE(run_seed(tight(474)));
  }
  run_seeds(tight, 40);
}
// Every replica at the same instant, each at its own kind of crash point.
TEST(CrashRecovery, AllReplicasAtOnce) {
  run_seeds([](std::uint64_t seed) { return crashes_and_restarts(seed, true); }, kAllAtOnceSeeds);
}

}  // namespace
}  // namespace phalanx::adversary
