// The Byzantine behaviours (adversary/src/behaviours/) against 4-replica clusters on lossy
// simulated networks, one Byzantine replica each (f = 1) unless a test says otherwise. Each
// test shows what its lie must cause (the liar caught with a proof, its forgeries rejected
// at the edge, a view change) and what it must not: any violation of S1-S5 among the
// correct replicas (the checker exempts the liar), or a request left incomplete. Two
// colluding equivocators (f + 1) show that the checker does report the broken agreement
// that more than f liars can cause. A failing seed prints the command that replays it.
//
// Observations come from the simulator's public record of a run: its trace (what the
// liar's messages became at each receiver, and the evidence events), its counters
// (rejections by reason, drops by the cores), a send filter (what the liar actually said),
// and the checker.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/sim_cluster.h"
#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;
using Params = std::map<std::string, std::string>;

constexpr std::uint32_t kReplicas = 4;
// Enough for every event of the runs below (a run that outgrows it fails: its counts would
// be partial).
constexpr std::size_t kTraceLimit = 2'000'000;

// Small clusters on a lossy network: many seeds in little time.
constexpr RandomShape kShape{.requests_min = 10,
                             .requests_max = 20,
                             .latency_max_ms_min = 1,
                             .latency_max_ms_max = 10,
                             .drop_percent_max = 10,
                             .duplicate_percent_max = 5,
                             .steps_max = 2'000'000};

std::string ms(pbft::Instant at) {
  return std::to_string(at / kMs) + "ms";
}

// --- what the trace says about the liar --------------------------------------------------

struct LiarTrace {
  std::map<wire::Kind, std::uint64_t> changed;    // messages it changed or made, by kind
  std::map<wire::Kind, std::uint64_t> accepted;   // ... that passed a receiver's edge
  std::map<std::string, std::uint64_t> rejected;  // ... that did not, by reason
  std::uint64_t rejected_honest = 0;              // honest messages rejected (none expected)
  std::uint64_t delivered = 0;                    // anything it sent that was delivered
  std::set<net::NodeId> heard_by;                 // who received anything from it
  std::map<pbft::ReplicaId, std::uint64_t> evidence_against;  // proofs found, by accused
  bool complete = true;                                       // the trace was not cut short

  std::uint64_t accepted_total() const {
    std::uint64_t total = 0;
    for (const auto& [kind, count] : accepted) total += count;
    return total;
  }
  std::uint64_t rejected_total() const {
    std::uint64_t total = 0;
    for (const auto& [reason, count] : rejected) total += count;
    return total;
  }
  std::string rejections() const {
    std::string text;
    for (const auto& [reason, count] : rejected)
      text += (text.empty() ? "" : " ") + reason + "=" + std::to_string(count);
    return text.empty() ? "none" : text;
  }
};

LiarTrace read_trace(const SimCluster& cluster, const std::set<pbft::ReplicaId>& liars) {
  LiarTrace trace;
  const auto& events = cluster.trace_events();
  trace.complete = events.size() < kTraceLimit;
  const std::string evidence = "evidence ";
  for (const auto& event : events) {
    bool from_liar = liars.count(event.from) != 0;
    switch (event.kind) {
      case TraceEvent::Kind::kByzantineSent:
        ++trace.changed[event.message];
        break;
      case TraceEvent::Kind::kDelivered:
        if (!from_liar) break;
        ++trace.delivered;
        trace.heard_by.insert(event.to);
        if (event.byzantine) ++trace.accepted[event.message];
        break;
      case TraceEvent::Kind::kRejected:
        if (event.byzantine)
          ++trace.rejected[event.text];
        else
          ++trace.rejected_honest;
        break;
      case TraceEvent::Kind::kEvent:
        if (event.text.rfind(evidence, 0) == 0)
          ++trace.evidence_against[static_cast<pbft::ReplicaId>(
              std::stoul(event.text.substr(evidence.size())))];
        break;
      default:
        break;
    }
  }
  return trace;
}

std::string describe_params(const Params& params) {
  std::string text;
  for (const auto& [key, value] : params) text += (text.empty() ? "" : ",") + key + "=" + value;
  return text;
}

// A random cluster whose replica `liar` runs `behaviour`.
SeedRun byzantine_run(std::uint64_t seed, pbft::ReplicaId liar, const std::string& behaviour,
                      const Params& params, const RandomShape& shape = kShape) {
  net::Rng rng(seed);
  SeedRun run = random_cluster(seed, kReplicas, shape, rng);
  run.options.trace_limit = kTraceLimit;
  run.faults = " byzantine=r" + std::to_string(liar) + "(" + behaviour +
               (params.empty() ? "" : " " + describe_params(params)) + ")";
  run.setup = [liar, behaviour, params](SimCluster& cluster) {
    auto made = make_behaviour(behaviour, cluster.behaviour_context(liar, params));
    PHALANX_ASSERT(made.ok(), "the behaviour of a test is valid");
    cluster.set_behaviour(liar, std::move(made).value());
  };
  return run;
}

// The seed's own choices for a test (which replica lies, ...), drawn apart from the
// cluster's shape so that they do not shift it.
net::Rng choices(std::uint64_t seed) {
  return net::Rng(seed).fork(0xb1a5);
}

// How many of a test's seeds showed something, printed with the test (the numbers the
// behaviours' documentation quotes).
struct Tally {
  std::map<std::string, std::uint64_t> seeds_with;
  std::uint64_t seeds = 0;
  void count(const std::string& what, bool happened = true) {
    seeds_with[what];  // listed even when it never happened
    if (happened) ++seeds_with[what];
  }
  void print(const char* test) const {
    std::printf("[ tally    ] %s over %llu seeds:", test, static_cast<unsigned long long>(seeds));
    for (const auto& [what, count] : seeds_with)
      std::printf(" %s=%llu", what.c_str(), static_cast<unsigned long long>(count));
    std::printf("\n");
  }
};

bool full_run() {
  return !env_number("PHALANX_SEED");
}

// --- equivocation -------------------------------------------------------------------------

// The primary of view 0 tells replicas 2 and 3 (side B, the default) another batch than
// replica 1 for every slot, and votes and checkpoints accordingly. Side B is a quorum with
// the liar: it commits the alternative; replica 1 must learn that by retransmission, and
// finds there the primary's two pre-prepares for one slot: the proof (S5).
TEST(Behaviours, EquivocatingPrimaryIsCaughtAndSafetyHolds) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        SeedRun run = byzantine_run(seed, 0, "equivocate", {});
        run.verify = [&tally](const SimCluster& cluster, const RunResult&) -> std::string {
          LiarTrace trace = read_trace(cluster, {0});
          ++tally.seeds;
          tally.count("caught", trace.evidence_against[0] > 0);
          if (!trace.complete) return "the trace was cut short";
          if (trace.changed[wire::PRE_PREPARE] == 0) return "the primary never equivocated";
          if (trace.accepted[wire::PRE_PREPARE] == 0)
            return "no alternative pre-prepare passed the edge";
          if (trace.evidence_against[0] == 0) return "no correct replica caught the primary";
          return {};
        };
        return run;
      },
      20);
  tally.print("EquivocatingPrimaryIsCaughtAndSafetyHolds");
}

// A backup tells side B other PREPAREs, COMMITs and CHECKPOINTs than side A. Alone it
// cannot make a quorum of 2f+1 for either story: nothing changes. Correct replicas never
// pass on its votes themselves, only inside certificates (commit certificates, the
// prepared certificates and checkpoint proofs of VIEW-CHANGEs), so whether one of them
// ends up holding both of its votes for one slot (the proof) depends on the run.
TEST(Behaviours, EquivocatingBackupCannotBreakAgreement) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(1, kReplicas - 1));
        SeedRun run = byzantine_run(seed, liar, "equivocate", {});
        run.verify = [&tally, liar](const SimCluster& cluster, const RunResult&) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          tally.count("caught", trace.evidence_against[liar] > 0);
          if (!trace.complete) return "the trace was cut short";
          if (trace.accepted[wire::PREPARE] + trace.accepted[wire::COMMIT] == 0)
            return "no conflicting vote passed the edge";
          return {};
        };
        return run;
      },
      20);
  tally.print("EquivocatingBackupCannotBreakAgreement");
  if (full_run()) {
    EXPECT_GT(tally.seeds_with["caught"], 0u) << "the equivocating backup was never caught";
  }
}

// f + 1 = 2 colluding replicas, the primary (0) and a backup (1), both telling replica 3
// (side B) the alternative batch of every slot. Replica 2 assembles a quorum with them for
// the honest batch (2, 0, 1), replica 3 for the alternative (3, 0, 1): two correct
// replicas execute different batches at one seq. PBFT promises nothing with more than f
// faults; the point is that the checker says so (S1).
TEST(Behaviours, TwoColludingEquivocatorsBreakAgreement) {
  std::uint64_t ran = 0, broken = 0, caught = 0;
  std::map<std::string, std::uint64_t> also_reported;  // seeds each property failed in
  for (std::uint64_t seed : seeds(12)) {
    ++ran;
    net::Rng rng(seed);
    SeedRun run = random_cluster(seed, kReplicas,
                                 RandomShape{.requests_min = 10,
                                             .requests_max = 20,
                                             .latency_max_ms_min = 1,
                                             .latency_max_ms_max = 5,
                                             .drop_percent_max = 2},
                                 rng);
    run.options.trace_limit = kTraceLimit;
    run.options.time_limit = 30 * pbft::kSecond;  // liveness is not promised either
    SimCluster cluster(run.options);
    for (pbft::ReplicaId liar : {0u, 1u}) {
      auto made = make_behaviour("equivocate", cluster.behaviour_context(liar, {{"side_b", "3"}}));
      ASSERT_TRUE(made.ok()) << made.error().message;
      cluster.set_behaviour(liar, std::move(made).value());
    }
    RunResult result = cluster.run();
    auto violations = cluster.check();
    LiarTrace trace = read_trace(cluster, {0, 1});
    bool agreement = std::any_of(violations.begin(), violations.end(), [](const Violation& v) {
      return v.property == Property::kAgreement;
    });
    broken += agreement;
    caught += trace.evidence_against[0] + trace.evidence_against[1] > 0;
    std::set<Property> reported;
    for (const auto& violation : violations) reported.insert(violation.property);
    for (Property property : reported) ++also_reported[std::string(to_string(property))];
    EXPECT_TRUE(agreement) << "seed " << seed << ": the checker reported no agreement violation\n  "
                           << describe(run) << "\n  " << result.summary() << "\n"
                           << describe(violations) << "reproduce with:\n  "
                           << reproduce_command(seed);
  }
  std::printf(
      "[ tally    ] TwoColludingEquivocatorsBreakAgreement over %llu seeds: "
      "agreement_violated=%llu caught=%llu; violations by property:",
      static_cast<unsigned long long>(ran), static_cast<unsigned long long>(broken),
      static_cast<unsigned long long>(caught));
  for (const auto& [property, count] : also_reported)
    std::printf(" %s=%llu", property.c_str(), static_cast<unsigned long long>(count));
  std::printf("\n");
}

// --- forgeries ----------------------------------------------------------------------------

struct Forgery {
  const char* mode;
  const char* rejection;  // how the edge must refuse every one (pbft::to_string(Rejection))
  bool replace = false;
};
constexpr Forgery kForgeries[] = {
    {"impersonate", "bad_signature"},    {"bad-signature", "bad_signature"},
    {"tamper", "bad_signature"},         {"fake-certificate", "bad_certificate"},
    {"client-request", "bad_signature"}, {"other-cluster", "bad_signature"},
    {"tamper", "bad_signature", true},   {"bad-signature", "bad_signature", true},
};

// Every kind of forgery a replica can make with its own key (another's identity, a broken
// signature or payload, certificates of votes it did not get, client requests, another
// cluster's domain) is refused at the edge, for the one reason expected, and none reaches
// a core; with replace=true nothing the liar says is heard, and the others go on without
// it (as the primary, it is replaced).
TEST(Behaviours, ForgeriesAreRejectedAtTheEdge) {
  Tally tally;
  const std::size_t variants = std::size(kForgeries);
  run_seeds(
      [&](std::uint64_t seed) {
        const Forgery& forgery = kForgeries[seed % variants];
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(0, kReplicas - 1));
        Params params{{"mode", forgery.mode}};
        if (forgery.replace) params["replace"] = "true";
        SeedRun run = byzantine_run(seed, liar, "forge", params);
        run.verify = [&tally, &forgery, liar](const SimCluster& cluster,
                                              const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          if (!trace.complete) return "the trace was cut short";
          if (trace.accepted_total() != 0)
            return std::to_string(trace.accepted_total()) + " forgeries passed the edge";
          if (trace.rejected[forgery.rejection] == 0)
            return std::string("no forgery was rejected as ") + forgery.rejection;
          if (trace.rejected_total() != trace.rejected[forgery.rejection] ||
              result.rejected_total() != trace.rejected_total())
            return "rejections for other reasons: " + trace.rejections();
          tally.count(std::string(forgery.mode) + (forgery.replace ? "+replace" : ""));
          return {};
        };
        return run;
      },
      3 * variants);
  tally.print("ForgeriesAreRejectedAtTheEdge");
}

// --- view changes -------------------------------------------------------------------------

// What the replicas said in VIEW-CHANGEs, by sender and view: stable seq and the number
// of prepared certificates (seen by a send filter: the liar's as it sent them).
struct ViewChangeSaid {
  pbft::Seq stable_seq = 0;
  int prepared = 0;
};
using ViewChanges = std::map<std::pair<pbft::ReplicaId, pbft::View>, ViewChangeSaid>;

// The primary of view 0 is cut off from everyone for a while (so that replicas 1-3 change
// views, the liar among them), then heard again. Checkpoints every 4 seqs, so that the
// view changes carry checkpoint proofs.
SeedRun view_change_run(std::uint64_t seed, pbft::ReplicaId liar, const std::string& mode,
                        std::shared_ptr<ViewChanges> said) {
  SeedRun run = byzantine_run(seed, liar, "viewchange-liar", {{"mode", mode}},
                              RandomShape{.requests_min = 20,
                                          .requests_max = 30,
                                          .latency_max_ms_min = 1,
                                          .latency_max_ms_max = 5,
                                          .drop_percent_max = 5});
  run.options.replica_options.checkpoint_interval = 4;
  net::Rng rng = choices(seed).fork(1);
  const pbft::Instant isolate_at = rng.uniform(40, 120) * kMs;
  const pbft::Instant back_at = isolate_at + rng.uniform(1000, 2000) * kMs;
  run.options.settle_time = 3 * pbft::kSecond;
  run.changes.emplace_back(isolate_at, [](net::SimNetwork& network) { network.isolate(0); });
  run.changes.emplace_back(back_at, [](net::SimNetwork& network) { network.reconnect(0); });
  run.faults += " isolate(r0)@" + ms(isolate_at) + " back@" + ms(back_at);
  auto setup = run.setup;
  run.setup = [setup, said](SimCluster& cluster) {
    setup(cluster);
    cluster.set_send_filter([said](SimCluster&, const SentMessage& sent) {
      if (sent.kind() != wire::VIEW_CHANGE || !sent.from_signer()) return SendVerdict::kSend;
      wire::ViewChange view_change;
      if (view_change.ParseFromString(sent.envelope->payload()))
        (*said)[{sent.envelope->sender(), view_change.new_view()}] =
            ViewChangeSaid{view_change.stable_seq(), view_change.prepared_size()};
      return SendVerdict::kSend;
    });
  };
  return run;
}

// The highest a correct replica said for `view`, and what the liar said there.
struct Compared {
  bool liar_spoke = false;
  ViewChangeSaid liar;
  ViewChangeSaid correct_max;
};
std::vector<Compared> compare(const ViewChanges& said, pbft::ReplicaId liar) {
  std::map<pbft::View, Compared> by_view;
  for (const auto& [key, what] : said) {
    Compared& compared = by_view[key.second];
    if (key.first == liar) {
      compared.liar_spoke = true;
      compared.liar = what;
    } else {
      compared.correct_max.stable_seq = std::max(compared.correct_max.stable_seq, what.stable_seq);
      compared.correct_max.prepared = std::max(compared.correct_max.prepared, what.prepared);
    }
  }
  std::vector<Compared> spoken;
  for (const auto& [view, compared] : by_view)
    if (compared.liar_spoke) spoken.push_back(compared);
  return spoken;
}

// The correct replicas that are up ended in a view >= view_min, working in it.
std::string correct_replicas_in_view(const RunResult& result, std::set<pbft::ReplicaId> correct,
                                     pbft::View view_min) {
  for (pbft::ReplicaId id : correct) {
    const pbft::ReplicaStatus& status = result.replicas[id];
    if (status.view < view_min || status.view_changing)
      return "replica " + std::to_string(id) + " ended in view " + std::to_string(status.view) +
             (status.view_changing ? " (changing)" : "") +
             ", expected a view >= " + std::to_string(view_min);
  }
  return {};
}

pbft::ReplicaId other_replica(net::Rng& rng, pbft::ReplicaId liar) {
  auto id = static_cast<pbft::ReplicaId>(rng.uniform(0, kReplicas - 2));
  return id >= liar ? id + 1 : id;
}

std::set<pbft::ReplicaId> all_but(pbft::ReplicaId liar) {
  std::set<pbft::ReplicaId> others;
  for (pbft::ReplicaId id = 0; id < kReplicas; ++id)
    if (id != liar) others.insert(id);
  return others;
}

// VIEW-CHANGEs without the prepared certificates the liar holds pass the edge (nothing
// proves a replica prepared something) and are outvoted: a batch that committed prepared
// at 2f+1, so some correct replica in any 2f+1 VIEW-CHANGEs carries its certificate.
TEST(Behaviours, ViewChangeOmittingPreparedCertificatesLosesNothing) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(1, kReplicas - 1));
        auto said = std::make_shared<ViewChanges>();
        SeedRun run = view_change_run(seed, liar, "omit-prepared", said);
        run.verify = [&tally, liar, said](const SimCluster& cluster,
                                          const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          auto compared = compare(*said, liar);
          if (compared.empty()) return "the liar sent no VIEW-CHANGE";
          bool omitted = false;
          for (const auto& view : compared) {
            if (view.liar.prepared != 0) return "the liar's VIEW-CHANGE carried certificates";
            omitted = omitted || view.correct_max.prepared > 0;
          }
          tally.count("omitted", omitted);
          tally.count("caught", trace.evidence_against[liar] > 0);
          tally.count("lie_accepted", trace.accepted[wire::VIEW_CHANGE] > 0);
          if (omitted && trace.accepted[wire::VIEW_CHANGE] == 0)
            return "no receiver accepted the liar's VIEW-CHANGE";
          return correct_replicas_in_view(result, all_but(liar), 1);
        };
        return run;
      },
      16);
  tally.print("ViewChangeOmittingPreparedCertificatesLosesNothing");
  if (full_run()) {
    EXPECT_GT(tally.seeds_with["omitted"], 0u) << "the liar never had to omit";
  }
}

// VIEW-CHANGEs claiming an older stable checkpoint (with a valid proof of it) pass the
// edge; the new view starts from the highest checkpoint among the 2f+1 anyway.
TEST(Behaviours, ViewChangeWithAStaleCheckpointIsHarmless) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(1, kReplicas - 1));
        auto said = std::make_shared<ViewChanges>();
        SeedRun run = view_change_run(seed, liar, "stale-checkpoint", said);
        run.verify = [&tally, liar, said](const SimCluster& cluster,
                                          const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          auto compared = compare(*said, liar);
          if (compared.empty()) return "the liar sent no VIEW-CHANGE";
          bool stale = false, stale_with_proof = false;
          for (const auto& view : compared) {
            stale = stale || view.liar.stable_seq < view.correct_max.stable_seq;
            stale_with_proof =
                stale_with_proof ||
                (view.liar.stable_seq > 0 && view.liar.stable_seq < view.correct_max.stable_seq);
          }
          tally.count("stale", stale);
          tally.count("caught", trace.evidence_against[liar] > 0);
          tally.count("stale_with_proof", stale_with_proof);
          tally.count("lie_accepted", trace.accepted[wire::VIEW_CHANGE] > 0);
          if (stale && trace.accepted[wire::VIEW_CHANGE] == 0)
            return "no receiver accepted the liar's stale VIEW-CHANGE: " + trace.rejections();
          return correct_replicas_in_view(result, all_but(liar), 1);
        };
        return run;
      },
      16);
  tally.print("ViewChangeWithAStaleCheckpointIsHarmless");
  if (full_run()) {
    EXPECT_GT(tally.seeds_with["stale"], 0u) << "the liar never lied";
  }
}

// A prepared certificate for a batch nobody proposed needs prepares from replicas that
// never signed them: the edge rejects the VIEW-CHANGE that carries it (bad_certificate),
// and the view change completes without the liar once the old primary is heard again.
TEST(Behaviours, FabricatedPreparedCertificateIsRejectedAtTheEdge) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(1, kReplicas - 1));
        auto said = std::make_shared<ViewChanges>();
        SeedRun run = view_change_run(seed, liar, "fabricate-prepared", said);
        run.verify = [&tally, liar](const SimCluster& cluster,
                                    const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          if (trace.changed[wire::VIEW_CHANGE] == 0) return "the liar sent no VIEW-CHANGE";
          if (trace.accepted[wire::VIEW_CHANGE] != 0)
            return "a fabricated VIEW-CHANGE passed the edge";
          if (trace.rejected["bad_certificate"] == 0)
            return "no VIEW-CHANGE was rejected as bad_certificate: " + trace.rejections();
          tally.count("view_changes_rejected", true);
          tally.count("liar_was_new_primary", liar == 1);
          return correct_replicas_in_view(result, all_but(liar), 1);
        };
        return run;
      },
      16);
  tally.print("FabricatedPreparedCertificateIsRejectedAtTheEdge");
}

// Replica 1, the primary of view 1, sends a NEW-VIEW whose re-proposals do not follow from
// its view changes. Every backup recomputes them (PBFT 4.4), refuses it and asks for view
// 2, whose primary is correct.
constexpr pbft::ReplicaId kLiar = 1;  // the primary of view 1

TEST(Behaviours, NewViewThatDoesNotFollowItsViewChangesLeadsToTheNextView) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        SeedRun run = view_change_run(seed, kLiar, "bad-new-view", std::make_shared<ViewChanges>());
        run.verify = [&tally](const SimCluster& cluster, const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {kLiar});
          ++tally.seeds;
          if (trace.accepted[wire::NEW_VIEW] == 0) return "no bad NEW-VIEW reached a backup";
          auto refused = result.harness.dropped_by_core.find(
              "new view whose re-proposals do not follow from its view changes");
          if (refused == result.harness.dropped_by_core.end())
            return "no backup refused the NEW-VIEW";
          tally.count("refused");
          tally.count("caught", trace.evidence_against[kLiar] > 0);
          return correct_replicas_in_view(result, all_but(kLiar), 2);
        };
        return run;
      },
      16);
  tally.print("NewViewThatDoesNotFollowItsViewChangesLeadsToTheNextView");
}

// --- replay -------------------------------------------------------------------------------

// Old messages sent again, at random: the edge accepts them (their signatures are good),
// the cores find them stale, and a replayed request never executes twice (S3, checked);
// the copies signed for another cluster are refused.
TEST(Behaviours, ReplayedMessagesAreHarmlessAndRequestsExecuteOnce) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(0, kReplicas - 1));
        SeedRun run = byzantine_run(seed, liar, "replay", {});
        run.verify = [&tally, liar](const SimCluster& cluster, const RunResult&) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          tally.count("request_replayed", trace.accepted[wire::REQUEST] > 0);
          if (!trace.complete) return "the trace was cut short";
          if (trace.accepted_total() == 0) return "no replayed message passed the edge";
          if (trace.rejected_total() != trace.rejected["bad_signature"])
            return "replays rejected for another reason than another cluster's signature: " +
                   trace.rejections();
          return {};
        };
        return run;
      },
      20);
  tally.print("ReplayedMessagesAreHarmlessAndRequestsExecuteOnce");
  if (full_run()) {
    EXPECT_GT(tally.seeds_with["request_replayed"], 0u) << "no request was ever replayed";
  }
}

// A replica cut off long enough to need a state transfer asks its peers for chunks: the
// replayer keeps some of those FETCH_STATEs too, and sends them again, to any replica,
// the one that signed them included.
//
// Regression: this found a bug in the core (PHALANX_SEED=14 aborted a correct replica).
// Its own FETCH_STATE, replayed to it, passed the edge (the signature is its own), and
// on_fetch_state answered message.sender, itself: the invariant "sending to oneself"
// (replica.cc) broke. A replica now drops every message that claims itself as its sender.
TEST(Behaviours, ReplayedStateTransferRequestsAreHarmless) {
  constexpr pbft::ReplicaId kLagging = 3;
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        net::Rng rng = choices(seed);
        auto liar = static_cast<pbft::ReplicaId>(rng.uniform(0, kReplicas - 2));
        SeedRun run = byzantine_run(seed, liar, "replay", {{"per_second", "500"}},
                                    RandomShape{.requests_min = 60,
                                                .requests_max = 80,
                                                .latency_max_ms_min = 1,
                                                .latency_max_ms_max = 3,
                                                .drop_percent_max = 2});
        run.options.replica_options.checkpoint_interval = 4;
        run.options.settle_time = 2 * pbft::kSecond;
        const pbft::Instant cut_at = rng.uniform(20, 60) * kMs;
        const pbft::Instant back_at = cut_at + rng.uniform(300, 600) * kMs;
        run.changes.emplace_back(cut_at,
                                 [](net::SimNetwork& network) { network.isolate(kLagging); });
        run.changes.emplace_back(back_at,
                                 [](net::SimNetwork& network) { network.reconnect(kLagging); });
        run.faults += " isolate(r3)@" + ms(cut_at) + " back@" + ms(back_at);
        run.verify = [&tally, liar](const SimCluster& cluster,
                                    const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          ++tally.seeds;
          tally.count("state_transfer", result.harness.state_transfers > 0);
          tally.count("fetch_replayed", trace.accepted[wire::FETCH_STATE] > 0);
          return {};
        };
        return run;
      },
      12);
  tally.print("ReplayedStateTransferRequestsAreHarmless");
}

// --- silence and slowness -----------------------------------------------------------------

// Nothing the mute replica sends is heard, replicas or clients; as the primary it is
// replaced.
TEST(Behaviours, MuteReplicaIsToleratedAndReplacedAsPrimary) {
  run_seeds(
      [](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(0, kReplicas - 1));
        SeedRun run = byzantine_run(seed, liar, "mute", {});
        run.verify = [liar](const SimCluster& cluster, const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          if (trace.delivered != 0) return "the mute replica was heard";
          if (liar == 0) return correct_replicas_in_view(result, all_but(liar), 1);
          return {};
        };
        return run;
      },
      16);
}

// A replica heard by one other replica only (and by clients or not): its votes count
// there and nowhere else, which must change nothing.
TEST(Behaviours, SelectiveReplicaIsTolerated) {
  run_seeds(
      [](std::uint64_t seed) {
        net::Rng rng = choices(seed);
        auto liar = static_cast<pbft::ReplicaId>(rng.uniform(0, kReplicas - 1));
        pbft::ReplicaId listener = other_replica(rng, liar);
        bool clients = rng.chance(0.5);
        SeedRun run = byzantine_run(
            seed, liar, "selective",
            {{"talks_to", std::to_string(listener)}, {"clients", clients ? "true" : "false"}});
        run.verify = [liar, listener, clients](const SimCluster& cluster,
                                               const RunResult&) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          for (net::NodeId node : trace.heard_by) {
            bool allowed = node < kReplicas ? node == listener : clients;
            if (!allowed) return "node " + std::to_string(node) + " heard the selective replica";
          }
          return {};
        };
        return run;
      },
      16);
}

// The primary holds each PRE-PREPARE for 250 ms or 2 s. Every request it orders waits at
// least that long, and none is lost. 250 ms is below the view timeout (500 ms at first,
// then adapted to the latency the backups see): the cluster lives with a slow primary, the
// PBFT paper's performance attack. 2 s is above it: the primary is replaced.
TEST(Behaviours, SlowPrimaryDelaysButCannotStopProgress) {
  Tally tally;
  run_seeds(
      [&](std::uint64_t seed) {
        const pbft::Instant delay = (choices(seed).chance(0.5) ? 250 : 2000) * kMs;
        SeedRun run = byzantine_run(seed, 0, "slow", {{"delay_ms", std::to_string(delay / kMs)}});
        run.verify = [&tally, delay](const SimCluster& cluster,
                                     const RunResult& result) -> std::string {
          ++tally.seeds;
          const std::string label = delay < 1000 * kMs ? "250ms" : "2s";
          tally.count(label);
          tally.count(label + "_replaced", result.replicas[1].view >= 1);
          for (const auto& completion : cluster.completions()) {
            // A request accepted in view 0 was ordered by the slow primary.
            if (completion.view == 0 && completion.completed_at - completion.submitted_at < delay)
              return "a request completed in view 0 in " +
                     ms(completion.completed_at - completion.submitted_at) +
                     ", before the primary's pre-prepare could leave";
          }
          if (delay > 1000 * kMs) return correct_replicas_in_view(result, all_but(0), 1);
          return {};
        };
        return run;
      },
      16);
  tally.print("SlowPrimaryDelaysButCannotStopProgress");
}

// --- garbage -------------------------------------------------------------------------------

// One byte changed after signing, anywhere in the message: refused at the edge whatever
// it hits, never handed to a core.
TEST(Behaviours, CorruptedBytesAreRejectedAtTheEdge) {
  std::map<std::string, std::uint64_t> reasons;
  run_seeds(
      [&](std::uint64_t seed) {
        net::Rng rng = choices(seed);
        auto liar = static_cast<pbft::ReplicaId>(rng.uniform(0, kReplicas - 1));
        std::string probability = rng.chance(0.5) ? "0.1" : "0.5";
        SeedRun run = byzantine_run(seed, liar, "corrupt", {{"probability", probability}});
        run.verify = [&reasons, liar](const SimCluster& cluster,
                                      const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          if (!trace.complete) return "the trace was cut short";
          for (const auto& [reason, count] : trace.rejected) reasons[reason] += count;
          if (trace.accepted_total() != 0)
            return std::to_string(trace.accepted_total()) + " corrupted messages passed the edge";
          if (trace.rejected_total() == 0) return "nothing was corrupted";
          if (trace.rejected_honest != 0 || result.rejected_total() != trace.rejected_total())
            return "honest messages were rejected";
          return {};
        };
        return run;
      },
      16);
  std::printf("[ tally    ] CorruptedBytesAreRejectedAtTheEdge rejections:");
  for (const auto& [reason, count] : reasons)
    std::printf(" %s=%llu", reason.c_str(), static_cast<unsigned long long>(count));
  std::printf("\n");
}

// 2000 messages a second to every replica, junk and valid-but-useless ones: the junk is
// refused at the edge, the useless ones are dropped by the cores, and every request still
// completes.
TEST(Behaviours, FloodOfJunkAndUselessMessagesDoesNotStopProgress) {
  std::map<std::string, std::uint64_t> drops;
  run_seeds(
      [&](std::uint64_t seed) {
        auto liar = static_cast<pbft::ReplicaId>(choices(seed).uniform(0, kReplicas - 1));
        SeedRun run = byzantine_run(seed, liar, "flood", {});
        run.options.replica_options.checkpoint_interval = 8;  // checkpoints to fetch from
        run.verify = [&drops, liar](const SimCluster& cluster,
                                    const RunResult& result) -> std::string {
          LiarTrace trace = read_trace(cluster, {liar});
          if (!trace.complete) return "the trace was cut short";
          for (const auto& [reason, count] : result.harness.dropped_by_core) drops[reason] += count;
          if (trace.rejected_total() == 0) return "no junk was rejected";
          if (trace.accepted_total() == 0) return "no useless message passed the edge";
          return {};
        };
        return run;
      },
      12);
  std::printf("[ tally    ] FloodOfJunkAndUselessMessagesDoesNotStopProgress core drops:");
  for (const auto& [reason, count] : drops)
    std::printf(" '%s'=%llu", reason.c_str(), static_cast<unsigned long long>(count));
  std::printf("\n");
}

// --- the registry --------------------------------------------------------------------------

BehaviourContext context_with(Params params, pbft::ReplicaId id = 1) {
  return BehaviourContext{id,     kReplicas,
                          "test", crypto::SecretKey::derive_for_testing("replica", id),
                          1,      std::move(params)};
}

// The parameters each behaviour needs to be made at all.
Params required(std::string_view name) {
  if (name == "forge") return {{"mode", "tamper"}};
  if (name == "viewchange-liar") return {{"mode", "omit-prepared"}};
  if (name == "selective") return {{"talks_to", "0"}};
  return {};
}

TEST(Behaviours, EveryRegisteredBehaviourCanBeMade) {
  auto names = behaviour_names();
  for (const char* expected : {"corrupt-chunks", "equivocate", "forge", "viewchange-liar", "replay",
                               "mute", "selective", "slow", "corrupt", "flood"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (auto name : names) {
    auto made = make_behaviour(name, context_with(required(name)));
    ASSERT_TRUE(made.ok()) << name << ": " << made.error().message;
    EXPECT_EQ(made.value()->name(), name);
  }
}

TEST(Behaviours, MakeBehaviourRejectsUnknownNamesAndBadParameters) {
  auto unknown = make_behaviour("lie-a-lot", context_with({}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'lie-a-lot'"), std::string::npos)
      << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("equivocate"), std::string::npos)
      << "the known names are listed: " << unknown.error().message;

  struct Bad {
    const char* behaviour;
    Params params;
    std::vector<const char*> named;  // what the message must name
  };
  const std::vector<Bad> bad = {
      {"equivocate", {{"side_b", "3,7"}}, {"equivocate", "side_b", "7"}},
      {"equivocate", {{"side_b", "1"}}, {"side_b", "'1'"}},  // itself (id 1)
      {"equivocate", {{"what", "prepare,vote"}}, {"what", "vote", "checkpoint"}},
      {"equivocate", {{"sides", "3"}}, {"unknown parameter", "'sides'", "side_b"}},
      {"forge", {}, {"forge", "missing", "mode", "impersonate"}},
      {"forge", {{"mode", "wish"}}, {"mode", "wish", "other-cluster"}},
      {"forge", {{"mode", "tamper"}, {"per_second", "lots"}}, {"per_second", "lots"}},
      {"forge", {{"mode", "tamper"}, {"per_second", "0"}}, {"per_second", "'0'"}},
      {"forge", {{"mode", "impersonate"}, {"replace", "true"}}, {"replace", "impersonate"}},
      {"forge", {{"mode", "tamper"}, {"replace", "yes"}}, {"replace", "yes"}},
      {"viewchange-liar", {{"mode", "fib"}}, {"viewchange-liar", "mode", "fib"}},
      {"replay", {{"per_second", "-1"}}, {"replay", "per_second", "-1"}},
      {"mute", {{"quiet", "true"}}, {"mute", "unknown parameter", "quiet"}},
      {"selective", {}, {"selective", "missing", "talks_to"}},
      {"selective", {{"talks_to", "0,x"}}, {"talks_to", "'x'"}},
      {"selective", {{"talks_to", "0"}, {"clients", "maybe"}}, {"clients", "maybe"}},
      {"slow", {{"delay_ms", "1e3"}}, {"slow", "delay_ms", "1e3"}},
      {"corrupt", {{"probability", "1.5"}}, {"corrupt", "probability", "1.5"}},
      {"corrupt", {{"probability", "nan"}}, {"probability", "nan"}},
      {"flood", {{"mix", "junk,spam"}}, {"flood", "mix", "spam"}},
      {"flood", {{"mix", ""}}, {"mix"}},
      {"corrupt-chunks", {{"x", "1"}}, {"corrupt-chunks", "unknown parameter", "'x'"}},
  };
  for (const auto& [behaviour, params, named] : bad) {
    auto made = make_behaviour(behaviour, context_with(params));
    ASSERT_FALSE(made.ok()) << behaviour << " " << describe_params(params) << " was accepted";
    for (const char* fragment : named)
      EXPECT_NE(made.error().message.find(fragment), std::string::npos)
          << behaviour << " " << describe_params(params) << ": '" << made.error().message
          << "' does not name " << fragment;
  }
}

}  // namespace
}  // namespace phalanx::adversary
