// The PBFT rules that are easy to get wrong, one test each, traced to the paper
// (Castro & Liskov, OSDI '99). Each drives a single replica with messages signed by its
// peers and passed through the real edge.
#include <gtest/gtest.h>

#include "phalanx/examples/kv_application.h"
#include "support/test_cluster.h"

namespace phalanx {
namespace {

using pbft::Actions;
using testing::count_sent;
using testing::TestCluster;

class ReplicaRules : public ::testing::Test {
 protected:
  // Replica 1 is a backup in view 0 (primary: replica 0).
  ReplicaRules() : replica_(cluster_.setup(1, options()), app_, 0) {}

  static pbft::ReplicaOptions options() {
    pbft::ReplicaOptions options;
    options.checkpoint_interval = 4;
    options.window_checkpoints = 2;  // window: 8 sequence numbers
    return options;
  }

  Actions deliver(const pbft::Message& message) { return replica_.on_message(message, ++now_); }

  wire::PrePrepare batch(pbft::Seq seq, std::string operation, pbft::View view = 0) {
    return cluster_.pre_prepare(view, seq, {cluster_.request(0, seq, std::move(operation))});
  }

  Actions deliver_pre_prepare(const wire::PrePrepare& body) {
    auto primary = cluster_.quorums().primary(body.view());
    return deliver(cluster_.message(primary, wire::PRE_PREPARE, body));
  }

  Actions deliver_vote(pbft::ReplicaId from, wire::Kind kind, const wire::PrePrepare& body) {
    if (kind == wire::PREPARE)
      return deliver(cluster_.message(
          from, kind, TestCluster::vote<wire::Prepare>(body.view(), body.seq(), body.digest())));
    return deliver(cluster_.message(
        from, kind, TestCluster::vote<wire::Commit>(body.view(), body.seq(), body.digest())));
  }

  // Takes `body` through pre-prepare, 2f prepares and 2f+1 commits at replica 1.
  Actions commit(const wire::PrePrepare& body) {
    deliver_pre_prepare(body);
    deliver_vote(2, wire::PREPARE, body);
    deliver_vote(0, wire::COMMIT, body);
    return deliver_vote(2, wire::COMMIT, body);
  }

  TestCluster cluster_;
  examples::KvApplication app_;
  pbft::Replica replica_;
  pbft::Instant now_ = 0;
};

// PBFT 4.2: a backup accepts a pre-prepare for (v, n) only if it has not accepted one for
// (v, n) with a different digest. The second is ignored and kept as evidence (S5).
TEST_F(ReplicaRules, SecondPrePrepareWithAnotherDigestIsIgnored) {
  Actions first = deliver_pre_prepare(batch(1, examples::kv::put("a", "1")));
  EXPECT_EQ(count_sent(first, wire::PREPARE), 1u);

  Actions second = deliver_pre_prepare(batch(1, examples::kv::put("a", "2")));
  EXPECT_EQ(count_sent(second, wire::PREPARE), 0u);
  ASSERT_EQ(second.evidence.size(), 1u);
  EXPECT_EQ(second.evidence[0].replica, 0u);
}

// PBFT 4.2: prepared needs 2f prepares from distinct *backups*; the primary's
// pre-prepare stands for its prepare, so a PREPARE from it must not count.
TEST_F(ReplicaRules, PreparesFromThePrimaryDoNotCount) {
  auto body = batch(1, examples::kv::put("a", "1"));
  deliver_pre_prepare(body);  // replica 1's own prepare: 1 of the 2f = 2 needed
  Actions from_primary = deliver_vote(0, wire::PREPARE, body);
  EXPECT_EQ(count_sent(from_primary, wire::COMMIT), 0u) << "primary's prepare was counted";

  Actions from_backup = deliver_vote(2, wire::PREPARE, body);
  EXPECT_EQ(count_sent(from_backup, wire::COMMIT), 1u);
}

// PBFT 4.2: messages with sequence numbers outside [h, h+L] are not accepted.
TEST_F(ReplicaRules, PrePrepareAboveTheHighWatermarkIsIgnored) {
  Actions inside = deliver_pre_prepare(batch(8, examples::kv::put("a", "1")));
  EXPECT_EQ(count_sent(inside, wire::PREPARE), 1u);
  Actions outside = deliver_pre_prepare(batch(9, examples::kv::put("a", "1")));
  EXPECT_EQ(count_sent(outside, wire::PREPARE), 0u);
  EXPECT_EQ(replica_.status().log_slots, 1u);
}

// PBFT 4.2: a backup accepts pre-prepares and votes only for its current view.
TEST_F(ReplicaRules, MessagesForAnotherViewAreIgnored) {
  auto later = batch(1, examples::kv::put("a", "1"), /*view=*/1);  // from replica 1 = primary(1)
  // Replica 1 cannot receive its own message; use replica 2 as the receiver instead.
  examples::KvApplication app;
  pbft::Replica other(cluster_.setup(2, options()), app, 0);
  Actions actions = other.on_message(cluster_.message(1, wire::PRE_PREPARE, later), 1);
  EXPECT_EQ(count_sent(actions, wire::PREPARE), 0u);

  auto body = batch(1, examples::kv::put("a", "1"));
  deliver_pre_prepare(body);
  auto stale_view = TestCluster::vote<wire::Prepare>(1, 1, body.digest());
  Actions prepare = deliver(cluster_.message(2, wire::PREPARE, stale_view));
  EXPECT_EQ(count_sent(prepare, wire::COMMIT), 0u);
}

// PBFT 4.2: committed-local needs prepared plus 2f+1 matching commits; execution follows
// sequence order whatever order the commits arrive in.
TEST_F(ReplicaRules, ExecutionIsInSequenceOrder) {
  auto second = batch(2, examples::kv::put("k", "second"));
  auto first = batch(1, examples::kv::put("k", "first"));
  Actions early = commit(second);
  EXPECT_TRUE(early.executed.empty()) << "seq 2 executed before seq 1";
  Actions both = commit(first);
  ASSERT_EQ(both.executed.size(), 2u);
  EXPECT_EQ(both.executed[0].seq, 1u);
  EXPECT_EQ(both.executed[1].seq, 2u);
  EXPECT_EQ(app_.entries().at("k"), "second");
}

// PBFT 4.1: a retransmitted request that already executed gets the stored reply and is
// not executed again; a batch carrying it again executes it as a duplicate (skipped).
TEST_F(ReplicaRules, ExecutedRequestIsAnsweredFromTheClientTableNotReExecuted) {
  auto request = cluster_.request(0, 1, examples::kv::put("a", "1"));
  commit(cluster_.pre_prepare(0, 1, {request}));
  ASSERT_EQ(app_.executed_count(), 1u);

  Actions retransmitted = deliver(cluster_.open(request));
  EXPECT_EQ(retransmitted.replies.size(), 1u);
  EXPECT_EQ(app_.executed_count(), 1u);

  Actions again = commit(cluster_.pre_prepare(0, 2, {request}));
  ASSERT_EQ(again.executed.size(), 1u);
  EXPECT_TRUE(again.executed[0].requests[0].duplicate);
  EXPECT_EQ(app_.executed_count(), 1u);
}

// S3: a request whose client signature fails never reaches the core: the edge rejects it
// alone or inside a batch, so it cannot execute.
TEST_F(ReplicaRules, RequestWithABadClientSignatureIsNeverExecuted) {
  auto forged = cluster_.request(0, 1, examples::kv::put("a", "1"));
  forged.mutable_signature()->at(0) ^= 1;
  auto alone =
      pbft::open_envelope(pbft::encode(forged), cluster_.verifier(), pbft::Audience::kReplica);
  EXPECT_EQ(alone.rejection, pbft::Rejection::kBadSignature);

  auto body = cluster_.pre_prepare(0, 1, {forged});
  auto in_batch = pbft::open_envelope(pbft::encode(cluster_.sealed(0, wire::PRE_PREPARE, body)),
                                      cluster_.verifier(), pbft::Audience::kReplica);
  EXPECT_EQ(in_batch.rejection, pbft::Rejection::kBadNestedRequest);
  EXPECT_EQ(app_.executed_count(), 0u);
}

// PBFT 4.3: a checkpoint becomes stable with 2f+1 matching CHECKPOINTs, which moves the
// low watermark and discards the log below it. (The committed slots between the previous
// stable checkpoint and it stay, for peers catching up by the log: state_transfer.cc.)
TEST_F(ReplicaRules, StableCheckpointDiscardsTheLogBelowIt) {
  auto commit_and_checkpoint = [&](pbft::Seq first, pbft::Seq last_seq) {
    Actions last;
    for (pbft::Seq seq = first; seq <= last_seq; ++seq)
      last = commit(batch(seq, examples::kv::put("k" + std::to_string(seq), "v")));
    EXPECT_EQ(replica_.status().last_executed, last_seq);
    EXPECT_EQ(count_sent(last, wire::CHECKPOINT), 1u);
    // Replica 1's own checkpoint message carries the digest; others sign the same.
    wire::Checkpoint own;
    for (const auto& outgoing : last.send) {
      if (outgoing.kind != wire::CHECKPOINT) continue;
      wire::Envelope envelope;
      EXPECT_TRUE(envelope.ParseFromString(*outgoing.envelope));
      EXPECT_TRUE(own.ParseFromString(envelope.payload()));
    }
    return own;
  };
  wire::Checkpoint first = commit_and_checkpoint(1, 4);
  EXPECT_EQ(replica_.status().log_slots, 4u);
  deliver(cluster_.message(0, wire::CHECKPOINT, first));
  EXPECT_EQ(replica_.status().stable_seq, 0u) << "stable with 2 of 2f+1 = 3";
  deliver(cluster_.message(2, wire::CHECKPOINT, first));
  EXPECT_EQ(replica_.status().stable_seq, 4u);

  wire::Checkpoint second = commit_and_checkpoint(5, 8);
  deliver(cluster_.message(0, wire::CHECKPOINT, second));
  deliver(cluster_.message(2, wire::CHECKPOINT, second));
  EXPECT_EQ(replica_.status().stable_seq, 8u);
  EXPECT_EQ(replica_.status().log_slots, 4u) << "slots 5-8 kept, 1-4 gone";
}

// A VIEW-CHANGE carries its prepared batches whole; one too large for the wire cannot
// reach the peers, and that view change cannot complete. The replica says so (an event
// the node logs as an error) instead of stalling in silence.
TEST(ReplicaLimits, ViewChangeLargerThanTheWireLimitIsReported) {
  TestCluster cluster;
  examples::KvApplication app;
  pbft::ReplicaSetup setup = cluster.setup(1);
  setup.verifier.limits.envelope_bytes_max = 6000;  // as this replica's peers would refuse
  pbft::Replica replica(std::move(setup), app, 0);
  pbft::Instant now = 0;
  for (pbft::Seq seq = 1; seq <= 2; ++seq) {  // two prepared batches of ~3 KB each
    auto body = cluster.pre_prepare(
        0, seq, {cluster.request(0, seq, examples::kv::put("k", std::string(3000, 'x')))});
    replica.on_message(cluster.message(0, wire::PRE_PREPARE, body), ++now);
    replica.on_message(
        cluster.message(2, wire::PREPARE, TestCluster::vote<wire::Prepare>(0, seq, body.digest())),
        ++now);
  }
  Actions actions = replica.on_tick(now + 60 * pbft::kSecond);  // the request timer fires
  ASSERT_EQ(count_sent(actions, wire::VIEW_CHANGE), 1u);
  bool reported = false;
  for (const auto& event : actions.events)
    if (event.type == pbft::Event::Type::kMessageTooLarge) {
      reported = true;
      EXPECT_GT(event.value, 6000u);
      EXPECT_NE(event.detail.find("VIEW_CHANGE"), std::string::npos) << event.detail;
    }
  EXPECT_TRUE(reported) << "an oversized VIEW-CHANGE went out unreported";
}

// PBFT 4.5.2: each failed view doubles the wait for the next. A replica that joins a view
// change because f+1 peers asked for it has seen its view fail as surely as those whose
// timers fired; if it kept the shorter wait it would leave the next view while they still
// waited for it, and with one replica down that view would lose its quorum.
TEST(ViewChangeTimeouts, AReplicaThatJoinsAViewChangeBacksOffLikeThoseWhoseTimersFired) {
  TestCluster cluster;
  examples::KvApplication app;
  pbft::ReplicaOptions options;
  options.view_timeout_initial = 1 * pbft::kSecond;
  pbft::Replica replica(cluster.setup(2, options), app, 0);
  wire::ViewChange to_view_1;
  to_view_1.set_new_view(1);
  pbft::Instant now = 1;
  replica.on_message(cluster.message(1, wire::VIEW_CHANGE, to_view_1), now);
  Actions joined = replica.on_message(cluster.message(3, wire::VIEW_CHANGE, to_view_1), now);
  ASSERT_EQ(count_sent(joined, wire::VIEW_CHANGE), 1u) << "f+1 VIEW-CHANGEs: it joins";
  ASSERT_EQ(replica.status().view, 1u);

  // 2f+1 are in the change (1, 3 and itself): it waits for the NEW-VIEW twice the base.
  replica.on_tick(now + 1500 * pbft::kMillisecond);
  EXPECT_EQ(replica.status().view, 1u) << "gave up on view 1 after the undoubled timeout";
  replica.on_tick(now + 2 * pbft::kSecond + 1);
  EXPECT_EQ(replica.status().view, 2u) << "no NEW-VIEW in twice the base: it moves on";
}

// Fairness in batching: a primary orders clients first come, first served, with one request
// of each client in its queue, so a client that floods (newer requests, or the same one
// again and again) takes one place in a batch like anyone else, and cannot push the others'
// requests back.
TEST(BatchFairness, AFloodingClientGetsOnePlaceInABatchLikeAnyOther) {
  TestCluster cluster;
  examples::KvApplication app;
  pbft::ReplicaOptions options;
  options.batch_requests_max = 4;
  options.batch_delay_max = 60 * pbft::kSecond;  // batches leave when full
  options.pipeline_batches_max = 0;
  pbft::Replica primary(cluster.setup(0, options), app, 0);
  pbft::Instant now = 0;
  std::vector<wire::PrePrepare> proposed;
  auto deliver = [&](const wire::Envelope& request) {
    Actions actions = primary.on_message(cluster.open(request), ++now);
    for (const auto& outgoing : actions.send) {
      if (outgoing.kind != wire::PRE_PREPARE) continue;
      wire::Envelope envelope;
      ASSERT_TRUE(envelope.ParseFromString(*outgoing.envelope));
      ASSERT_TRUE(proposed.emplace_back().ParseFromString(envelope.payload()));
    }
  };
  // With nothing in flight a request leaves alone (at low load it should not wait for
  // company); from then on the batches below wait until they are full.
  deliver(cluster.request(1000, 1, "first"));
  ASSERT_EQ(proposed.size(), 1u);
  proposed.clear();
  const std::uint64_t flooder = 0;
  pbft::RequestId flooder_id = 0;
  for (std::uint64_t batch = 0; batch < 5; ++batch) {
    for (int i = 0; i < 100; ++i) deliver(cluster.request(flooder, ++flooder_id, "flood"));
    for (int i = 0; i < 20; ++i) deliver(cluster.request(flooder, flooder_id, "flood"));
    // Three honest clients, one request each: with the flooder's, a full batch.
    for (std::uint64_t honest = 1; honest <= 3; ++honest)
      deliver(cluster.request(batch * 3 + honest, 1, "honest"));
    ASSERT_EQ(proposed.size(), batch + 1) << "the honest requests waited behind the flood";
  }
  for (const auto& batch : proposed) {
    std::size_t from_flooder = 0;
    for (const auto& envelope : batch.requests()) {
      wire::Request request;
      ASSERT_TRUE(request.ParseFromString(envelope.payload()));
      if (request.operation() == "flood") ++from_flooder;
    }
    EXPECT_EQ(batch.requests_size(), 4);
    EXPECT_EQ(from_flooder, 1u) << "batch " << batch.seq();
  }
}

}  // namespace
}  // namespace phalanx
