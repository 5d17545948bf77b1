// The property checker can fail: each fabricated history breaks one promise of DESIGN.md
// and the checker names that property; a clean history passes.
#include "phalanx/adversary/checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace phalanx::adversary {
namespace {

crypto::PublicKey client_key(std::uint8_t index) {
  std::array<std::uint8_t, crypto::PublicKey::kSize> bytes{};
  bytes[0] = index;
  return crypto::PublicKey(bytes);
}

crypto::Digest payload_of(std::uint8_t client, pbft::RequestId request_id) {
  return crypto::blake2b("op-" + std::to_string(client) + "-" + std::to_string(request_id));
}

RequestRecord request(std::uint8_t client, pbft::RequestId request_id, bool duplicate = false) {
  return RequestRecord{client_key(client), request_id, payload_of(client, request_id), duplicate};
}

HistoryStep batch(pbft::Seq seq, std::vector<RequestRecord> requests) {
  crypto::Hasher hasher;
  hasher.update_u64(seq);
  for (const auto& entry : requests) hasher.update(entry.payload_digest.view());
  return HistoryStep{HistoryStep::Kind::kExecuted, seq, hasher.finish(), std::move(requests)};
}

// Four replicas that all executed seqs 1..3 (two clients, three requests each), and the
// clients that submitted and accepted them.
History clean_history() {
  History history(4);
  std::vector<HistoryStep> steps = {
      batch(1, {request(1, 1), request(2, 1)}),
      batch(2, {request(1, 2), request(2, 2)}),
      batch(3, {request(1, 3), request(2, 3), request(2, 2, /*duplicate=*/true)}),
  };
  for (pbft::ReplicaId replica = 0; replica < 4; ++replica) {
    for (const auto& step : steps) history.record_executed(replica, step);
  }
  for (std::uint8_t client = 1; client <= 2; ++client) {
    for (pbft::RequestId id = 1; id <= 3; ++id) {
      history.record_submitted(client_key(client), id, payload_of(client, id));
      history.record_accepted(client_key(client), id, "+ok");
    }
  }
  return history;
}

bool reports(const std::vector<Violation>& violations, Property property,
             const std::string& fragment = "") {
  for (const auto& violation : violations) {
    if (violation.property == property && violation.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string all(const std::vector<Violation>& violations) {
  std::string text;
  for (const auto& violation : violations) text += to_string(violation) + "\n";
  return text;
}

TEST(Checker, CleanHistoryPasses) {
  auto violations = check(clean_history());
  EXPECT_TRUE(violations.empty()) << all(violations);
}

TEST(Checker, LaggingReplicaIsAPrefixAndPasses) {
  History history(2);
  history.record_executed(0, batch(1, {}));
  history.record_executed(0, batch(2, {}));
  history.record_executed(1, batch(1, {}));
  EXPECT_TRUE(check(history).empty());
}

TEST(Checker, S1DivergingHistoriesAreReported) {
  History history = clean_history();
  history.record_executed(0, batch(4, {request(1, 4)}));
  history.record_executed(2, batch(4, {request(2, 4)}));
  history.record_submitted(client_key(1), 4, payload_of(1, 4));
  history.record_submitted(client_key(2), 4, payload_of(2, 4));
  auto violations = check(history, {.completion = false});
  ASSERT_TRUE(reports(violations, Property::kAgreement, "replica 0 and replica 2"))
      << all(violations);
  EXPECT_TRUE(reports(violations, Property::kAgreement, "seq 4"));
  EXPECT_EQ(violations.size(), 1u) << all(violations);
}

TEST(Checker, S1SameDigestWithDifferentDuplicateFlagIsReported) {
  History history = clean_history();
  HistoryStep step = batch(4, {request(1, 3)});
  history.record_executed(1, step);
  step.requests[0].duplicate = true;
  history.record_executed(3, step);
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kAgreement, "same batch digest")) << all(violations);
}

TEST(Checker, S1IgnoresFaultyReplicas) {
  History history = clean_history();
  history.record_executed(3, batch(4, {}));
  history.record_executed(0, batch(4, {request(1, 1, /*duplicate=*/true)}));
  history.mark_faulty(3);
  EXPECT_TRUE(check(history).empty());
}

// A correct replica's safety alarm (a new view that drops a batch it committed, or a
// state 2f+1 others certified differently) is S1, before any divergence shows; a faulty
// replica's is not.
TEST(Checker, S1SafetyAlarmOfACorrectReplicaIsReported) {
  History history = clean_history();
  history.record_alarm(1, "seq 3: the new view does not re-propose the batch committed here");
  history.record_alarm(2, "seq 5: own state digest differs from the certified one");
  history.mark_faulty(2);
  auto violations = check(history);
  ASSERT_TRUE(reports(violations, Property::kAgreement, "replica 1 seq 3")) << all(violations);
  EXPECT_EQ(violations.size(), 1u) << all(violations);
}

TEST(Checker, S2GapIsReported) {
  History history = clean_history();
  history.record_executed(1, batch(5, {}));
  auto violations = check(history);
  ASSERT_TRUE(reports(violations, Property::kTotalOrder, "replica 1 executed seq 5 after seq 3"))
      << all(violations);
  EXPECT_TRUE(reports(violations, Property::kTotalOrder, "gap"));
}

TEST(Checker, S2RepeatIsReported) {
  History history = clean_history();
  history.record_executed(2, batch(3, {}));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kTotalOrder, "repeat")) << all(violations);
}

TEST(Checker, S2StateTransferJumpIsAllowed) {
  History history = clean_history();
  history.record_executed(0, batch(4, {}));
  history.record_executed(0, batch(5, {}));
  history.record_executed(0, batch(6, {}));
  history.record_state_transfer(1, 5);
  history.record_executed(1, batch(6, {}));
  auto violations = check(history);
  EXPECT_TRUE(violations.empty()) << all(violations);
}

TEST(Checker, S2StateTransferRollbackIsReported) {
  History history = clean_history();
  history.record_state_transfer(1, 2);
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kTotalOrder, "rollback")) << all(violations);
}

TEST(Checker, S3DuplicatedExecutionIsReported) {
  History history = clean_history();
  history.record_executed(3, batch(4, {request(1, 2)}));
  auto violations = check(history);
  ASSERT_TRUE(reports(violations, Property::kExactlyOnce, "replica 3")) << all(violations);
  EXPECT_TRUE(reports(violations, Property::kExactlyOnce, "at seq 2 and at seq 4"));
}

TEST(Checker, S3ExecutedRequestNobodySubmittedIsReported) {
  History history = clean_history();
  history.record_executed(0, batch(4, {request(9, 1)}));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kValidity, "no correct client submitted"))
      << all(violations);
}

TEST(Checker, S3ExecutedPayloadDiffersFromSubmittedIsReported) {
  History history = clean_history();
  RequestRecord forged = request(1, 4);
  forged.payload_digest = crypto::blake2b("forged");
  history.record_submitted(client_key(1), 4, payload_of(1, 4));
  history.record_accepted(client_key(1), 4, "+ok");
  history.record_executed(0, batch(4, {forged}));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kValidity, "but the client submitted"))
      << all(violations);
}

TEST(Checker, S5AccusedCorrectReplicaIsReported) {
  History history = clean_history();
  history.record_accusation(2, "two pre-prepares for view 0 seq 1");
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kAccountability, "replica 2")) << all(violations);
  history.mark_faulty(2);
  EXPECT_TRUE(check(history).empty());
}

TEST(Checker, IncompleteRequestIsReported) {
  History history = clean_history();
  history.record_submitted(client_key(2), 4, payload_of(2, 4));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kCompletion, "request 4")) << all(violations);
  EXPECT_TRUE(check(history, {.completion = false}).empty());
}

// A restart from a snapshot at seq 1 re-executes 2 and 3 as before: order and
// exactly-once hold, and the re-executions are held to agreement.
TEST(Checker, RestartFromASnapshotReexecutesAndPasses) {
  History history = clean_history();
  history.record_crash(1);
  history.record_restart(1, 1);
  history.record_executed(1, batch(2, {request(1, 2), request(2, 2)}));
  history.record_executed(1, batch(3, {request(1, 3), request(2, 3), request(2, 2, true)}));
  auto violations = check(history);
  EXPECT_TRUE(violations.empty()) << all(violations);
}

TEST(Checker, S1RestartedReplicaThatExecutesAnotherBatchIsReported) {
  History history = clean_history();
  history.record_crash(1);
  history.record_restart(1, 1);
  history.record_executed(1, batch(2, {request(1, 2)}));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kAgreement, "seq 2")) << all(violations);
}

TEST(Checker, S2RestartedReplicaThatSkipsASeqIsReported) {
  History history = clean_history();
  history.record_crash(1);
  history.record_restart(1, 1);
  history.record_executed(1, batch(3, {request(1, 3), request(2, 3), request(2, 2, true)}));
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kTotalOrder, "a gap")) << all(violations);
}

// S4: every correct replica came back below the seq of an accepted result and the
// cluster went no further: the result is lost.
TEST(Checker, S4AcceptedResultNoReplicaHoldsIsReported) {
  History history = clean_history();
  for (pbft::ReplicaId replica = 0; replica < 4; ++replica) {
    history.record_crash(replica);
    history.record_restart(replica, 1);
  }
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kDurability, "accepted at seq 2")) << all(violations);
  EXPECT_TRUE(check(history, {.durability = false}).empty());
}

TEST(Checker, S4AcceptedResultOnlyDownReplicasHeldIsReported) {
  History history = clean_history();
  for (pbft::ReplicaId replica = 0; replica < 4; ++replica) history.record_crash(replica);
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kDurability, "no correct replica that is up"))
      << all(violations);
}

TEST(Checker, S4AcceptedResultNobodyExecutedIsReported) {
  History history = clean_history();
  history.record_submitted(client_key(3), 1, payload_of(3, 1));
  history.record_accepted(client_key(3), 1, "+ok");
  auto violations = check(history);
  EXPECT_TRUE(reports(violations, Property::kDurability, "no correct replica executed it"))
      << all(violations);
}

// S5: a correct replica that signs two different messages for one slot (what a replica
// that forgot what it signed would do after a restart) is reported, whoever noticed.
TEST(Checker, S5CorrectReplicaSigningTwoPreparesForOneSlotIsReported) {
  History history = clean_history();
  history.record_signed(3, SignedMessage{wire::PREPARE, 0, 7, crypto::blake2b("batch a")});
  history.record_signed(3, SignedMessage{wire::PREPARE, 0, 7, crypto::blake2b("batch a")});
  history.record_signed(3, SignedMessage{wire::PREPARE, 1, 7, crypto::blake2b("batch b")});
  EXPECT_TRUE(check(history).empty()) << "the same message twice, or another view, is no conflict";
  history.record_signed(3, SignedMessage{wire::PREPARE, 0, 7, crypto::blake2b("batch b")});
  auto violations = check(history);
  EXPECT_TRUE(
      reports(violations, Property::kAccountability, "replica 3 signed two different PREPARE"))
      << all(violations);
  history.mark_faulty(3);
  EXPECT_TRUE(check(history).empty());
}

TEST(Checker, ViolationsAreBounded) {
  History history(2);
  for (pbft::Seq seq = 1; seq <= 1000; ++seq) {
    history.record_executed(0, batch(seq, {}));
    history.record_executed(1, batch(seq, {request(1, seq)}));
  }
  EXPECT_EQ(check(history).size(), kViolationsMax);
}

}  // namespace
}  // namespace phalanx::adversary
