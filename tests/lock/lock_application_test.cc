// LockApplication as a replica runs it: the owner is the request's client key, the time is
// the batch's agreed time and nothing else (no clock is read), a malformed operation is a
// deterministic no-op, and snapshot()/restore() carry the whole service.
#include "phalanx/lock/lock_application.h"

#include <gtest/gtest.h>

namespace phalanx::lock {
namespace {

constexpr pbft::UnixMillis kStart = 1'800'000'000'000;

crypto::PublicKey key(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("lock-client", index).public_key();
}

Reply run(LockApplication& app, const Bytes& operation, std::uint64_t client,
          pbft::UnixMillis time) {
  static pbft::RequestId request_id = 0;
  pbft::RequestContext context{key(client), ++request_id, request_id, time};
  auto reply = decode_reply(app.execute(operation, context));
  EXPECT_TRUE(reply.ok()) << reply.error().message;
  return reply.ok() ? reply.value() : Reply{};
}

TEST(LockApplication, OwnerIsTheRequestingClientsKey) {
  LockApplication app;
  EXPECT_EQ(run(app, acquire("db", 100), 3, kStart).owner, key(3));
  EXPECT_EQ(run(app, release("db", 1), 4, kStart + 1).outcome, Outcome::kNotHolder);
  EXPECT_EQ(run(app, release("db", 1), 3, kStart + 2).outcome, Outcome::kReleased);
}

// The same operations at the same agreed times give the same replies, however much real
// time passes between them: a replica that executes late (catching up) decides as the
// others did.
TEST(LockApplication, ExpiryFollowsTheAgreedTimeOnly) {
  LockApplication prompt, late;
  const std::vector<std::pair<Bytes, pbft::UnixMillis>> log = {{acquire("db", 1000), kStart},
                                                               {acquire("db", 1000), kStart + 999},
                                                               {acquire("db", 1000), kStart + 1000},
                                                               {query("db"), kStart + 1001}};
  std::vector<Reply> first, second;
  for (const auto& [operation, time] : log) first.push_back(run(prompt, operation, time % 2, time));
  for (const auto& [operation, time] : log) second.push_back(run(late, operation, time % 2, time));
  EXPECT_EQ(first[1].outcome, Outcome::kHeld);
  EXPECT_EQ(first[2].outcome, Outcome::kGranted);
  EXPECT_EQ(first[2].token, 2u);
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(first[i].outcome, second[i].outcome) << i;
    EXPECT_EQ(first[i].token, second[i].token) << i;
  }
  EXPECT_EQ(prompt.snapshot(), late.snapshot());
}

TEST(LockApplication, MalformedOperationIsANoOpWithAReason) {
  LockApplication app;
  run(app, acquire("db", 100), 0, kStart);
  const Bytes before = app.snapshot();
  Reply reply = run(app, "garbage", 1, kStart + 1);
  EXPECT_EQ(reply.outcome, Outcome::kMalformed);
  EXPECT_NE(reply.detail.find("malformed operation"), std::string::npos) << reply.detail;
  EXPECT_EQ(run(app, "", 1, kStart + 2).outcome, Outcome::kMalformed);
  EXPECT_EQ(app.snapshot(), before);
}

TEST(LockApplication, WithoutBatchTimesItRefusesAndSaysWhy) {
  LockApplication app;
  Reply reply = run(app, acquire("db", 100), 0, 0);
  EXPECT_EQ(reply.outcome, Outcome::kNoTime);
  EXPECT_NE(reply.detail.find("batch_time_skew_max_ms"), std::string::npos) << reply.detail;
}

TEST(LockApplication, SnapshotRestoresTheWholeServiceIntoAFreshReplica) {
  LockApplication original;
  run(original, acquire("a", 5000), 0, kStart);
  run(original, acquire("b", 5000), 1, kStart);
  run(original, release("a", 1), 0, kStart + 1);
  LockApplication fresh;
  ASSERT_TRUE(fresh.restore(original.snapshot()).ok());
  EXPECT_EQ(fresh.snapshot(), original.snapshot());
  // The counter came along: the next grant is 3 in both, and "b" is still held by 1.
  EXPECT_EQ(run(fresh, acquire("a", 10), 2, kStart + 2).token, 3u);
  EXPECT_EQ(run(original, acquire("a", 10), 2, kStart + 2).token, 3u);
  EXPECT_EQ(run(fresh, query("b"), 2, kStart + 3).owner, key(1));
  EXPECT_FALSE(fresh.restore("not a snapshot").ok());
  EXPECT_EQ(fresh.snapshot(), original.snapshot());
}

}  // namespace
}  // namespace phalanx::lock
