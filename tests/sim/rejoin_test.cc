// A replica without its durable state (a wiped disk, or one it refuses because a bit
// flipped) rejoins by state transfer from peers it does not trust: one of them serves
// chunks with flipped bytes, validly signed. The replica checks every chunk against the
// checkpoint digest 2f+1 replicas certified, moves to another peer when one lies, ends
// with the others' state, and votes again only once it cannot contradict what it signed
// before (rejoin.cc). Many seeds; S1-S5 hold with the lying peer as the one fault.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/examples/kv_application.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

constexpr pbft::ReplicaId kLiar = 1;
constexpr pbft::ReplicaId kRejoiner = 3;

// The rejoined replica: back to voting, with the state of the others.
std::string check_rejoined(const SimCluster& cluster, const RunResult& result) {
  const pbft::ReplicaStatus& rejoiner = result.replicas[kRejoiner];
  if (result.crashed[kRejoiner]) return "the rejoining replica is down at the end";
  if (rejoiner.rejoining) return "replica 3 is still rejoining at the end";
  for (pbft::ReplicaId id : {0u, 2u}) {
    if (result.replicas[id].last_executed != rejoiner.last_executed)
      return "replica 3 stopped at seq " + std::to_string(rejoiner.last_executed) + ", replica " +
             std::to_string(id) + " at " + std::to_string(result.replicas[id].last_executed);
    if (cluster.kv(id).entries() != cluster.kv(kRejoiner).entries())
      return "replica 3 ended with another state than replica " + std::to_string(id);
  }
  if (result.harness.state_transfers == 0) return "replica 3 caught up without a state transfer";
  return {};
}

// A bit whose flip the storage must detect: anywhere in the snapshot if there is one,
// else in the first record of the log (the log format is in docs/storage.md: a 32-byte
// segment header, then records of a 16-byte header and a payload) when another follows
// it. (A flip in the very last record looks like a torn write and is cut off.)
std::pair<std::string, std::uint64_t> damageable_bit(storage::SimFileSystem& disk,
                                                     std::uint64_t random) {
  for (const auto& file : disk.files())
    if (file.find(".snap") != std::string::npos)
      return {file, random % (8 * disk.synced_size(file))};
  constexpr std::uint64_t kSegmentHeader = 32, kRecordHeader = 16;
  for (const auto& file : disk.files()) {
    if (file.find(".wal") == std::string::npos) continue;
    Bytes bytes = disk.read_file(file).value();
    if (bytes.size() < kSegmentHeader + kRecordHeader) continue;
    std::uint64_t length = 0;
    for (int i = 3; i >= 0; --i)
      length = (length << 8) | static_cast<unsigned char>(bytes[kSegmentHeader + i]);
    std::uint64_t first_end = kSegmentHeader + kRecordHeader + length;
    if (first_end + kRecordHeader <= bytes.size())
      return {file, 8 * kSegmentHeader + random % (8 * (first_end - kSegmentHeader))};
  }
  PHALANX_ASSERT(false, "no log with two records to damage");
  return {};
}

// How the rejoiner lost its state.
enum class Loss { kWiped, kBitFlip };

SeedRun rejoin_run(std::uint64_t seed, Loss loss) {
  net::Rng rng(seed);
  SeedRun run;
  SimClusterOptions& options = run.options;
  options.seed = seed;
  options.replicas = 4;
  options.clients = 2;
  options.requests_per_client = static_cast<std::uint32_t>(rng.uniform(180, 240));
  // Paced, so that the load outlasts the rejoin by well over a window on any network: a
  // closed loop on a fast one can finish before the replica is back, leaving it nothing
  // to catch up with (and no checkpoint to pass its rejoin horizon).
  options.think_time = 20 * kMs;
  options.network.latency_min_ns = 1 * kMs;
  options.network.latency_max_ns = rng.uniform(1, 8) * kMs;
  options.network.drop_probability = static_cast<double>(rng.uniform(0, 5)) / 100;
  options.storage = SimClusterOptions::Storage::kLog;
  options.replica_options.checkpoint_interval = 16;  // the rejoin horizon: a window, 32 seqs
  // Small chunks: a transfer takes several of them, and the liar gets its turns. (Not so
  // small that a transfer outlasts a checkpoint interval: the target would move on and the
  // transfer start over, for as long as the load lasts; docs/storage.md.)
  options.replica_options.state_chunk_bytes = rng.uniform(1024, 4096);
  options.settle_time = 3 * pbft::kSecond;
  options.time_limit = 300 * pbft::kSecond;
  options.steps_max = 10'000'000;

  // Down long enough that the cluster has dropped the log it would need to catch up by
  // retransmission; early enough that it goes on for well over a window after the rejoin.
  // (With a bit flip, late enough that a snapshot exists to damage.)
  const pbft::Instant crash_at = rng.uniform(loss == Loss::kWiped ? 50 : 250, 400) * kMs;
  const pbft::Instant back_at = crash_at + rng.uniform(1000, 2000) * kMs;
  run.faults = std::string(" liar=r1(corrupt-chunks) ") +
               (loss == Loss::kWiped ? "wipe" : "bitflip") + "(r3)@" +
               std::to_string(crash_at / kMs) + "ms back@" + std::to_string(back_at / kMs) + "ms";
  auto refusal = std::make_shared<std::string>();
  run.actions.emplace_back(crash_at, [](SimCluster& cluster) { cluster.crash(kRejoiner); });
  run.actions.emplace_back(back_at, [loss, refusal, flip = rng.next()](SimCluster& cluster) {
    if (loss == Loss::kWiped) return cluster.rejoin(kRejoiner);
    // A flipped bit in the snapshot file, or in a log record that is not the last one
    // (both covered by checksums): the replica refuses to start, naming the file and the
    // offset; the operator restarts it with --rejoin.
    storage::SimFileSystem& disk = *cluster.disk(kRejoiner);
    auto [file, bit] = damageable_bit(disk, flip);
    disk.flip_bit(file, bit);
    PHALANX_ASSERT(!cluster.restart(kRejoiner), "a flipped bit went unnoticed");
    *refusal = cluster.refusal(kRejoiner);
    cluster.rejoin(kRejoiner);
  });
  run.setup = [](SimCluster& cluster) {
    auto liar = make_behaviour("corrupt-chunks", cluster.behaviour_context(kLiar));
    PHALANX_ASSERT(liar.ok(), "corrupt-chunks exists");
    cluster.set_behaviour(kLiar, std::move(liar).value());
  };
  run.happened = [refusal] { return refusal->empty() ? std::string() : " refused: " + *refusal; };
  run.verify = [loss, refusal](const SimCluster& cluster, const RunResult& result) {
    if (loss == Loss::kBitFlip && (refusal->find("/replica-3/") == std::string::npos ||
                                   refusal->find("offset") == std::string::npos))
      return "the refusal does not name the file and offset: '" + *refusal + "'";
    return check_rejoined(cluster, result);
  };
  return run;
}

// Counts over one test's seeds: the liar must actually have been caught lying.
TEST(Rejoin, WipedReplicaRejoinsWhileAPeerServesCorruptChunks) {
  std::uint64_t lies_caught = 0;
  run_seeds(
      [&](std::uint64_t seed) {
        SeedRun run = rejoin_run(seed, Loss::kWiped);
        auto verify = run.verify;
        run.verify = [verify, &lies_caught](const SimCluster& cluster, const RunResult& result) {
          auto found = result.harness.dropped_by_core.find("state chunk fails its Merkle proof");
          if (found != result.harness.dropped_by_core.end()) lies_caught += found->second;
          return verify(cluster, result);
        };
        return run;
      },
      24);
  if (!env_number("PHALANX_SEED")) {
    EXPECT_GT(lies_caught, 0u) << "the liar never served a chunk";
  }
}

TEST(Rejoin, ReplicaWithAFlippedBitRefusesToStartThenRejoins) {
  run_seeds([](std::uint64_t seed) { return rejoin_run(seed, Loss::kBitFlip); }, 16);
}

}  // namespace
}  // namespace phalanx::adversary
