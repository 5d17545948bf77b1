// View change (PBFT 4.4, 4.5.2) in the deterministic simulator: what survives the change
// (a batch committed at one replica keeps its sequence number), and liveness after faults
// that make a primary useless: a one-way cut, a long pause, two faulty primaries in a row,
// a partition with no quorum on either side, a crash under load (throughput recovers, and
// clients find the new primary). Primary crashes at each protocol step: primary_crash_test.
// A failing seed prints the one command that replays it (see seed_runner.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;
constexpr pbft::Instant kSecond = pbft::kSecond;

std::string ms(pbft::Instant at) {
  return std::to_string(at / kMs) + "ms";
}

// A cluster over a network with random delay and (up to `drop_percent_max`) loss.
SeedRun lossy_cluster(std::uint64_t seed, std::uint32_t replicas, std::uint64_t drop_percent_max) {
  net::Rng rng(seed);
  return random_cluster(seed, replicas,
                        RandomShape{.requests_min = 20,
                                    .requests_max = 30,
                                    .latency_max_ms_min = 2,
                                    .latency_max_ms_max = 10,
                                    .drop_percent_max = drop_percent_max,
                                    .duplicate_percent_max = 0,
                                    .steps_max = 5'000'000},
                        rng);
}

// Every replica that is up is in one view, not changing, and at least `view_min`.
std::string same_view_everywhere(const RunResult& result, pbft::View view_min) {
  std::optional<pbft::View> view;
  for (pbft::ReplicaId id = 0; id < result.replicas.size(); ++id) {
    if (result.crashed[id]) continue;
    const pbft::ReplicaStatus& status = result.replicas[id];
    if (status.view_changing) return "replica " + std::to_string(id) + " is still changing views";
    if (view && status.view != *view) return "replicas ended in different views";
    view = status.view;
  }
  if (view && *view < view_min) return "the cluster never left view " + std::to_string(*view);
  return {};
}

// `replica` works (not changing views) in a view >= view_min that a quorum (2f+1, itself
// included) works in: it follows the cluster. Weaker than same_view_everywhere on purpose:
// under loss another correct replica may time out alone and wait in a later view for the
// cluster's next view change (PBFT: a replica that asked for view v+2 never returns to
// v+1), which is liveness-neutral while a quorum works together.
std::string follows_the_quorum(const RunResult& result, pbft::ReplicaId replica,
                               pbft::View view_min) {
  const pbft::ReplicaStatus& mine = result.replicas[replica];
  if (mine.view_changing) return "replica " + std::to_string(replica) + " is still changing views";
  if (mine.view < view_min) return "replica " + std::to_string(replica) + " never left view 0";
  std::size_t together = 0;
  for (const auto& status : result.replicas)
    together += status.view == mine.view && !status.view_changing;
  std::size_t quorum = 2 * ((result.replicas.size() - 1) / 3) + 1;
  if (together < quorum)
    return "replica " + std::to_string(replica) + " is in a view no quorum works in";
  return {};
}

// --- a request committed at a single replica ---------------------------------------------

// PBFT 4.4: a batch committed at one correct replica in view v was prepared at 2f+1, so
// every NEW-VIEW carries a prepared certificate for it and re-proposes it at the same
// sequence number. Built exactly: the COMMITs for seq s reach replica 2 only, the primary
// crashes once it sent its own, and nobody else commits s in view 0 (commit certificates
// for it are dropped too until the NEW-VIEW is out, so retransmission cannot teach them).
TEST(ViewChange, BatchCommittedAtOneReplicaKeepsItsSeqInTheNextView) {
  constexpr pbft::Seq kSeq = 5;
  constexpr pbft::ReplicaId kPrimary = 0;
  constexpr pbft::ReplicaId kWitness = 2;  // not the next primary (1): it must learn s
  SimClusterOptions options;
  options.seed = seed_or(21);
  options.clients = 2;
  options.requests_per_client = 10;
  options.network = net::LinkRule{2 * kMs, 2 * kMs, 0, 0};
  SimCluster cluster(options);

  std::uint32_t primary_commits = 0;
  std::optional<crypto::Digest> reproposed;  // the NEW-VIEW's batch at s
  cluster.set_send_filter([&](SimCluster& c, const SentMessage& sent) {
    if (sent.kind() == wire::NEW_VIEW && sent.from_signer() && !reproposed) {
      wire::NewView new_view;
      EXPECT_TRUE(new_view.ParseFromString(sent.envelope->payload()));
      for (const auto& envelope : new_view.pre_prepares()) {
        wire::PrePrepare pre_prepare;
        EXPECT_TRUE(pre_prepare.ParseFromString(envelope.payload()));
        if (pre_prepare.seq() == kSeq)
          reproposed = crypto::Digest::from_bytes(pre_prepare.digest());
      }
      if (!reproposed) reproposed = crypto::Digest{};  // none: the check below fails
    }
    bool slot = sent.seq() == kSeq && sent.view() == pbft::View{0};
    if (slot && sent.kind() == wire::COMMIT_CERTIFICATE && !reproposed) return SendVerdict::kDrop;
    if (!slot || sent.kind() != wire::COMMIT) return SendVerdict::kSend;
    if (sent.from == kPrimary && sent.from_signer() && ++primary_commits == options.replicas - 1)
      c.crash(kPrimary);
    return sent.to == kWitness ? SendVerdict::kSend : SendVerdict::kDrop;
  });
  // The view each replica was in when it executed s.
  std::map<pbft::ReplicaId, pbft::View> executed_in_view;
  cluster.set_step_observer([&](pbft::ReplicaId id, const pbft::Replica& replica) {
    pbft::ReplicaStatus status = replica.status();
    if (status.last_executed >= kSeq && !executed_in_view.count(id))
      executed_in_view[id] = status.view;
  });

  RunResult result = cluster.run();
  std::string replay = "\nreproduce with:\n  " + reproduce_command(options.seed);
  ASSERT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary() << replay;
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << replay;
  ASSERT_TRUE(cluster.crashed(kPrimary)) << "the primary never sent its COMMIT for s" << replay;

  ASSERT_TRUE(executed_in_view.count(kWitness)) << "the witness never executed s" << replay;
  EXPECT_EQ(executed_in_view[kWitness], 0u) << "the witness did not commit s in view 0" << replay;
  EXPECT_FALSE(executed_in_view.count(kPrimary)) << replay;
  for (pbft::ReplicaId id : {1u, 3u}) {
    ASSERT_TRUE(executed_in_view.count(id)) << "replica " << id << " never executed s" << replay;
    EXPECT_GE(executed_in_view[id], 1u) << "replica " << id << " committed s in view 0" << replay;
  }
  // The histories themselves, not only the checker: one batch at s everywhere.
  auto batch_at = [&](pbft::ReplicaId id) -> const HistoryStep* {
    for (const auto& step : cluster.history().steps(id)) {
      if (step.kind == HistoryStep::Kind::kExecuted && step.seq == kSeq) return &step;
    }
    return nullptr;
  };
  const HistoryStep* witnessed = batch_at(kWitness);
  ASSERT_NE(witnessed, nullptr) << replay;
  EXPECT_FALSE(witnessed->requests.empty()) << "s held requests, not a null batch" << replay;
  ASSERT_TRUE(reproposed.has_value()) << "no NEW-VIEW was sent" << replay;
  EXPECT_EQ(*reproposed, witnessed->digest)
      << "the NEW-VIEW re-proposed another batch at s" << replay;
  for (pbft::ReplicaId id : {1u, 3u}) {
    const HistoryStep* step = batch_at(id);
    ASSERT_NE(step, nullptr) << "replica " << id << replay;
    EXPECT_EQ(step->digest, witnessed->digest) << "replica " << id << replay;
    EXPECT_EQ(step->requests, witnessed->requests) << "replica " << id << replay;
  }
  for (pbft::ReplicaId id = 1; id < options.replicas; ++id)
    EXPECT_GE(result.replicas[id].view, 1u) << result.summary() << replay;
}

// --- one-way cut --------------------------------------------------------------------------

// The primary hears everything and is heard by no one (DESIGN.md: links may be cut one way
// only). The others move to a new view and go on without it; once the cut heals it is in
// their view (it joined on f+1 VIEW-CHANGEs and took the NEW-VIEW, both of which it heard).
SeedRun primary_cut_one_way(std::uint64_t seed, std::uint64_t drop_percent_max) {
  SeedRun run = lossy_cluster(seed, 4, drop_percent_max);
  net::Rng rng = net::Rng(seed).fork(1);
  // Early enough that requests are still flowing (a fast run finishes in ~100 ms).
  const pbft::Instant cut_at = rng.uniform(10, 50) * kMs;
  const pbft::Instant heal_at = cut_at + rng.uniform(2, 5) * kSecond;
  run.options.settle_time = 7 * kSecond;  // past the heal, whenever the requests completed
  const std::uint32_t nodes = run.options.replicas + run.options.clients;
  run.changes.emplace_back(cut_at, [nodes](net::SimNetwork& network) {
    for (net::NodeId to = 1; to < nodes; ++to) network.cut(0, to);
  });
  run.changes.emplace_back(heal_at, [](net::SimNetwork& network) { network.heal(); });
  run.faults = " cut(r0->all)@" + ms(cut_at) + " heal@" + ms(heal_at);
  run.verify = [cut_at, heal_at](const SimCluster& cluster, const RunResult& result) {
    bool progress_without_it = std::any_of(
        cluster.completions().begin(), cluster.completions().end(), [&](const CompletionRecord& c) {
          return c.view >= 1 && c.completed_at > cut_at && c.completed_at < heal_at;
        });
    if (!progress_without_it)
      return std::string("no request completed in a new view during the cut");
    return follows_the_quorum(result, 0, 1);
  };
  return run;
}

// Regression (found by this test): the cut primary cannot ask for anything it missed, so
// a gap in its log stopped its execution, its timer fired and it changed views alone,
// stranded for ever in a view nobody else entered. Fixed in the core: no suspicion while
// f+1 peers report having executed more, and no moving past a view f+1 peers work in.
// PHALANX_SEED=1 (10% loss) and 13 (no loss) failed so.
TEST(ViewChange, PrimaryCutOneWayIsReplacedAndFollowsAfterHeal) {
  run_seeds([](std::uint64_t seed) { return primary_cut_one_way(seed, 10); }, 40);
}

// --- paused primary -----------------------------------------------------------------------

// DESIGN.md: processes pause for an unbounded time and resume unaware. The primary stops
// for 5 s (ten times the initial view timeout); the others replace it. When it resumes it
// reads a buffer full of old messages and fires overdue timers: nothing diverges, and it
// ends in the others' view.
SeedRun primary_paused(std::uint64_t seed) {
  SeedRun run = lossy_cluster(seed, 4, 10);
  net::Rng rng = net::Rng(seed).fork(1);
  const pbft::Instant pause_at = rng.uniform(20, 100) * kMs;
  const pbft::Instant resume_at = pause_at + 5 * kSecond;
  run.options.settle_time = 7 * kSecond;  // past the resume, whenever the requests completed
  run.setup = [=](SimCluster& cluster) { cluster.pause(0, pause_at, resume_at); };
  run.faults = " pause(r0)@" + ms(pause_at) + ".." + ms(resume_at);
  run.verify = [pause_at](const SimCluster&, const RunResult& result) {
    if (result.completed_at <= pause_at)
      return std::string("every request completed before the pause");
    if (result.harness.held_while_paused == 0)
      return std::string("nothing reached the paused primary");
    return same_view_everywhere(result, 1);
  };
  return run;
}

TEST(ViewChange, PausedPrimaryResumesIntoTheNewView) {
  run_seeds(primary_paused, 40);
}

// --- consecutive faulty primaries ---------------------------------------------------------

// n = 7, f = 2: the primaries of views 0 and 1 are both down. View 1 fails (its primary
// never sends NEW-VIEW), its timer expires and view 2 follows (PBFT 4.5.2). With no loss
// nothing else times out, so every replica ends in view 2 exactly: a third view change
// would need a timer to expire in view 2, whose primary is correct and fast.
SeedRun two_primaries_down(std::uint64_t seed, bool lossy) {
  SeedRun run = lossy_cluster(seed, 7, lossy ? 10 : 0);
  net::Rng rng = net::Rng(seed).fork(1);
  if (lossy) {
    // Crashed early rather than silent: they may have ordered a few requests first.
    for (pbft::ReplicaId id : {0u, 1u}) {
      pbft::Instant at = rng.uniform(0, 50) * kMs;
      run.actions.emplace_back(at, [id](SimCluster& cluster) { cluster.crash(id); });
      run.faults += " crash(r" + std::to_string(id) + ")@" + ms(at);
    }
  } else {
    run.options.silent = {0, 1};
  }
  run.verify = [lossy](const SimCluster&, const RunResult& result) {
    std::string failed = same_view_everywhere(result, 2);
    if (!failed.empty() || lossy) return failed;
    for (pbft::ReplicaId id = 2; id < result.replicas.size(); ++id) {
      if (result.replicas[id].view != 2)
        return "replica " + std::to_string(id) + " ended in view " +
               std::to_string(result.replicas[id].view) + ", not 2";
    }
    return std::string();
  };
  return run;
}

TEST(ViewChange, TwoSilentPrimariesEndInViewTwo) {
  run_seeds([](std::uint64_t seed) { return two_primaries_down(seed, false); }, 30);
}
TEST(ViewChange, TwoPrimariesCrashedEarlyOverALossyNetwork) {
  run_seeds([](std::uint64_t seed) { return two_primaries_down(seed, true); }, 30);
}

// --- partition with no quorum on either side ------------------------------------------------

// n = 4 split {0, 1} | {2, 3} (clients reach everyone). Neither side has 2f+1 = 3, so no
// batch commits during the partition; the backups time out and ask for view 1, but with
// 2 in the change nobody's view-change timer starts (view_change.cc), so nobody runs off
// to higher views. After the heal, the next STATUS (every status_interval) makes peers
// resend their VIEW-CHANGEs and the NEW-VIEW, and requests complete again.
//
// The bound on heal -> next completion. During the partition each backup's request timer
// fires once (one failed view: backoff x2), and its change to view 1 then stalls below
// 2f+1 with no timer running. After the heal the peers' STATUS brings the VIEW-CHANGEs
// within a status interval (three, allowing for lost answers); the NEW-VIEW follows.
// Should view 1 fail even so, its timer (base << 1) expires and view 2 takes at most as
// long again. So: 3 x status_interval + 2 x (base << 1), where base is the adaptive
// timeout's: view_timeout_initial until the first latency sample, then the floor (the
// latencies here are a few ms, far below it). Defaults: 3 x 50 ms + 2 x 2 s = 4.15 s.
// (Observed over 300 seeds: at most 755 ms, usually 100-200 ms.)
pbft::Instant heal_to_progress_max(const pbft::ReplicaOptions& options) {
  pbft::Instant base = std::max(options.view_timeout_initial, options.view_timeout_floor);
  return 3 * options.status_interval + 2 * (base << 1);
}

SeedRun partition_two_two(std::uint64_t seed) {
  SeedRun run = lossy_cluster(seed, 4, 5);
  run.options.requests_per_client = 40;
  net::Rng rng = net::Rng(seed).fork(1);
  const pbft::Instant split_at = rng.uniform(30, 100) * kMs;
  const pbft::Instant heal_at = split_at + 3 * kSecond;
  run.changes.emplace_back(split_at, [](net::SimNetwork& network) {
    for (net::NodeId a : {0u, 1u}) {
      for (net::NodeId b : {2u, 3u}) {
        network.cut(a, b);
        network.cut(b, a);
      }
    }
  });
  run.changes.emplace_back(heal_at, [](net::SimNetwork& network) { network.heal(); });
  run.faults = " partition(r0r1|r2r3)@" + ms(split_at) + " heal@" + ms(heal_at);

  // A replica may still commit a batch during the partition: votes from the other side
  // sent before the split, with its own side's (maybe sent later, or retransmitted), can
  // complete a quorum. But a side has 2 < 2f+1 replicas, so every batch committed during
  // the partition needs a COMMIT from the other side signed before the split; without
  // one, a side would have agreed on its own. So: who signed a COMMIT for each seq before
  // the split, and every seq a replica executed during it.
  struct Execution {
    pbft::Instant at;
    pbft::ReplicaId replica;
    pbft::Seq seq;
  };
  struct Observed {
    std::map<pbft::Seq, std::set<pbft::ReplicaId>> committers_before_split;
    std::vector<Execution> executed_during_split;
    std::vector<pbft::Seq> last_executed;
    std::optional<pbft::Instant> heal_to_progress;
  };
  auto observed = std::make_shared<Observed>();
  observed->last_executed.assign(run.options.replicas, 0);
  run.happened = [observed] {
    if (!observed->heal_to_progress) return std::string();
    return " heal_to_progress=" + ms(*observed->heal_to_progress);
  };
  run.setup = [=](SimCluster& cluster) {
    cluster.set_send_filter([=](SimCluster&, const SentMessage& sent) {
      if (sent.at < split_at && sent.kind() == wire::COMMIT && sent.from_signer())
        observed->committers_before_split[*sent.seq()].insert(sent.from);
      return SendVerdict::kSend;
    });
    cluster.set_step_observer([=, &cluster](pbft::ReplicaId id, const pbft::Replica& replica) {
      pbft::Seq executed = replica.status().last_executed;
      pbft::Seq& last = observed->last_executed[id];
      if (cluster.now() >= split_at && cluster.now() < heal_at) {
        for (pbft::Seq seq = last + 1; seq <= executed; ++seq)
          observed->executed_during_split.push_back(Execution{cluster.now(), id, seq});
      }
      last = std::max(last, executed);
    });
  };
  const pbft::Instant bound = heal_to_progress_max(run.options.replica_options);
  run.verify = [=](const SimCluster& cluster, const RunResult&) -> std::string {
    auto side = [](pbft::ReplicaId id) { return id < 2; };
    for (const auto& execution : observed->executed_during_split) {
      const auto& committers = observed->committers_before_split[execution.seq];
      if (std::none_of(committers.begin(), committers.end(),
                       [&](pbft::ReplicaId id) { return side(id) != side(execution.replica); }))
        return "replica " + std::to_string(execution.replica) + " committed seq " +
               std::to_string(execution.seq) + " during the partition (at " + ms(execution.at) +
               ") with no COMMIT from the other side";
    }
    std::optional<pbft::Instant> next;
    for (const auto& completion : cluster.completions()) {
      if (completion.completed_at < heal_at && completion.submitted_at >= split_at)
        return "a request submitted during the partition completed at " +
               ms(completion.completed_at);
      if (completion.completed_at >= heal_at && !next) next = completion.completed_at;
    }
    if (!next) return "no request was left for after the heal";
    observed->heal_to_progress = *next - heal_at;
    if (*next - heal_at > bound)
      return "the first completion after the heal took " + ms(*next - heal_at) + " (bound " +
             ms(bound) + ")";
    return {};
  };
  return run;
}

TEST(ViewChange, PartitionTwoTwoStallsSafelyAndRecoversWithinBound) {
  run_seeds(partition_two_two, 40);
}

// --- a crash under load: throughput, and clients finding the new primary -----------------

// 8 clients in a closed loop over a loss-free network; the primary crashes at crash_at.
SimClusterOptions under_load(std::uint64_t seed, std::uint32_t requests_per_client) {
  SimClusterOptions options;
  options.seed = seed;
  options.clients = 8;
  options.requests_per_client = requests_per_client;
  options.network = net::LinkRule{1 * kMs, 4 * kMs, 0, 0};
  options.time_limit = 300 * kSecond;
  return options;
}

// When every client had accepted a reply from the new view: from then on, all of them
// send to the new primary.
pbft::Instant clients_learned_at(const std::vector<CompletionRecord>& completions,
                                 std::uint32_t clients, pbft::View view) {
  std::vector<std::optional<pbft::Instant>> learned(clients);
  for (const auto& completion : completions) {
    if (completion.view >= view && !learned[completion.client])
      learned[completion.client] = completion.completed_at;
  }
  pbft::Instant latest = 0;
  for (const auto& at : learned) latest = std::max(latest, at.value_or(~pbft::Instant{0}));
  return latest;
}

double per_second(const std::vector<CompletionRecord>& completions, pbft::Instant from,
                  pbft::Instant until) {
  auto count = std::count_if(completions.begin(), completions.end(), [&](const auto& c) {
    return c.completed_at >= from && c.completed_at < until;
  });
  return static_cast<double>(count) * static_cast<double>(kSecond) /
         static_cast<double>(until - from);
}

struct Throughput {
  double before = 0;  // requests per simulated second, warm-up to crash
  double after = 0;   // from when every client had learned the new view, plus a warm-up
  std::string text;
};

// One run under load with the primary crashed at 2 s (or, with crash false, a run with no
// crash whose "after" window starts at 2 s).
Throughput measure_throughput(const SimClusterOptions& options, bool crash) {
  constexpr pbft::Instant kCrashAt = 2 * kSecond;
  constexpr pbft::Instant kWarmUp = 300 * kMs;  // before each window
  constexpr pbft::Instant kTail = 300 * kMs;    // clients finishing at different times
  SimCluster cluster(options);
  if (crash) cluster.schedule_crash(kCrashAt, 0);
  RunResult result = cluster.run();
  std::string replay = "\nreproduce with:\n  " + reproduce_command(options.seed);
  EXPECT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary() << replay;
  auto violations = cluster.check();
  EXPECT_TRUE(violations.empty()) << describe(violations) << replay;

  const auto& completions = cluster.completions();
  pbft::Instant learned_at = crash ? clients_learned_at(completions, options.clients, 1) : kCrashAt;
  pbft::Instant after_from = learned_at + kWarmUp;
  pbft::Instant after_until = result.completed_at - kTail;
  EXPECT_LT(after_from + kSecond, after_until)
      << "too few requests after the view change; clients learned it at " << ms(learned_at) << "\n"
      << result.summary() << replay;
  if (after_from >= after_until) return {};
  Throughput figures{per_second(completions, kWarmUp, kCrashAt),
                     per_second(completions, after_from, after_until),
                     {}};
  char text[200];
  std::snprintf(text, sizeof text, "%.0f requests/s in [%s, %s), %.0f in [%s, %s)%s",
                figures.before, ms(kWarmUp).c_str(), ms(kCrashAt).c_str(), figures.after,
                ms(after_from).c_str(), ms(after_until).c_str(),
                crash ? ", primary crashed at 2000ms" : "");
  figures.text = text;
  return figures;
}

// L1 (DESIGN.md): throughput returns to its fault-free level after the view change. Over
// a network of constant latency the view change must leave no cost behind (no lingering
// retries, timers or stalls): at least 90% of the rate before the crash.
TEST(ViewChange, ThroughputRecoversAfterPrimaryCrash) {
  SimClusterOptions options = under_load(seed_or(31), 500);
  options.network = net::LinkRule{2 * kMs, 2 * kMs, 0, 0};
  Throughput figures = measure_throughput(options, true);
  std::printf("n=4, latency 2 ms: %s: ratio %.3f\n", figures.text.c_str(),
              figures.after / figures.before);
  EXPECT_GE(figures.after, 0.9 * figures.before) << reproduce_command(options.seed);
}

// With latency drawn in [1, 4] ms, n = 4 loses some throughput for a reason that is not
// the view change: with one replica down every quorum (2f+1 = 3) needs all three that
// are left, so each batch waits for the slowest of them instead of the fastest three of
// four (about 0.86 of the earlier rate here). The fair reference is a run with one
// replica down from the start and no view change. n = 7 (5 of 6 left) loses less and
// meets 90% of its earlier rate outright.
TEST(ViewChange, ThroughputAfterPrimaryCrashMatchesOneReplicaDown) {
  SimClusterOptions options = under_load(seed_or(31), 350);
  Throughput crashed = measure_throughput(options, true);
  options.silent = {3};
  Throughput one_down = measure_throughput(options, false);
  std::printf(
      "n=4, latency 1-4 ms: %s: ratio %.3f\n"
      "  one backup down from the start, no crash: %s: crashed after / one down = %.3f\n",
      crashed.text.c_str(), crashed.after / crashed.before, one_down.text.c_str(),
      crashed.after / one_down.after);
  EXPECT_GE(crashed.after, 0.9 * one_down.after) << reproduce_command(options.seed);

  SimClusterOptions n7 = under_load(seed_or(31), 350);
  n7.replicas = 7;
  Throughput seven = measure_throughput(n7, true);
  std::printf("n=7, latency 1-4 ms: %s: ratio %.3f\n", seven.text.c_str(),
              seven.after / seven.before);
  EXPECT_GE(seven.after, 0.9 * seven.before) << reproduce_command(n7.seed);
}

// PBFT 4.1: clients learn the view from the replies they accept. After the first reply
// from view 1 a client sends to the new primary directly: no more retries to everyone.
TEST(ViewChange, ClientsSendToTheNewPrimaryOnceTheyLearnTheView) {
  constexpr pbft::Instant kCrashAt = 200 * kMs;
  SimClusterOptions options = under_load(seed_or(33), 60);
  SimCluster cluster(options);
  cluster.schedule_crash(kCrashAt, 0);
  RunResult result = cluster.run();
  std::string replay = "\nreproduce with:\n  " + reproduce_command(options.seed);
  ASSERT_EQ(result.stop, RunResult::Stop::kCompleted) << result.summary() << replay;
  auto violations = cluster.check();
  ASSERT_TRUE(violations.empty()) << describe(violations) << replay;

  std::vector<bool> learned(options.clients, false);
  std::vector<std::uint32_t> retried_after_crash(options.clients, 0);
  std::uint64_t sent_to_new_primary = 0;
  for (const auto& completion : cluster.completions()) {
    if (completion.completed_at < kCrashAt) continue;
    const std::uint32_t client = completion.client;
    if (learned[client]) {
      EXPECT_EQ(completion.first_sent_to, 1u) << "client " << client << replay;
      EXPECT_EQ(completion.broadcasts, 0u) << "client " << client << replay;
      ++sent_to_new_primary;
    }
    if (completion.broadcasts > 0) ++retried_after_crash[client];
    if (completion.view >= 1) learned[client] = true;
  }
  for (std::uint32_t client = 0; client < options.clients; ++client) {
    EXPECT_TRUE(learned[client]) << "client " << client << replay;
    // The request in flight at the crash, and at most one submitted during the change.
    EXPECT_LE(retried_after_crash[client], 2u) << "client " << client << replay;
  }
  EXPECT_GT(sent_to_new_primary, 0u) << result.summary();
}

}  // namespace
}  // namespace phalanx::adversary
