// The ledger's rules, one at a time: every bad transfer is rejected with a reason the
// client sees and changes nothing; good ones move money and extend the chain; the state
// survives its snapshot; malformed operations and genesis files get clear errors.
#include <gtest/gtest.h>

#include "phalanx/ledger/genesis.h"
#include "phalanx/ledger/ledger_application.h"
#include "phalanx/ledger/state.h"

namespace phalanx::ledger {
namespace {

crypto::SecretKey account(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("account", index);
}

Genesis two_accounts() {
  Genesis genesis{"test-chain", 1000, {}};
  genesis.accounts[account(0).public_key()] = Account{100, 0};
  genesis.accounts[account(1).public_key()] = Account{50, 0};
  return genesis;
}

// Executes `operation` as the only request of a batch at `seq`; returns the reply.
std::string run(LedgerApplication& ledger, const Operation& operation, pbft::Seq seq) {
  pbft::BatchContext batch{seq, 2000 + seq, 1, {}};
  ledger.begin_batch(batch);
  Bytes reply = ledger.execute(encode_operation(operation), {{}, 1, seq, batch.time});
  ledger.end_batch(batch);
  return reply;
}

Transfer pay(std::uint64_t from, std::uint64_t to, Amount amount, Nonce nonce,
             std::string_view chain = "test-chain") {
  return sign_transfer(account(from), account(to).public_key(), amount, nonce, chain);
}

TEST(LedgerState, TransferMovesMoneyAndMakesABlock) {
  LedgerApplication ledger(two_accounts());
  EXPECT_EQ(run(ledger, pay(0, 1, 30, 1), 1), "accepted: block 1");
  EXPECT_EQ(run(ledger, AccountQuery{account(0).public_key()}, 2), "balance 70 nonce 1");
  EXPECT_EQ(run(ledger, AccountQuery{account(1).public_key()}, 3), "balance 80 nonce 0");
  const auto& chain = ledger.state().chain();
  ASSERT_EQ(chain.size(), 2u) << "queries make no block";
  EXPECT_EQ(chain[1].height, 1u);
  EXPECT_EQ(chain[1].previous, block_hash(chain[0]));
  EXPECT_EQ(chain[1].time, 2001u);
  EXPECT_EQ(chain[1].seq, 1u);
  EXPECT_EQ(chain[1].state_root, state_root(ledger.state().accounts()));
}

TEST(LedgerState, BadTransfersAreRejectedWithAReasonAndChangeNothing) {
  LedgerApplication ledger(two_accounts());
  ASSERT_EQ(run(ledger, pay(0, 1, 30, 1), 1), "accepted: block 1");
  Bytes before = ledger.snapshot();
  struct Case {
    Transfer transfer;
    std::string reply;
  };
  Transfer forged = pay(0, 1, 10, 2);
  forged.from = account(2).public_key();  // account 0's signature, claiming account 2
  Transfer tampered = pay(0, 1, 10, 2);
  tampered.amount = 60;  // changed after signing
  std::vector<Case> cases = {
      {pay(0, 1, 71, 2), "rejected: insufficient funds (balance 70, amount 71)"},
      {pay(0, 1, 30, 1), "rejected: nonce 1 already used (the last was 1)"},  // replay
      {pay(0, 1, 10, 3), "rejected: nonce 3 out of order (the next is 2)"},
      {forged, "rejected: bad signature"},
      {tampered, "rejected: bad signature"},
      {pay(0, 1, 10, 2, "other-chain"), "rejected: bad signature"},
      {pay(0, 1, 0, 2), "rejected: the amount must be positive"},
      {pay(0, 0, 10, 2), "rejected: a transfer to the sending account itself"},
      {pay(7, 1, 1, 1), "rejected: insufficient funds (balance 0, amount 1)"},
  };
  pbft::Seq seq = 2;
  for (const auto& c : cases) EXPECT_EQ(run(ledger, c.transfer, seq++), c.reply);
  EXPECT_EQ(ledger.snapshot(), before) << "a rejected transfer changed the state";
}

TEST(LedgerState, DoubleSpendInOneBatchAppliesOnce) {
  LedgerApplication ledger(two_accounts());
  pbft::BatchContext batch{1, 5000, 2, {}};
  ledger.begin_batch(batch);
  // The same nonce to two recipients: the first in the batch wins.
  Bytes first = ledger.execute(encode_operation(pay(0, 1, 100, 1)), {{}, 1, 1, 5000});
  Bytes second = ledger.execute(encode_operation(pay(0, 2, 100, 1)), {{}, 1, 1, 5000});
  ledger.end_batch(batch);
  EXPECT_EQ(first, "accepted: block 1");
  EXPECT_EQ(second, "rejected: nonce 1 already used (the last was 1)");
  EXPECT_EQ(ledger.state().chain().back().transfers.size(), 1u);
}

TEST(LedgerState, BlockTimesIncreaseEvenIfTheGenesisIsLater) {
  Genesis genesis = two_accounts();
  genesis.time = 9'000;
  LedgerApplication ledger(genesis);
  run(ledger, pay(0, 1, 1, 1), 1);  // batch time 2001 < genesis time
  run(ledger, pay(0, 1, 1, 2), 2);
  const auto& chain = ledger.state().chain();
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[1].time, 9'001u);
  EXPECT_EQ(chain[2].time, 9'002u);
}

TEST(LedgerState, SnapshotRestoresTheWholeChain) {
  LedgerApplication ledger(two_accounts());
  for (Nonce nonce = 1; nonce <= 5; ++nonce) run(ledger, pay(0, 1, 3, nonce), nonce);
  LedgerApplication copy(two_accounts());
  ASSERT_TRUE(copy.restore(ledger.snapshot()).ok());
  EXPECT_EQ(copy.snapshot(), ledger.snapshot());
  EXPECT_EQ(copy.state().head_hash(), ledger.state().head_hash());
  EXPECT_EQ(run(copy, HistoryQuery{account(0).public_key(), 2}, 9),
            "block 5 nonce 5 -3 " + account(1).public_key().hex() + "\nblock 4 nonce 4 -3 " +
                account(1).public_key().hex() + "\n");

  Genesis other = two_accounts();
  other.chain_id = "another";
  LedgerApplication stranger(other);
  auto refused = stranger.restore(ledger.snapshot());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("chain 'test-chain'"), std::string::npos);
  EXPECT_FALSE(copy.restore("garbage").ok());
}

TEST(LedgerState, MalformedOperationsGetAnError) {
  LedgerApplication ledger(two_accounts());
  pbft::RequestContext context{{}, 1, 1, 1};
  ledger.begin_batch({1, 1, 4, {}});
  EXPECT_EQ(ledger.execute("", context), "error: empty operation");
  EXPECT_EQ(ledger.execute("\x09", context), "error: unknown operation tag 9");
  EXPECT_EQ(ledger.execute(encode_operation(pay(0, 1, 1, 1)).substr(0, 50), context),
            "error: malformed transfer");
  EXPECT_EQ(ledger.execute(encode_operation(HistoryQuery{account(0).public_key(), 500}), context),
            "error: history limit must be 1 to 100");
  ledger.end_batch({1, 1, 4, {}});
  EXPECT_EQ(ledger.state().chain().size(), 1u);
}

TEST(Genesis, RoundTripsAndReportsProblemsWithLines) {
  Genesis genesis = two_accounts();
  auto parsed = parse_genesis(format_genesis(genesis), "g.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed.value().chain_id, genesis.chain_id);
  EXPECT_EQ(parsed.value().accounts, genesis.accounts);

  auto bad = parse_genesis(
      "chain_id = \"x\"\nbalances = 3\n[[accounts]]\nkey = \"zz\"\nbalance = 1\n", "g.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("g.toml:2: unknown key 'balances'"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("key must be 64 hex characters"), std::string::npos);
  EXPECT_FALSE(parse_genesis("time = 5\n", "g.toml").ok()) << "no chain_id";
}

}  // namespace
}  // namespace phalanx::ledger
