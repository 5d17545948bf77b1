// phalanx-ledger verify's checks (verify.h): a block store written by the ledger
// application verifies; a change of one byte or one value anywhere in its history, or a
// missing block, fails with a message naming what is wrong; chains that differ are told
// apart from chains that lag.
#include "phalanx/ledger/verify.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "phalanx/ledger/ledger_application.h"

namespace phalanx::ledger {
namespace {

namespace fs = std::filesystem;

crypto::SecretKey account(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("account", index);
}

Genesis genesis() {
  Genesis genesis{"verify-chain", 1000, {}};
  for (std::uint64_t i = 0; i < 3; ++i) genesis.accounts[account(i).public_key()] = Account{100, 0};
  return genesis;
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("phalanx-verify-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A chain of `blocks` blocks, two transfers each, written by the application.
  std::string write_chain(const std::string& name, std::uint64_t blocks) {
    std::string path = (dir_ / name).string();
    auto store = BlockStore::open(path, BlockStore::Mode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.error().message;
    LedgerApplication ledger(genesis(), std::move(store).value());
    for (std::uint64_t height = 1; height <= blocks; ++height) {
      pbft::BatchContext batch{height * 3, 2000 + height * 10, 2, {}};
      ledger.begin_batch(batch);
      for (std::uint64_t from = 0; from < 2; ++from) {
        auto transfer = sign_transfer(account(from), account(from + 1).public_key(), 1 + height,
                                      height, "verify-chain");
        EXPECT_EQ(ledger.execute(encode_operation(transfer), {{}, height, batch.seq, batch.time}),
                  "accepted: block " + std::to_string(height));
      }
      ledger.end_batch(batch);
    }
    return path;
  }

  Result<ChainSummary> verify(const std::string& path) {
    auto store = BlockStore::open(path, BlockStore::Mode::kReadOnly);
    if (!store.ok()) return store.error();
    return verify_store(*store.value(), genesis());
  }

  static void tamper(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "") << " in: " << sql;
    EXPECT_EQ(sqlite3_changes(db), 1) << "the tampering changed no row: " << sql;
    sqlite3_close(db);
  }

  fs::path dir_;
};

TEST_F(VerifyTest, AnHonestChainVerifies) {
  auto summary = verify(write_chain("honest.db", 5));
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary.value().height, 5u);
  EXPECT_EQ(summary.value().transfers, 10u);
  EXPECT_EQ(summary.value().accounts, 3u);
}

// One hex character of a text column, changed to another.
std::string flip_char(const std::string& table, const std::string& column,
                      const std::string& where) {
  return "UPDATE " + table + " SET " + column + " = substr(" + column + ", 1, 9) || " +
         "(CASE substr(" + column + ", 10, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || substr(" + column +
         ", 11) WHERE " + where;
}

TEST_F(VerifyTest, EveryChangeToTheHistoryIsFound) {
  std::string original = write_chain("original.db", 5);
  struct Case {
    std::string sql;
    std::string expected;  // in the error message
  };
  std::vector<Case> cases = {
      {"UPDATE transfers SET amount = amount + 1 WHERE height = 2 AND position = 0", "block 2"},
      {"UPDATE transfers SET nonce = nonce + 1 WHERE height = 3 AND position = 1", "block 3"},
      {flip_char("transfers", "signature", "height = 2 AND position = 1"), "bad signature"},
      {flip_char("transfers", "recipient", "height = 4 AND position = 0"), "block 4"},
      {flip_char("transfers", "sender", "height = 1 AND position = 0"), "block 1"},
      {"UPDATE blocks SET time = time + 1 WHERE height = 3", "block 3"},
      {"UPDATE blocks SET time = 0 WHERE height = 3", "not after the previous"},
      {"UPDATE blocks SET seq = seq + 1 WHERE height = 5", "block 5"},
      {flip_char("blocks", "state_root", "height = 2"), "state root"},
      {flip_char("blocks", "previous", "height = 4"), "previous hash"},
      {flip_char("blocks", "hash", "height = 5"), "stored hash"},
      {flip_char("blocks", "hash", "height = 0"), "block 0"},
      {"UPDATE accounts SET balance = balance + 1 WHERE key = (SELECT min(key) FROM accounts)",
       "account table"},
      {"DELETE FROM blocks WHERE height = 3", "block 3"},
      {"UPDATE meta SET value = 'other' WHERE key = 'chain_id'", "chain 'other'"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string copy = (dir_ / ("tampered-" + std::to_string(i) + ".db")).string();
    fs::copy_file(original, copy);
    tamper(copy, cases[i].sql);
    auto summary = verify(copy);
    ASSERT_FALSE(summary.ok()) << "not found: " << cases[i].sql;
    EXPECT_NE(summary.error().message.find(cases[i].expected), std::string::npos)
        << cases[i].sql << " -> " << summary.error().message;
  }
  ASSERT_TRUE(verify(original).ok()) << "the original was touched";
}

TEST_F(VerifyTest, LaggingChainsAgreeDifferentOnesDoNot) {
  auto hashes = [](const std::string& path) {
    auto store = BlockStore::open(path, BlockStore::Mode::kReadOnly);
    return store.value()->block_hashes().value();
  };
  std::string a = write_chain("a.db", 5), b = write_chain("b.db", 3);
  EXPECT_TRUE(compare_heads({a, b}, {hashes(a), hashes(b)}).ok());
  auto other = hashes(b);
  other[2] = std::string(64, '0');
  auto differ = compare_heads({a, b}, {hashes(a), other});
  ASSERT_FALSE(differ.ok());
  EXPECT_NE(differ.error().message.find("chains differ at block 2"), std::string::npos);
}

TEST_F(VerifyTest, TheStoreFollowsARestore) {
  std::string path = write_chain("source.db", 4);
  // A replica restored from another's snapshot rewrites its store from it.
  LedgerApplication source(genesis());
  for (std::uint64_t height = 1; height <= 2; ++height) {
    pbft::BatchContext batch{height, 5000 + height, 1, {}};
    source.begin_batch(batch);
    (void)source.execute(encode_operation(sign_transfer(account(2), account(0).public_key(), 7,
                                                        height, "verify-chain")),
                         {{}, height, height, batch.time});
    source.end_batch(batch);
  }
  {
    auto store = BlockStore::open(path, BlockStore::Mode::kReadWrite);
    LedgerApplication restored(genesis(), std::move(store).value());
    ASSERT_TRUE(restored.restore(source.snapshot()).ok());
  }
  auto summary = verify(path);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary.value().height, 2u);
  EXPECT_EQ(summary.value().head_hash, source.state().head_hash().hex());
}

}  // namespace
}  // namespace phalanx::ledger
