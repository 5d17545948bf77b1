// Batch times (ReplicaOptions::batch_time_skew_max): the time the application sees is
// agreed, strictly increasing, and close to true time even when a primary's wall clock
// lies. A primary whose clock is ahead or behind by more than the bound gets nothing
// prepared and is replaced; a backup with a wrong clock costs nothing; a primary with a
// slightly fast clock cannot push time backwards when it is replaced. Over many seeds.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>

#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

// Each failing seed replays alone: PHALANX_SEED=N <binary> --gtest_filter=BatchTime.<test>

namespace phalanx::adversary {
namespace {

using namespace sim_test;

constexpr pbft::Instant kBound = 1 * pbft::kSecond;
constexpr std::int64_t kBoundMs = 1000;

// Records the time of every executed request, per replica instance, and checks on the
// spot that it increases from batch to batch and never changes within one.
struct TimeLog {
  struct Entry {
    pbft::Seq seq;
    pbft::UnixMillis time;
  };
  std::vector<std::vector<Entry>> by_replica;
  std::vector<std::string> problems;
};

class TimedApplication : public pbft::Application {
 public:
  TimedApplication(std::shared_ptr<TimeLog> log, std::size_t index)
      : log_(std::move(log)), index_(index) {}
  Bytes execute(ByteView operation, const pbft::RequestContext& context) override {
    auto& entries = log_->by_replica[index_];
    if (!entries.empty()) {
      const auto& last = entries.back();
      bool same_batch = last.seq == context.seq;
      if (same_batch ? last.time != context.time : last.time >= context.time)
        log_->problems.push_back("seq " + std::to_string(context.seq) + " time " +
                                 std::to_string(context.time) + " after seq " +
                                 std::to_string(last.seq) + " time " + std::to_string(last.time));
    }
    if (context.time != batch_time_ && context.seq == batch_seq_)
      log_->problems.push_back("request time differs from begin_batch's");
    entries.push_back({context.seq, context.time});
    return Bytes(operation);
  }
  void begin_batch(const pbft::BatchContext& batch) override {
    batch_seq_ = batch.seq;
    batch_time_ = batch.time;
  }
  // Time is replicated state too: a restored replica continues from the snapshot's.
  Bytes snapshot() const override { return {}; }
  Status restore(ByteView) override { return ok_status(); }

 private:
  std::shared_ptr<TimeLog> log_;
  std::size_t index_;
  pbft::Seq batch_seq_ = 0;
  pbft::UnixMillis batch_time_ = 0;
};

struct TimedRun {
  SimClusterOptions options;
  std::shared_ptr<TimeLog> log = std::make_shared<TimeLog>();
};

TimedRun timed_run(std::uint64_t seed) {
  TimedRun run;
  net::Rng rng(seed);
  run.options.seed = seed;
  run.options.replicas = 4;
  run.options.clients = 2;
  run.options.requests_per_client = static_cast<std::uint32_t>(rng.uniform(20, 40));
  run.options.think_time = 5 * pbft::kMillisecond;
  run.options.network.latency_min_ns = 1 * pbft::kMillisecond;
  run.options.network.latency_max_ns = rng.uniform(2, 20) * pbft::kMillisecond;
  run.options.network.drop_probability = static_cast<double>(rng.uniform(0, 10)) / 100;
  run.options.replica_options.batch_time_skew_max = kBound;
  run.options.time_limit = 60 * pbft::kSecond;
  run.log->by_replica.resize(run.options.replicas);
  auto counter = std::make_shared<std::size_t>(0);
  // The cluster builds the replicas' applications in id order at the start.
  run.options.make_application = [log = run.log, counter]() -> std::unique_ptr<pbft::Application> {
    return std::make_unique<TimedApplication>(log, (*counter)++ % log->by_replica.size());
  };
  return run;
}

// Runs the cluster; checks completion, safety, the time log, and that every agreed time
// lies within the bound of true time (the simulator's unskewed wall clock at execution
// is at most a few seconds after the proposal).
void run_and_check(SimCluster& cluster, const TimedRun& run, std::uint64_t seed) {
  RunResult result = cluster.run();
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted)
      << "seed " << seed << ": " << result.summary();
  EXPECT_TRUE(cluster.check().empty()) << "seed " << seed;
  EXPECT_TRUE(run.log->problems.empty())
      << "seed " << seed << ": " << (run.log->problems.empty() ? "" : run.log->problems.front());
  pbft::UnixMillis earliest = SimCluster::kWallEpochMs;
  pbft::UnixMillis latest = SimCluster::kWallEpochMs + result.sim_time / pbft::kMillisecond;
  std::size_t executed = 0;
  for (const auto& entries : run.log->by_replica) {
    for (const auto& entry : entries) {
      ++executed;
      EXPECT_GE(entry.time + kBoundMs, earliest) << "seed " << seed << ": a time before the start";
      EXPECT_LE(entry.time, latest + kBoundMs) << "seed " << seed << ": a time beyond the bound";
    }
  }
  EXPECT_GT(executed, 0u) << "seed " << seed;
}

TEST(BatchTime, AgreedStrictlyIncreasingAndCloseToTrueTime) {
  for (std::uint64_t seed : seeds(30)) {
    TimedRun run = timed_run(seed);
    SimCluster cluster(run.options);
    // Honest clocks disagree a little (within a tenth of the bound).
    net::Rng skews(seed * 7919);
    for (pbft::ReplicaId id = 0; id < 4; ++id)
      cluster.set_wall_clock_skew(id, static_cast<std::int64_t>(skews.uniform(0, 200)) - 100);
    run_and_check(cluster, run, seed);
    // Every replica executed the same times for the same batches.
    std::map<pbft::Seq, pbft::UnixMillis> agreed;
    for (const auto& entries : run.log->by_replica)
      for (const auto& entry : entries) {
        auto [it, inserted] = agreed.emplace(entry.seq, entry.time);
        EXPECT_EQ(it->second, entry.time) << "seed " << seed << ": replicas disagree on the time";
      }
  }
}

// The primary of view 0 lies with its clock by `skew_ms`: the backups refuse its batches,
// the view changes, and no time from its clock is ever agreed.
void run_with_lying_primary(std::int64_t skew_ms) {
  for (std::uint64_t seed : seeds(20)) {
    TimedRun run = timed_run(seed);
    SimCluster cluster(run.options);
    cluster.set_wall_clock_skew(0, skew_ms);
    run_and_check(cluster, run, seed);
    for (pbft::ReplicaId id = 1; id < 4; ++id)
      EXPECT_GE(cluster.replica(id).status().view, 1u)
          << "seed " << seed << ": the lying primary was not replaced";
  }
}

TEST(BatchTime, PrimaryWithAClockFarAheadIsReplaced) {
  run_with_lying_primary(+30'000);
}

TEST(BatchTime, PrimaryWithAClockFarBehindIsReplaced) {
  run_with_lying_primary(-30'000);
}

// One backup (f = 1) with a clock far off: it withholds its prepares, the others carry
// on in view 0.
TEST(BatchTime, BackupWithAWrongClockCostsNoView) {
  for (std::uint64_t seed : seeds(20)) {
    TimedRun run = timed_run(seed);
    SimCluster cluster(run.options);
    cluster.set_wall_clock_skew(3, seed % 2 ? 60'000 : -60'000);
    run_and_check(cluster, run, seed);
    for (pbft::ReplicaId id = 0; id < 3; ++id)
      EXPECT_EQ(cluster.replica(id).status().view, 0u) << "seed " << seed;
  }
}

// A primary just inside the bound ahead stamps times near the top of it; the next primary,
// with an honest clock behind those times, proposes just after them rather than going
// back: the agreed time never decreases across the view change.
TEST(BatchTime, TimeNeverGoesBackAcrossAViewChange) {
  for (std::uint64_t seed : seeds(20)) {
    TimedRun run = timed_run(seed);
    SimCluster cluster(run.options);
    cluster.set_wall_clock_skew(0, kBoundMs * 8 / 10);
    cluster.schedule_action(300 * pbft::kMillisecond, [](SimCluster& sim) { sim.crash(0); });
    run_and_check(cluster, run, seed);  // the time log checks monotonicity at each replica
  }
}

}  // namespace
}  // namespace phalanx::adversary
