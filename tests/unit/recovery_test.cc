// Crash-recovery of one replica (pbft/durable.h, Replica::recover): what it made durable
// brings it back remembering what it signed and what committed. Each test drives a
// replica with messages signed by its peers (through the real edge), "crashes" it by
// dropping the object, and starts a new one from the records the old one asked to
// persist, as a driver would have written them.
#include <gtest/gtest.h>

#include <memory>

#include "phalanx/examples/kv_application.h"
#include "support/test_cluster.h"

namespace phalanx {
namespace {

using pbft::Actions;
using pbft::DurableRecord;
using testing::count_sent;
using testing::TestCluster;

// What a storage would hold: the last snapshot and the records written after it.
struct Disk {
  pbft::DurableState state;

  void write(const Actions& actions) {
    for (const auto& record : actions.persist) state.records.push_back(record);
    if (actions.snapshot) {
      pbft::Snapshot snapshot = *actions.snapshot;
      state.records = std::move(snapshot.records);
      snapshot.records.clear();
      state.snapshot = std::move(snapshot);
    }
  }
};

std::size_t count_records(const Actions& actions, DurableRecord::Type type) {
  std::size_t count = 0;
  for (const auto& record : actions.persist) count += record.type == type;
  return count;
}

const wire::Envelope* find_sent(const Actions& actions, wire::Kind kind, wire::Envelope& out) {
  for (const auto& outgoing : actions.send)
    if (outgoing.kind == kind && out.ParseFromString(*outgoing.envelope)) return &out;
  return nullptr;
}

class Recovery : public ::testing::Test {
 protected:
  static pbft::ReplicaOptions options() {
    pbft::ReplicaOptions options;
    options.checkpoint_interval = 4;
    options.window_checkpoints = 2;  // window: 8 sequence numbers
    // Nothing here executes: a primary proposes each batch at once, however many are
    // in flight (the numbering is what these tests watch).
    options.pipeline_batches_max = 0;
    return options;
  }

  // Replica `id` of a 4-replica cluster, new.
  void start(pbft::ReplicaId id) {
    id_ = id;
    replica_.reset();
    app_ = std::make_unique<examples::KvApplication>();
    replica_ = std::make_unique<pbft::Replica>(cluster_.setup(id, options()), *app_, ++now_);
  }

  // The crash: the object goes; only `disk_` remains. Then recovery from it.
  Actions restart() {
    replica_.reset();
    app_ = std::make_unique<examples::KvApplication>();
    replica_ = std::make_unique<pbft::Replica>(cluster_.setup(id_, options()), *app_, ++now_);
    auto recovered = replica_->recover(disk_.state, ++now_);
    EXPECT_TRUE(recovered.ok()) << recovered.error().message;
    replica_->check_invariants();
    Actions actions = std::move(recovered).value();
    disk_.write(actions);
    return actions;
  }

  Actions step(Actions actions) {
    disk_.write(actions);
    replica_->check_invariants();
    return actions;
  }
  Actions deliver(const pbft::Message& message) {
    return step(replica_->on_message(message, ++now_));
  }
  Actions tick(pbft::Instant advance) {
    now_ += advance;
    return step(replica_->on_tick(now_));
  }

  wire::PrePrepare batch(pbft::Seq seq, std::string operation, pbft::View view = 0) {
    return cluster_.pre_prepare(view, seq, {cluster_.request(0, seq, std::move(operation))});
  }
  Actions deliver_pre_prepare(const wire::PrePrepare& body) {
    return deliver(
        cluster_.message(cluster_.quorums().primary(body.view()), wire::PRE_PREPARE, body));
  }
  Actions deliver_vote(pbft::ReplicaId from, wire::Kind kind, const wire::PrePrepare& body) {
    if (kind == wire::PREPARE)
      return deliver(cluster_.message(
          from, kind, TestCluster::vote<wire::Prepare>(body.view(), body.seq(), body.digest())));
    return deliver(cluster_.message(
        from, kind, TestCluster::vote<wire::Commit>(body.view(), body.seq(), body.digest())));
  }
  // Pre-prepare, 2f prepares and 2f+1 commits at replica 1 (a backup in view 0).
  Actions commit(const wire::PrePrepare& body) {
    deliver_pre_prepare(body);
    deliver_vote(2, wire::PREPARE, body);
    deliver_vote(0, wire::COMMIT, body);
    return deliver_vote(2, wire::COMMIT, body);
  }
  // A client request, straight to the replica (as to a primary).
  Actions request(std::uint64_t client, pbft::RequestId id, std::string operation) {
    return deliver(cluster_.open(cluster_.request(client, id, std::move(operation))));
  }

  TestCluster cluster_;
  Disk disk_;
  pbft::ReplicaId id_ = 0;
  std::unique_ptr<examples::KvApplication> app_;
  std::unique_ptr<pbft::Replica> replica_;
  pbft::Instant now_ = 0;
};

// A replica that remembers nothing loads an empty state and is a new replica.
TEST_F(Recovery, EmptyDurableStateIsANewReplica) {
  start(1);
  Actions actions = restart();
  EXPECT_EQ(replica_->status().view, 0u);
  EXPECT_EQ(replica_->status().last_executed, 0u);
  EXPECT_TRUE(actions.executed.empty());
}

// Durability rule: our PREPARE is sent only with the PRE-PREPARE it votes for made
// durable in the same batch, before it.
TEST_F(Recovery, BackupPersistsThePrePrepareBeforeItsPrepare) {
  start(1);
  Actions actions = deliver_pre_prepare(batch(1, examples::kv::put("a", "1")));
  ASSERT_EQ(count_sent(actions, wire::PREPARE), 1u);
  ASSERT_EQ(actions.persist.size(), 2u);
  EXPECT_EQ(actions.persist[0].type, DurableRecord::Type::kPrePrepare);
  EXPECT_EQ(actions.persist[1].type, DurableRecord::Type::kSigned);
}

// S4: the 2f+1 commits of a batch are durable in the batch whose replies they release.
TEST_F(Recovery, CommitsAreDurableBeforeTheReplies) {
  start(1);
  Actions actions = commit(batch(1, examples::kv::put("a", "1")));
  ASSERT_EQ(actions.replies.size(), 1u);
  EXPECT_EQ(count_records(actions, DurableRecord::Type::kCommitted), 1u);
}

// S4: committed batches are executed again after a restart, to the same state.
TEST_F(Recovery, CommittedBatchesAreExecutedAgain) {
  start(1);
  for (pbft::Seq seq = 1; seq <= 3; ++seq)
    commit(batch(seq, examples::kv::put("k" + std::to_string(seq), "v")));
  auto before = app_->entries();
  Actions recovered = restart();
  ASSERT_EQ(recovered.executed.size(), 3u);
  EXPECT_EQ(recovered.executed.back().seq, 3u);
  EXPECT_EQ(app_->entries(), before);
  EXPECT_EQ(replica_->status().last_executed, 3u);
}

// PBFT 4.2 after a restart: a backup that prepared (view, seq, d) never prepares another
// digest there; the second pre-prepare is evidence against the primary instead.
TEST_F(Recovery, RestartedBackupDoesNotPrepareAConflictingBatch) {
  start(1);
  deliver_pre_prepare(batch(1, examples::kv::put("a", "1")));
  restart();
  Actions conflicting = deliver_pre_prepare(batch(1, examples::kv::put("a", "2")));
  EXPECT_EQ(count_sent(conflicting, wire::PREPARE), 0u);
  EXPECT_EQ(conflicting.evidence.size(), 1u);
}

// A backup that crashed after persisting the pre-prepare but before its PREPARE left
// (a torn tail) votes for that same pre-prepare when it comes back.
TEST_F(Recovery, TornPrepareIsCastAgainForTheSameBatch) {
  start(1);
  auto body = batch(1, examples::kv::put("a", "1"));
  deliver_pre_prepare(body);
  ASSERT_EQ(disk_.state.records.back().type, DurableRecord::Type::kSigned);
  disk_.state.records.pop_back();  // the PREPARE never reached the disk
  Actions recovered = restart();
  wire::Envelope prepare;
  ASSERT_NE(find_sent(recovered, wire::PREPARE, prepare), nullptr);
  wire::Prepare vote;
  ASSERT_TRUE(vote.ParseFromString(prepare.payload()));
  EXPECT_EQ(vote.digest(), body.digest());
}

// A primary goes on numbering after the last pre-prepare it signed: it never proposes
// a second batch for a sequence number it used (that would be equivocation).
TEST_F(Recovery, RestartedPrimaryContinuesNumbering) {
  start(0);
  request(0, 1, examples::kv::put("a", "1"));  // proposed at once: nothing in flight
  request(1, 1, examples::kv::put("b", "1"));
  tick(2 * pbft::kMillisecond);  // the batch delay passed: proposed as seq 2
  restart();
  request(2, 1, examples::kv::put("c", "1"));
  Actions actions = tick(2 * pbft::kMillisecond);
  wire::Envelope envelope;
  ASSERT_NE(find_sent(actions, wire::PRE_PREPARE, envelope), nullptr);
  wire::PrePrepare proposed;
  ASSERT_TRUE(proposed.ParseFromString(envelope.payload()));
  EXPECT_EQ(proposed.seq(), 3u);
}

// PBFT 4.4 after a restart: a VIEW-CHANGE still carries the prepared certificates the
// replica had (the view-change safety argument counts on them).
TEST_F(Recovery, ViewChangeAfterRestartCarriesPreparedCertificates) {
  start(1);
  auto body = batch(1, examples::kv::put("a", "1"));
  deliver_pre_prepare(body);
  deliver_vote(2, wire::PREPARE, body);  // prepared; our COMMIT went out
  restart();
  // f+1 = 2 replicas ask for view 1: replica 1 joins.
  wire::ViewChange asked;
  asked.set_new_view(1);
  deliver(cluster_.message(2, wire::VIEW_CHANGE, asked));
  Actions joined = deliver(cluster_.message(3, wire::VIEW_CHANGE, asked));
  wire::Envelope envelope;
  ASSERT_NE(find_sent(joined, wire::VIEW_CHANGE, envelope), nullptr);
  wire::ViewChange sent;
  ASSERT_TRUE(sent.ParseFromString(envelope.payload()));
  ASSERT_EQ(sent.prepared_size(), 1);
  wire::PrePrepare certified;
  ASSERT_TRUE(certified.ParseFromString(sent.prepared(0).pre_prepare().payload()));
  EXPECT_EQ(certified.digest(), body.digest());
  EXPECT_EQ(sent.prepared(0).prepares_size(), 2);
}

// A replica that crashed in the middle of a view change comes back in it, with the very
// VIEW-CHANGE it sent (never a second, different one for the same view).
TEST_F(Recovery, RestartInAViewChangeKeepsItsViewChange) {
  start(2);  // not the primary of view 1, so it waits for the NEW-VIEW
  wire::ViewChange asked;
  asked.set_new_view(1);
  deliver(cluster_.message(1, wire::VIEW_CHANGE, asked));
  Actions joined = deliver(cluster_.message(3, wire::VIEW_CHANGE, asked));
  wire::Envelope first;
  ASSERT_NE(find_sent(joined, wire::VIEW_CHANGE, first), nullptr);
  restart();
  EXPECT_EQ(replica_->status().view, 1u);
  EXPECT_TRUE(replica_->status().view_changing);
  // A peer still in view 0 reports its status: we send it our view change again.
  wire::Status status;
  status.set_view(0);
  Actions answered = deliver(cluster_.message(3, wire::STATUS, status));
  wire::Envelope again;
  ASSERT_NE(find_sent(answered, wire::VIEW_CHANGE, again), nullptr);
  EXPECT_EQ(again.payload(), first.payload());
}

// PBFT 4.3 with durability: a stable checkpoint's state is saved as a snapshot that
// re-states what is still live, so the records before it can go; recovery from the
// snapshot and what followed gives the same replica.
TEST_F(Recovery, SnapshotReplacesTheLogBelowIt) {
  start(1);
  for (pbft::Seq seq = 1; seq <= 4; ++seq)
    commit(batch(seq, examples::kv::put("k" + std::to_string(seq), "v")));
  // Checkpoint at 4: two peers sign the same digest as ours, so it becomes stable.
  wire::Envelope own;
  ASSERT_FALSE(disk_.state.snapshot.has_value());
  for (const auto& record : disk_.state.records) {
    if (record.type == DurableRecord::Type::kSigned && own.ParseFromString(*record.bytes) &&
        own.kind() == wire::CHECKPOINT)
      break;
  }
  ASSERT_EQ(own.kind(), wire::CHECKPOINT);
  wire::Checkpoint checkpoint;
  ASSERT_TRUE(checkpoint.ParseFromString(own.payload()));
  deliver(cluster_.message(0, wire::CHECKPOINT, checkpoint));
  Actions stable = deliver(cluster_.message(2, wire::CHECKPOINT, checkpoint));
  ASSERT_TRUE(stable.snapshot.has_value());
  EXPECT_EQ(stable.snapshot->seq, 4u);
  commit(batch(5, examples::kv::put("k5", "v")));
  ASSERT_TRUE(disk_.state.snapshot.has_value());

  auto before = app_->entries();
  Actions recovered = restart();
  ASSERT_EQ(recovered.executed.size(), 1u);  // seq 5 only; 1-4 are in the snapshot
  EXPECT_EQ(recovered.executed[0].seq, 5u);
  EXPECT_EQ(app_->entries(), before);
  EXPECT_EQ(replica_->status().stable_seq, 4u);
}

// Records that contradict each other are an Error, not a guess: a prepared slot whose
// pre-prepare is not there cannot be rebuilt.
TEST_F(Recovery, InconsistentRecordsAreAnError) {
  start(1);
  auto body = batch(1, examples::kv::put("a", "1"));
  deliver_pre_prepare(body);
  deliver_vote(2, wire::PREPARE, body);
  std::erase_if(disk_.state.records, [](const DurableRecord& record) {
    return record.type == DurableRecord::Type::kPrePrepare;
  });
  replica_.reset();
  app_ = std::make_unique<examples::KvApplication>();
  replica_ = std::make_unique<pbft::Replica>(cluster_.setup(1, options()), *app_, ++now_);
  auto recovered = replica_->recover(disk_.state, ++now_);
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(recovered.error().message.find("pre-prepare is not durable"), std::string::npos)
      << recovered.error().message;
}

// A replica that lost its durable state abstains: it signs no PREPARE or COMMIT while
// it rejoins, even for a batch it sees prepared and committed by the others.
TEST_F(Recovery, RejoiningReplicaDoesNotVote) {
  replica_.reset();
  app_ = std::make_unique<examples::KvApplication>();
  auto setup = cluster_.setup(1, options());
  setup.rejoin = true;
  id_ = 1;
  replica_ = std::make_unique<pbft::Replica>(std::move(setup), *app_, ++now_);
  EXPECT_TRUE(replica_->status().rejoining);
  auto body = batch(1, examples::kv::put("a", "1"));
  Actions pre_prepared = deliver_pre_prepare(body);
  EXPECT_EQ(count_sent(pre_prepared, wire::PREPARE), 0u);
  EXPECT_EQ(count_records(pre_prepared, DurableRecord::Type::kRejoin), 1u)
      << "the rejoin must be durable before anything is sent";
  deliver_vote(2, wire::PREPARE, body);
  Actions prepared = deliver_vote(3, wire::PREPARE, body);
  EXPECT_EQ(count_sent(prepared, wire::COMMIT), 0u);
  deliver_vote(0, wire::COMMIT, body);
  deliver_vote(2, wire::COMMIT, body);
  Actions committed = deliver_vote(3, wire::COMMIT, body);
  EXPECT_EQ(committed.executed.size(), 1u) << "it still executes what the others commit";

  // A crash while rejoining does not end the rejoining.
  restart();
  EXPECT_TRUE(replica_->status().rejoining);
}

// The horizon: after 2f peers reported and a few status intervals, a rejoining replica
// votes again once the stable checkpoint passed its stable checkpoint then plus a window.
TEST_F(Recovery, RejoiningEndsAWindowAfterTheCheckpointItLearned) {
  replica_.reset();
  app_ = std::make_unique<examples::KvApplication>();
  auto setup = cluster_.setup(1, options());
  setup.rejoin = true;
  id_ = 1;
  replica_ = std::make_unique<pbft::Replica>(std::move(setup), *app_, ++now_);
  wire::Status status;
  deliver(cluster_.message(2, wire::STATUS, status));
  deliver(cluster_.message(3, wire::STATUS, status));
  Actions listened = tick(pbft::ReplicaOptions{}.status_interval * 3);
  bool horizon_known = false;
  for (const auto& event : listened.events)
    horizon_known |= event.type == pbft::Event::Type::kRejoinHorizon && event.value == 8;
  ASSERT_TRUE(horizon_known) << "horizon: stable 0 + window 8";

  // Commit 1..8 by the others' votes; checkpoints at 4 and 8 become stable.
  for (pbft::Seq seq = 1; seq <= 8; ++seq) {
    auto body = batch(seq, examples::kv::put("k" + std::to_string(seq), "v"));
    deliver_pre_prepare(body);
    deliver_vote(2, wire::PREPARE, body);
    deliver_vote(3, wire::PREPARE, body);
    for (pbft::ReplicaId from : {0u, 2u, 3u}) deliver_vote(from, wire::COMMIT, body);
    if (seq % 4 != 0) continue;
    wire::Envelope own;
    for (const auto& record : disk_.state.records)
      if (record.type == DurableRecord::Type::kSigned && own.ParseFromString(*record.bytes) &&
          own.kind() == wire::CHECKPOINT) {
        wire::Checkpoint checkpoint;
        ASSERT_TRUE(checkpoint.ParseFromString(own.payload()));
        if (checkpoint.seq() != seq) continue;
        deliver(cluster_.message(0, wire::CHECKPOINT, checkpoint));
        deliver(cluster_.message(2, wire::CHECKPOINT, checkpoint));
      }
  }
  EXPECT_EQ(replica_->status().stable_seq, 8u);
  tick(1);
  EXPECT_FALSE(replica_->status().rejoining);
  Actions voting = deliver_pre_prepare(batch(9, examples::kv::put("k9", "v")));
  EXPECT_EQ(count_sent(voting, wire::PREPARE), 1u);
}

}  // namespace
}  // namespace phalanx
