// Accountability (S5, DESIGN.md): a replica that signs two conflicting messages for one
// slot is caught with both messages as proof, whether they reach a correct replica
// directly or one of them inside a certificate; repeated identical messages accuse no one.
#include <gtest/gtest.h>

#include "phalanx/examples/kv_application.h"
#include "support/test_cluster.h"

namespace phalanx {
namespace {

using pbft::Actions;
using testing::TestCluster;

class Accountability : public ::testing::Test {
 protected:
  // Replica 1 is a backup in view 0 (primary: replica 0).
  Accountability() : replica_(cluster_.setup(1), app_, 0) {}

  Actions deliver(const pbft::Message& message) { return replica_.on_message(message, ++now_); }
  wire::PrePrepare batch(std::string operation) {
    return cluster_.pre_prepare(0, 1, {cluster_.request(0, 1, std::move(operation))});
  }
  template <typename Vote>
  wire::Envelope vote(pbft::ReplicaId from, wire::Kind kind, const wire::PrePrepare& body) {
    return cluster_.sealed(from, kind, TestCluster::vote<Vote>(0, 1, body.digest()));
  }

  static bool accuses(const Actions& actions, pbft::ReplicaId replica, std::string_view what) {
    for (const auto& evidence : actions.evidence)
      if (evidence.replica == replica && evidence.what.find(what) != std::string::npos &&
          evidence.first && evidence.second && *evidence.first != *evidence.second)
        return true;
    return false;
  }

  TestCluster cluster_;
  examples::KvApplication app_;
  pbft::Replica replica_;
  pbft::Instant now_ = 0;
};

TEST_F(Accountability, TwoPreparesFromOneBackupAreEvidence) {
  auto a = batch(examples::kv::put("k", "a"));
  auto b = batch(examples::kv::put("k", "b"));
  deliver(cluster_.open(vote<wire::Prepare>(2, wire::PREPARE, a)));
  Actions second = deliver(cluster_.open(vote<wire::Prepare>(2, wire::PREPARE, b)));
  EXPECT_TRUE(accuses(second, 2, "two PREPAREs for view 0 seq 1"));
}

TEST_F(Accountability, TheSameMessageTwiceIsNoEvidence) {
  auto a = batch(examples::kv::put("k", "a"));
  deliver(cluster_.message(0, wire::PRE_PREPARE, a));
  Actions again = deliver(cluster_.message(0, wire::PRE_PREPARE, a));
  deliver(cluster_.open(vote<wire::Commit>(2, wire::COMMIT, a)));
  Actions commit_again = deliver(cluster_.open(vote<wire::Commit>(2, wire::COMMIT, a)));
  EXPECT_TRUE(again.evidence.empty());
  EXPECT_TRUE(commit_again.evidence.empty());
}

// An equivocating primary and backup: replica 1 saw the pre-prepare and backup 2's commit
// for batch a; a commit certificate for batch b (from another replica) carries the
// primary's other pre-prepare and backup 2's other commit. Both liars are caught, though
// neither sent replica 1 the second message itself.
TEST_F(Accountability, ConflictingMessagesInsideACertificateAreEvidence) {
  auto a = batch(examples::kv::put("k", "a"));
  auto b = batch(examples::kv::put("k", "b"));
  deliver(cluster_.message(0, wire::PRE_PREPARE, a));
  deliver(cluster_.open(vote<wire::Commit>(2, wire::COMMIT, a)));

  wire::CommitCertificate certificate;
  *certificate.mutable_pre_prepare() = cluster_.sealed(0, wire::PRE_PREPARE, b);
  for (pbft::ReplicaId from : {0u, 2u, 3u})
    *certificate.add_commits() = vote<wire::Commit>(from, wire::COMMIT, b);
  Actions actions = deliver(cluster_.message(3, wire::COMMIT_CERTIFICATE, certificate));
  EXPECT_TRUE(accuses(actions, 0, "two PRE_PREPAREs for view 0 seq 1"));
  EXPECT_TRUE(accuses(actions, 2, "two COMMITs for view 0 seq 1"));
  EXPECT_FALSE(accuses(actions, 3, "")) << "the messenger is not accused";
}

TEST_F(Accountability, TwoCheckpointsForOneSeqAreEvidence) {
  wire::Checkpoint first;
  first.set_seq(128);
  first.set_state_digest(crypto::blake2b("state a").bytes());
  first.set_state_size(10);
  wire::Checkpoint second = first;
  second.set_state_digest(crypto::blake2b("state b").bytes());
  deliver(cluster_.message(2, wire::CHECKPOINT, first));
  Actions actions = deliver(cluster_.message(2, wire::CHECKPOINT, second));
  EXPECT_TRUE(accuses(actions, 2, "two CHECKPOINTs for seq 128"));
}

}  // namespace
}  // namespace phalanx
