// The cost model's least work per request (cost_model.h), worked out by hand for n = 4.
#include "cost_model.h"

#include <gtest/gtest.h>

namespace phalanx::bench {
namespace {

TEST(CostModel, OneRequestPerBatchOfFourReplicas) {
  WorkPerRequest work = least_work(4, 1, 0);
  // Signs: client 1, replies 4, pre-prepare 1, prepares 3, commits 4.
  EXPECT_DOUBLE_EQ(work.signs, 13);
  // Checks: the request at 4 replicas, f+1 = 2 replies at the client, the pre-prepare at
  // 3 backups, 3 prepares at 3 replicas each, 4 commits at 3 replicas each.
  EXPECT_DOUBLE_EQ(work.verifies, 4 + 2 + 3 + 9 + 12);
  EXPECT_DOUBLE_EQ(work.messages, 8 + 3 + 9 + 12);
}

TEST(CostModel, BatchingSpreadsTheAgreementOverTheBatch) {
  WorkPerRequest one = least_work(4, 1, 0);
  WorkPerRequest many = least_work(4, 64, 0);
  EXPECT_DOUBLE_EQ(many.signs, 5 + 8.0 / 64);
  EXPECT_DOUBLE_EQ(many.verifies, 6 + 24.0 / 64);
  EXPECT_LT(many.messages, one.messages);
}

TEST(CostModel, MacClientsTradeThePerRequestSignaturesForMacs) {
  WorkPerRequest work = least_work(4, 64, 0, true);
  // Only the agreement's signatures are left, spread over the batch.
  EXPECT_DOUBLE_EQ(work.signs, 8.0 / 64);
  EXPECT_DOUBLE_EQ(work.verifies, 24.0 / 64);
  // The client MACs for 4 replicas, each checks its entry and MACs its reply, the client
  // checks f+1 = 2 replies.
  EXPECT_DOUBLE_EQ(work.macs, 4 + 4 + 4 + 2);
  EXPECT_DOUBLE_EQ(work.messages, least_work(4, 64, 0).messages);
  WorkPerRequest alone = least_work(0, 64, 0, true);
  EXPECT_DOUBLE_EQ(alone.signs + alone.verifies, 0);
  EXPECT_DOUBLE_EQ(alone.macs, 2);
}

TEST(CostModel, UnreplicatedIsOneSignatureEachWay) {
  WorkPerRequest work = least_work(0, 64, 100);
  EXPECT_DOUBLE_EQ(work.signs, 2);
  EXPECT_DOUBLE_EQ(work.verifies, 2);
  EXPECT_DOUBLE_EQ(work.messages, 2);
  EXPECT_DOUBLE_EQ(work.hashed_bytes, 200);
}

TEST(CostModel, CeilingIsEveryCoreBusyWithTheWork) {
  MachineCosts costs;
  costs.cores = 2;
  costs.sign_us = 20;
  costs.verify_us = 50;
  costs.zmq_message_cpu_us = 2;
  costs.blake2b_ns_per_byte = 1;
  WorkPerRequest work{1, 2, 3, 1000};
  EXPECT_DOUBLE_EQ(cpu_us(work, costs), 20 + 100 + 6 + 1);
  EXPECT_DOUBLE_EQ(ceiling_per_second(work, costs), 2e6 / 127);
}

// Timed before and after a run, each figure is the faster of the two, so the ceiling is
// the higher one the machine showed.
TEST(CostModel, TheCeilingUsesTheFasterOfTwoTimings) {
  MachineCosts before;
  before.cores = 2;
  before.sign_us = 16;
  before.verify_us = 53;
  before.blake2b_ns_per_byte = 1.5;
  before.zmq_round_trip_us = 100;
  before.zmq_message_cpu_us = 3;
  MachineCosts after = before;
  after.sign_us = 14;
  after.verify_us = 41;
  after.zmq_message_cpu_us = 4;
  MachineCosts fastest = fastest_of(before, after);
  EXPECT_EQ(fastest.cores, 2u);
  EXPECT_DOUBLE_EQ(fastest.sign_us, 14);
  EXPECT_DOUBLE_EQ(fastest.verify_us, 41);
  EXPECT_DOUBLE_EQ(fastest.blake2b_ns_per_byte, 1.5);
  EXPECT_DOUBLE_EQ(fastest.zmq_round_trip_us, 100);
  EXPECT_DOUBLE_EQ(fastest.zmq_message_cpu_us, 3);
  WorkPerRequest work = least_work(4, 64, 0);
  EXPECT_GT(ceiling_per_second(work, fastest), ceiling_per_second(work, before));
  EXPECT_GE(ceiling_per_second(work, fastest), ceiling_per_second(work, after));
}

}  // namespace
}  // namespace phalanx::bench
