// The pure pieces the replica is built from: the Merkle tree over checkpoint state, the
// new-view plan (the paper's O set), the view-timeout policy, the client table and the
// evidence ledger.
#include <gtest/gtest.h>

#include <set>

#include "core/client_table.h"
#include "core/evidence_ledger.h"
#include "core/merkle.h"
#include "core/new_view_plan.h"
#include "core/view_timeout.h"
#include "phalanx/net/rng.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft::core {
namespace {

// --- Merkle tree -------------------------------------------------------------------------

class MerkleSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(MerkleSizes, EveryChunkVerifiesAndATamperedOneDoesNot) {
  Bytes state(GetParam(), 'x');
  for (std::size_t i = 0; i < state.size(); ++i) state[i] = static_cast<char>(i * 31 + 7);
  constexpr std::uint64_t kChunk = 64;
  MerkleTree tree(state, kChunk);
  std::uint64_t count = chunk_count(state.size(), kChunk);
  for (std::uint64_t i = 0; i < count; ++i) {
    Bytes chunk(chunk_of(state, i, kChunk));
    auto path = tree.path(i);
    EXPECT_TRUE(merkle_verify(tree.root(), state.size(), i, count, chunk, path)) << i;
    if (!chunk.empty()) {
      chunk[0] ^= 1;
      EXPECT_FALSE(merkle_verify(tree.root(), state.size(), i, count, chunk, path)) << i;
      chunk[0] ^= 1;
    }
    EXPECT_FALSE(merkle_verify(tree.root(), state.size() + 1, i, count, chunk, path))
        << "root must bind the state size";
    if (count > 1) {
      EXPECT_FALSE(merkle_verify(tree.root(), state.size(), (i + 1) % count, count, chunk, path));
    }
  }
}
INSTANTIATE_TEST_SUITE_P(Sizes, MerkleSizes, ::testing::Values(0, 1, 63, 64, 65, 200, 1000));

// --- new-view plan (PBFT 4.4) -----------------------------------------------------------

wire::Envelope envelope_of(const wire::PrePrepare& pre_prepare) {
  wire::Envelope envelope;
  envelope.set_kind(wire::PRE_PREPARE);
  envelope.set_payload(encode(pre_prepare));
  return envelope;
}

wire::PreparedCertificate certificate(View view, Seq seq, const std::string& operation) {
  wire::PrePrepare pre_prepare;
  pre_prepare.set_view(view);
  pre_prepare.set_seq(seq);
  auto* request = pre_prepare.add_requests();
  request->set_kind(wire::REQUEST);
  request->set_payload(operation);
  pre_prepare.set_digest(batch_digest(pre_prepare).bytes());
  wire::PreparedCertificate certificate;
  *certificate.mutable_pre_prepare() = envelope_of(pre_prepare);
  return certificate;
}

crypto::Digest digest_of(const wire::PreparedCertificate& certificate) {
  wire::PrePrepare pre_prepare;
  pre_prepare.ParseFromString(certificate.pre_prepare().payload());
  return *crypto::Digest::from_bytes(pre_prepare.digest());
}

TEST(NewViewPlan, HighestViewCertificateWinsAndGapsGetNullBatches) {
  wire::ViewChange a, b, c;
  a.set_stable_seq(0);
  *a.add_prepared() = certificate(0, 1, "old");
  *a.add_prepared() = certificate(0, 3, "three");
  b.set_stable_seq(0);
  *b.add_prepared() = certificate(1, 1, "newer");
  c.set_stable_seq(0);
  NewViewPlan plan = plan_new_view({&a, &b, &c}, 100);
  ASSERT_EQ(plan.reproposals.size(), 3u);
  EXPECT_EQ(plan.reproposals[0].digest, digest_of(b.prepared(0)));
  google::protobuf::RepeatedPtrField<wire::Envelope> none;
  EXPECT_EQ(plan.reproposals[1].digest, batch_digest(0, none)) << "gap at 2 needs a null batch";
  EXPECT_EQ(plan.reproposals[2].digest, digest_of(a.prepared(1)));
}

TEST(NewViewPlan, StartsAboveTheLatestStableCheckpointAndStopsAtTheWindow) {
  wire::ViewChange a, b, c;
  a.set_stable_seq(0);
  *a.add_prepared() = certificate(0, 3, "below the checkpoint");
  *a.add_prepared() = certificate(0, 5, "kept");
  b.set_stable_seq(4);
  c.set_stable_seq(0);
  *c.add_prepared() = certificate(0, 4 + 8 + 1, "beyond the window");
  NewViewPlan plan = plan_new_view({&a, &b, &c}, 8);
  EXPECT_EQ(plan.min_s, 4u);
  EXPECT_EQ(plan.checkpoint_source, &b);
  ASSERT_EQ(plan.reproposals.size(), 1u);
  EXPECT_EQ(plan.reproposals[0].seq, 5u);
}

TEST(NewViewPlan, MatchesOnlyTheExactReproposals) {
  wire::ViewChange a;
  *a.add_prepared() = certificate(0, 1, "one");
  NewViewPlan plan = plan_new_view({&a}, 100);
  wire::PrePrepare proposal;
  proposal.set_view(1);
  proposal.set_seq(1);
  proposal.set_digest(plan.reproposals[0].digest.bytes());
  google::protobuf::RepeatedPtrField<wire::Envelope> proposals;
  *proposals.Add() = envelope_of(proposal);
  EXPECT_TRUE(matches_plan(plan, proposals));

  proposal.set_digest(crypto::blake2b("something else").bytes());
  proposals[0] = envelope_of(proposal);
  EXPECT_FALSE(matches_plan(plan, proposals)) << "a re-proposal with another digest";
  proposals.Clear();
  EXPECT_FALSE(matches_plan(plan, proposals)) << "an omitted re-proposal";
}

// --- view timeout policy (PBFT 4.5.2 plus adaptation) -----------------------------------

TEST(ViewTimeoutPolicy, FollowsLatencyWithinFloorAndCeiling) {
  ReplicaOptions options;
  options.view_timeout_floor = 100 * kMillisecond;
  options.view_timeout_ceiling = 2 * kSecond;
  ViewTimeoutPolicy policy(options);
  for (int i = 0; i < 50; ++i) policy.observe_commit_latency(1 * kMillisecond);
  EXPECT_EQ(policy.request_timeout(), 100 * kMillisecond) << "fast network: the floor";
  for (int i = 0; i < 50; ++i) policy.observe_commit_latency(100 * kMillisecond);
  EXPECT_GT(policy.request_timeout(), 300 * kMillisecond) << "slow network: a longer wait";
  EXPECT_LE(policy.request_timeout(), 2 * kSecond);
  for (int i = 0; i < 50; ++i) policy.observe_commit_latency(100 * kSecond);
  EXPECT_EQ(policy.request_timeout(), 2 * kSecond) << "the ceiling";
}

TEST(ViewTimeoutPolicy, DoublesWhileViewsFailAndResetsOnProgress) {
  ReplicaOptions options;
  ViewTimeoutPolicy policy(options);
  Instant base = policy.request_timeout();
  policy.on_view_failed();
  EXPECT_EQ(policy.view_change_timeout(), 2 * base);
  policy.on_view_failed();
  EXPECT_EQ(policy.view_change_timeout(), 4 * base);
  policy.on_progress();
  EXPECT_EQ(policy.view_change_timeout(), base);
}

// --- client table (PBFT 4.1 exactly-once) ----------------------------------------------

crypto::PublicKey key(std::uint8_t tag) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = tag;
  return crypto::PublicKey(bytes);
}

TEST(ClientTable, SerializationIsDeterministicAndRestores) {
  ClientTable first(10), second(10);
  first.record(key(2), 5, 10, "b");
  first.record(key(1), 3, 11, "a");
  second.record(key(1), 3, 11, "a");
  second.record(key(2), 5, 10, "b");
  EXPECT_EQ(first.serialize(), second.serialize()) << "insertion order must not matter";
  ClientTable restored(10);
  ASSERT_TRUE(restored.restore(first.serialize()).ok());
  EXPECT_EQ(restored.serialize(), first.serialize());
  EXPECT_FALSE(restored.restore("\x01").ok());
}

TEST(ClientTable, EvictsTheClientThatExecutedEarliestBeyondCapacity) {
  ClientTable table(2);
  table.record(key(1), 1, 5, "");
  table.record(key(2), 1, 3, "");
  table.record(key(3), 1, 9, "");
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find(key(2)), nullptr);
  EXPECT_NE(table.find(key(1)), nullptr);
}

// --- Evidence ledger ---------------------------------------------------------------------

struct LedgerSlot {
  ReplicaId signer;
  wire::Kind kind;
  View view;
  Seq seq;
  auto operator<=>(const LedgerSlot&) const = default;
};

EnvelopePtr signed_by(ReplicaId signer, wire::Kind kind) {
  auto envelope = std::make_shared<wire::Envelope>();
  envelope->set_sender(signer);
  envelope->set_kind(kind);
  return envelope;
}

// What forget_below promises, one slot at a time: slots at or below the stable checkpoint
// go, view changes and new views below the floor go, anything of a view long past goes.
bool outlives(const LedgerSlot& slot, Seq stable, View view_floor) {
  if (slot.kind == wire::VIEW_CHANGE || slot.kind == wire::NEW_VIEW) return slot.view >= view_floor;
  return slot.seq > stable && slot.view + 4 >= view_floor;
}

TEST(EvidenceLedger, ForgetsExactlyTheSlotsBelowTheCheckpointAndTheViewFloor) {
  const wire::Kind kinds[] = {wire::PRE_PREPARE, wire::PREPARE,     wire::COMMIT,
                              wire::CHECKPOINT,  wire::VIEW_CHANGE, wire::NEW_VIEW};
  const crypto::Digest first = crypto::blake2b("first"), second = crypto::blake2b("second");
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    net::Rng rng(seed);
    EvidenceLedger ledger(1 << 20);
    std::set<LedgerSlot> slots;
    for (int i = 0; i < 300; ++i) {
      LedgerSlot slot{static_cast<ReplicaId>(rng.uniform(0, 3)), kinds[rng.uniform(0, 5)],
                      rng.uniform(0, 12), rng.uniform(0, 40)};
      if (slots.insert(slot).second)
        ledger.observe(signed_by(slot.signer, slot.kind), slot.view, slot.seq, first);
    }
    Seq stable = rng.uniform(0, 45);
    View view_floor = rng.uniform(0, 14);
    ledger.forget_below(stable, view_floor);

    std::size_t kept = 0;
    for (const LedgerSlot& slot : slots) kept += outlives(slot, stable, view_floor);
    ASSERT_EQ(ledger.size(), kept) << "seed " << seed;
    // A slot still held proves an equivocation; a forgotten one starts afresh.
    for (const LedgerSlot& slot : slots) {
      bool proves = ledger.observe(signed_by(slot.signer, slot.kind), slot.view, slot.seq, second)
                        .has_value();
      ASSERT_EQ(proves, outlives(slot, stable, view_floor))
          << "seed " << seed << " signer " << slot.signer << " " << wire::Kind_Name(slot.kind)
          << " view " << slot.view << " seq " << slot.seq << " after forget_below(" << stable
          << ", " << view_floor << ")";
    }
  }
}

}  // namespace
}  // namespace phalanx::pbft::core
