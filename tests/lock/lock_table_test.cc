// The rules of the lock service (examples/lock/include/phalanx/lock/lock_table.h), one
// test per rule: grants, refusals while held, leases that end by agreed time only,
// releases and renewals by the holder only, one increasing token counter, the limit on
// locks, and snapshots that carry the whole table.
#include "phalanx/lock/lock_table.h"

#include <gtest/gtest.h>

#include <limits>

namespace phalanx::lock {
namespace {

constexpr pbft::UnixMillis kStart = 1'800'000'000'000;  // any agreed time

crypto::PublicKey key(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("lock-client", index).public_key();
}

class LockTableTest : public ::testing::Test {
 protected:
  const crypto::PublicKey alice = key(0);
  const crypto::PublicKey bob = key(1);
  LockTable table;
};

TEST_F(LockTableTest, AcquireOfAFreeLockGrantsTheFirstTokenAndALeaseFromNow) {
  Reply reply = table.apply(Acquire{"db", 500}, alice, kStart);
  EXPECT_EQ(reply.outcome, Outcome::kGranted);
  EXPECT_EQ(reply.token, 1u);
  EXPECT_EQ(reply.until_ms, kStart + 500);
  EXPECT_EQ(reply.owner, alice);
  EXPECT_EQ(table.last_token(), 1u);
}

TEST_F(LockTableTest, HeldLockIsRefusedWithItsHolderEvenToTheHolder) {
  table.apply(Acquire{"db", 500}, alice, kStart);
  Reply to_bob = table.apply(Acquire{"db", 500}, bob, kStart + 10);
  EXPECT_EQ(to_bob.outcome, Outcome::kHeld);
  EXPECT_EQ(to_bob.owner, alice);
  EXPECT_EQ(to_bob.token, 1u);
  EXPECT_EQ(to_bob.until_ms, kStart + 500);
  EXPECT_EQ(table.apply(Acquire{"db", 500}, alice, kStart + 20).outcome, Outcome::kHeld);
  EXPECT_EQ(table.last_token(), 1u) << "a refusal takes no token";
}

TEST_F(LockTableTest, LeaseHoldsUntilTheAgreedTimeReachesItsEnd) {
  table.apply(Acquire{"db", 500}, alice, kStart);
  EXPECT_EQ(table.apply(Acquire{"db", 500}, bob, kStart + 499).outcome, Outcome::kHeld);
  Reply reply = table.apply(Acquire{"db", 500}, bob, kStart + 500);
  EXPECT_EQ(reply.outcome, Outcome::kGranted) << "the lease is [granted, until_ms)";
  EXPECT_EQ(reply.owner, bob);
}

TEST_F(LockTableTest, EndedLeaseIsForgottenByAnyOperationAtALaterTime) {
  table.apply(Acquire{"a", 100}, alice, kStart);
  table.apply(Acquire{"b", 1000}, alice, kStart);
  EXPECT_EQ(table.leases().size(), 2u);
  table.apply(Query{"other"}, bob, kStart + 100);
  EXPECT_EQ(table.leases().size(), 1u);
  EXPECT_EQ(table.leases().count("b"), 1u);
}

TEST_F(LockTableTest, QueryTellsHolderTokenAndEndOrFree) {
  EXPECT_EQ(table.apply(Query{"db"}, bob, kStart).outcome, Outcome::kFree);
  table.apply(Acquire{"db", 500}, alice, kStart);
  Reply held = table.apply(Query{"db"}, bob, kStart + 1);
  EXPECT_EQ(held.outcome, Outcome::kHeld);
  EXPECT_EQ(held.owner, alice);
  EXPECT_EQ(held.token, 1u);
  EXPECT_EQ(table.apply(Query{"db"}, bob, kStart + 500).outcome, Outcome::kFree);
}

TEST_F(LockTableTest, ReleaseByTheHolderFreesTheLock) {
  table.apply(Acquire{"db", 500}, alice, kStart);
  Reply reply = table.apply(Release{"db", 1}, alice, kStart + 1);
  EXPECT_EQ(reply.outcome, Outcome::kReleased);
  EXPECT_EQ(reply.token, 1u);
  EXPECT_EQ(table.apply(Query{"db"}, bob, kStart + 2).outcome, Outcome::kFree);
}

TEST_F(LockTableTest, ReleaseByANonHolderIsRefusedAndChangesNothing) {
  table.apply(Acquire{"db", 500}, alice, kStart);
  Reply reply = table.apply(Release{"db", 1}, bob, kStart + 1);
  EXPECT_EQ(reply.outcome, Outcome::kNotHolder);
  EXPECT_EQ(reply.owner, alice);
  EXPECT_EQ(table.apply(Query{"db"}, bob, kStart + 2).owner, alice);
}

TEST_F(LockTableTest, ReleaseWithAStaleTokenIsRefused) {
  table.apply(Acquire{"db", 100}, alice, kStart);
  table.apply(Acquire{"db", 100}, alice, kStart + 100);  // lost it, took it again: token 2
  Reply reply = table.apply(Release{"db", 1}, alice, kStart + 150);
  EXPECT_EQ(reply.outcome, Outcome::kStaleToken);
  EXPECT_EQ(reply.token, 2u);
  EXPECT_EQ(table.apply(Query{"db"}, bob, kStart + 151).outcome, Outcome::kHeld);
}

TEST_F(LockTableTest, ReleaseOrRenewOfAnEndedLeaseIsRefusedAsNotHeld) {
  table.apply(Acquire{"db", 100}, alice, kStart);
  EXPECT_EQ(table.apply(Renew{"db", 1, 100}, alice, kStart + 100).outcome, Outcome::kNotHeld);
  EXPECT_EQ(table.apply(Release{"db", 1}, alice, kStart + 100).outcome, Outcome::kNotHeld);
  EXPECT_EQ(table.apply(Release{"never", 1}, alice, kStart + 100).outcome, Outcome::kNotHeld);
}

TEST_F(LockTableTest, RenewByTheHolderMovesTheEndAndKeepsTheToken) {
  table.apply(Acquire{"db", 100}, alice, kStart);
  Reply reply = table.apply(Renew{"db", 1, 300}, alice, kStart + 90);
  EXPECT_EQ(reply.outcome, Outcome::kRenewed);
  EXPECT_EQ(reply.token, 1u);
  EXPECT_EQ(reply.until_ms, kStart + 390);
  EXPECT_EQ(table.apply(Acquire{"db", 100}, bob, kStart + 389).outcome, Outcome::kHeld);
  EXPECT_EQ(table.apply(Acquire{"db", 100}, bob, kStart + 390).token, 2u);
}

TEST_F(LockTableTest, RenewByANonHolderIsRefused) {
  table.apply(Acquire{"db", 100}, alice, kStart);
  EXPECT_EQ(table.apply(Renew{"db", 1, 1000}, bob, kStart + 1).outcome, Outcome::kNotHolder);
  EXPECT_EQ(table.leases().at("db").until_ms, kStart + 100);
}

TEST_F(LockTableTest, TokenIncreasesWithEveryGrantAcrossLocksAndIsNeverReused) {
  Token last = 0;
  for (int round = 0; round < 3; ++round) {
    for (const char* name : {"a", "b", "c"}) {
      pbft::UnixMillis now = kStart + static_cast<pbft::UnixMillis>(round) * 100;
      Reply reply = table.apply(Acquire{name, 50}, round % 2 ? alice : bob, now);
      ASSERT_EQ(reply.outcome, Outcome::kGranted);
      EXPECT_EQ(reply.token, last + 1);
      last = reply.token;
      if (round == 1) table.apply(Release{name, reply.token}, alice, now);
    }
  }
  EXPECT_EQ(table.last_token(), 9u);
}

TEST_F(LockTableTest, AtMostKLocksMaxAreHeldAndAnEndedOneMakesRoom) {
  for (std::size_t i = 0; i < kLocksMax; ++i) {
    const std::uint64_t lease_ms = i == 0 ? 10 : 1000;  // the first ends early
    ASSERT_EQ(table.apply(Acquire{"lock-" + std::to_string(i), lease_ms}, alice, kStart).outcome,
              Outcome::kGranted);
  }
  Reply refused = table.apply(Acquire{"one-more", 1000}, bob, kStart + 1);
  EXPECT_EQ(refused.outcome, Outcome::kTooManyLocks);
  EXPECT_NE(refused.detail.find(std::to_string(kLocksMax)), std::string::npos) << refused.detail;
  EXPECT_EQ(table.apply(Acquire{"one-more", 1000}, bob, kStart + 10).outcome, Outcome::kGranted);
}

TEST_F(LockTableTest, WithoutBatchTimesEveryOperationIsRefused) {
  EXPECT_EQ(table.apply(Acquire{"db", 100}, alice, 0).outcome, Outcome::kNoTime);
  EXPECT_EQ(table.apply(Query{"db"}, alice, 0).outcome, Outcome::kNoTime);
  EXPECT_EQ(table.last_token(), 0u);
}

TEST_F(LockTableTest, OperationOutOfTheLimitsIsRefusedAsMalformed) {
  EXPECT_EQ(table.apply(Acquire{std::string(kNameBytesMax + 1, 'n'), 100}, alice, kStart).outcome,
            Outcome::kMalformed);
  EXPECT_EQ(table.apply(Acquire{"db", 0}, alice, kStart).outcome, Outcome::kMalformed);
  EXPECT_EQ(table.last_token(), 0u);
}

TEST_F(LockTableTest, LeaseNearTheEndOfTimeDoesNotWrapRound) {
  const pbft::UnixMillis late = std::numeric_limits<pbft::UnixMillis>::max() - 5;
  Reply reply = table.apply(Acquire{"db", 100}, alice, late);
  EXPECT_EQ(reply.until_ms, std::numeric_limits<pbft::UnixMillis>::max());
  EXPECT_EQ(table.apply(Acquire{"db", 100}, bob, late + 1).outcome, Outcome::kHeld);
}

// --- snapshots ---

LockTable busy_table() {
  LockTable table;
  table.apply(Acquire{"a", 100}, key(0), kStart);
  table.apply(Acquire{"b", 5000}, key(1), kStart);
  table.apply(Acquire{"c", 5000}, key(2), kStart);
  table.apply(Release{"c", 3}, key(2), kStart + 1);
  table.apply(Renew{"b", 2, 9000}, key(1), kStart + 2);
  return table;  // "a" (ended at kStart + 100, not yet forgotten) and "b"; last token 3
}

TEST(LockTableSnapshot, RoundTripKeepsTokensHoldersAndEnds) {
  LockTable original = busy_table();
  LockTable copy;
  ASSERT_TRUE(copy.restore(original.snapshot()).ok());
  EXPECT_EQ(copy.snapshot(), original.snapshot());
  EXPECT_EQ(copy.leases(), original.leases());
  EXPECT_EQ(copy.last_token(), 3u);
  // Both go on alike: the expiry index came back too.
  for (LockTable* table : {&original, &copy}) {
    EXPECT_EQ(table->apply(Acquire{"a", 10}, key(3), kStart + 100).token, 4u);
    EXPECT_EQ(table->apply(Acquire{"b", 10}, key(3), kStart + 100).outcome, Outcome::kHeld);
    EXPECT_EQ(table->apply(Acquire{"b", 10}, key(3), kStart + 9002).token, 5u);
  }
  EXPECT_EQ(copy.snapshot(), original.snapshot());
}

TEST(LockTableSnapshot, EqualTablesGiveEqualBytes) {
  EXPECT_EQ(busy_table().snapshot(), busy_table().snapshot());
  EXPECT_EQ(LockTable().snapshot(), LockTable().snapshot());
}

TEST(LockTableSnapshot, MalformedSnapshotsAreRefusedAndLeaveTheTableAlone) {
  const Bytes good = busy_table().snapshot();
  auto with_byte = [&](std::size_t at, char value) {
    Bytes bytes = good;
    bytes[at] = value;
    return bytes;
  };
  const std::size_t first_name_at = 4 + 8 + 4 + 4;  // version, last token, count, length
  const std::size_t first_token_at = first_name_at + 1 + 32;
  const std::vector<std::pair<std::string, Bytes>> bad = {
      {"empty", ""},
      {"truncated", good.substr(0, good.size() - 1)},
      {"trailing", good + "x"},
      {"version", with_byte(0, 9)},
      {"last token below a lease's", with_byte(4, 1)},
      {"a lease with token 0", with_byte(first_token_at, 0)},
      {"two leases with one token", with_byte(first_token_at, 2)},
      {"names out of order", with_byte(first_name_at, 'z')},
  };
  for (const auto& [what, bytes] : bad) {
    LockTable table = busy_table();
    auto restored = table.restore(bytes);
    EXPECT_FALSE(restored.ok()) << what;
    EXPECT_EQ(table.snapshot(), good) << what << ": the table changed";
  }
}

}  // namespace
}  // namespace phalanx::lock
