#include "phalanx/ledger/block_store.h"

#include <sqlite3.h>

namespace phalanx::ledger {
namespace {

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS blocks(
    height INTEGER PRIMARY KEY, hash TEXT NOT NULL, previous TEXT NOT NULL,
    time INTEGER NOT NULL, seq INTEGER NOT NULL, state_root TEXT NOT NULL,
    transfers INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS transfers(
    height INTEGER NOT NULL, position INTEGER NOT NULL, hash TEXT NOT NULL,
    sender TEXT NOT NULL, recipient TEXT NOT NULL, amount INTEGER NOT NULL,
    nonce INTEGER NOT NULL, signature TEXT NOT NULL, PRIMARY KEY(height, position));
  CREATE INDEX IF NOT EXISTS transfers_by_sender ON transfers(sender);
  CREATE INDEX IF NOT EXISTS transfers_by_recipient ON transfers(recipient);
  CREATE TABLE IF NOT EXISTS accounts(
    key TEXT PRIMARY KEY, balance INTEGER NOT NULL, nonce INTEGER NOT NULL);
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return ok_; }
  Statement& bind(int index, std::uint64_t value) {
    sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value));
    return *this;
  }
  Statement& bind(int index, const std::string& value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  std::uint64_t integer(int column) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(stmt_, column));
  }
  std::string text(int column) const {
    const auto* value = sqlite3_column_text(stmt_, column);
    return value ? reinterpret_cast<const char*>(value) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
};

Error sqlite_error(sqlite3* db, const std::string& path, const std::string& what) {
  return Error{path + ": " + what + ": " + sqlite3_errmsg(db)};
}

std::optional<crypto::Digest> digest_from_hex(const std::string& hex) {
  auto bytes = phalanx::from_hex(hex);
  if (!bytes) return std::nullopt;
  return crypto::Digest::from_bytes(*bytes);
}

std::optional<crypto::Signature> signature_from_hex(const std::string& hex) {
  auto bytes = phalanx::from_hex(hex);
  if (!bytes) return std::nullopt;
  return crypto::Signature::from_bytes(*bytes);
}

}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::open(const std::string& path, Mode mode) {
  sqlite3* db = nullptr;
  int flags =
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error error = sqlite_error(db, path, "cannot open");
    sqlite3_close(db);
    return error;
  }
  std::unique_ptr<BlockStore> store(new BlockStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  if (mode == Mode::kReadWrite) {
    // WAL: readers (sqlite3, verify) do not block the replica, nor it them. NORMAL: a
    // power loss may lose the latest blocks, which the next start rewrites from the log.
    if (Status done = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        !done.ok())
      return done.error();
    if (Status done = store->exec(kSchema); !done.ok()) return done.error();
  }
  return store;
}

BlockStore::~BlockStore() {
  sqlite3_close(db_);
}

Status BlockStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return ok_status();
  Error error{path_ + ": " + (message ? message : "sqlite error")};
  sqlite3_free(message);
  return error;
}

Status BlockStore::insert_block(const Block& block) {
  Statement insert(db_, "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return sqlite_error(db_, path_, "prepare");
  insert.bind(1, block.height)
      .bind(2, block_hash(block).hex())
      .bind(3, block.previous.hex())
      .bind(4, block.time)
      .bind(5, block.seq)
      .bind(6, block.state_root.hex())
      .bind(7, static_cast<std::uint64_t>(block.transfers.size()));
  if (insert.step() != SQLITE_DONE) return sqlite_error(db_, path_, "insert block");
  for (std::size_t position = 0; position < block.transfers.size(); ++position) {
    const Transfer& transfer = block.transfers[position];
    Statement row(db_, "INSERT INTO transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!row.ok()) return sqlite_error(db_, path_, "prepare");
    row.bind(1, block.height)
        .bind(2, static_cast<std::uint64_t>(position))
        .bind(3, transfer_hash(transfer).hex())
        .bind(4, transfer.from.hex())
        .bind(5, transfer.to.hex())
        .bind(6, transfer.amount)
        .bind(7, transfer.nonce)
        .bind(8, to_hex(transfer.signature.view()));
    if (row.step() != SQLITE_DONE) return sqlite_error(db_, path_, "insert transfer");
  }
  return ok_status();
}

Status BlockStore::upsert_account(const crypto::PublicKey& key, const Account& account) {
  Statement upsert(db_, "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?)");
  if (!upsert.ok()) return sqlite_error(db_, path_, "prepare");
  upsert.bind(1, key.hex()).bind(2, account.balance).bind(3, account.nonce);
  if (upsert.step() != SQLITE_DONE) return sqlite_error(db_, path_, "upsert account");
  return ok_status();
}

// One transaction: a reader sees the old contents or the new, never a mix.
Status BlockStore::reset(const LedgerState& state) {
  if (Status done = exec("BEGIN; DELETE FROM meta; DELETE FROM blocks; DELETE FROM transfers; "
                         "DELETE FROM accounts;");
      !done.ok())
    return done;
  Statement meta(db_, "INSERT INTO meta VALUES ('chain_id', ?), ('genesis_hash', ?)");
  meta.bind(1, state.chain_id()).bind(2, block_hash(state.chain().front()).hex());
  if (meta.step() != SQLITE_DONE) {
    (void)exec("ROLLBACK");
    return sqlite_error(db_, path_, "insert meta");
  }
  for (const Block& block : state.chain()) {
    if (Status done = insert_block(block); !done.ok()) {
      (void)exec("ROLLBACK");
      return done;
    }
  }
  for (const auto& [key, account] : state.accounts()) {
    if (Status done = upsert_account(key, account); !done.ok()) {
      (void)exec("ROLLBACK");
      return done;
    }
  }
  return exec("COMMIT");
}

Status BlockStore::append(const Block& block, const LedgerState& state) {
  if (Status done = exec("BEGIN"); !done.ok()) return done;
  Status done = insert_block(block);
  for (const Transfer& transfer : block.transfers) {
    for (const auto& key : {transfer.from, transfer.to}) {
      if (!done.ok()) break;
      done = upsert_account(key, state.accounts().at(key));
    }
  }
  if (!done.ok()) {
    (void)exec("ROLLBACK");
    return done;
  }
  return exec("COMMIT");
}

Result<std::vector<Block>> BlockStore::blocks() const {
  std::vector<Block> blocks;
  Statement rows(db_, "SELECT height, previous, time, seq, state_root FROM blocks ORDER BY height");
  if (!rows.ok()) return sqlite_error(db_, path_, "read blocks");
  int step = 0;
  while ((step = rows.step()) == SQLITE_ROW) {
    Block block;
    block.height = rows.integer(0);
    auto previous = digest_from_hex(rows.text(1));
    auto root = digest_from_hex(rows.text(4));
    if (!previous || !root)
      return Error{path_ + ": block " + std::to_string(block.height) + ": malformed hash"};
    block.previous = *previous;
    block.time = rows.integer(2);
    block.seq = rows.integer(3);
    block.state_root = *root;
    blocks.push_back(std::move(block));
  }
  if (step != SQLITE_DONE) return sqlite_error(db_, path_, "read blocks");

  Statement transfers(db_,
                      "SELECT height, sender, recipient, amount, nonce, signature FROM transfers "
                      "ORDER BY height, position");
  if (!transfers.ok()) return sqlite_error(db_, path_, "read transfers");
  while ((step = transfers.step()) == SQLITE_ROW) {
    std::uint64_t height = transfers.integer(0);
    auto from = crypto::PublicKey::from_hex(transfers.text(1));
    auto to = crypto::PublicKey::from_hex(transfers.text(2));
    auto signature = signature_from_hex(transfers.text(5));
    if (height >= blocks.size() || blocks[height].height != height || !from || !to || !signature)
      return Error{path_ + ": malformed transfer in block " + std::to_string(height)};
    blocks[height].transfers.push_back(
        Transfer{*from, *to, transfers.integer(3), transfers.integer(4), *signature});
  }
  if (step != SQLITE_DONE) return sqlite_error(db_, path_, "read transfers");
  return blocks;
}

Result<std::vector<std::string>> BlockStore::block_hashes() const {
  std::vector<std::string> hashes;
  Statement rows(db_, "SELECT hash FROM blocks ORDER BY height");
  if (!rows.ok()) return sqlite_error(db_, path_, "read blocks");
  while (rows.step() == SQLITE_ROW) hashes.push_back(rows.text(0));
  return hashes;
}

Result<Accounts> BlockStore::accounts() const {
  Accounts accounts;
  Statement rows(db_, "SELECT key, balance, nonce FROM accounts");
  if (!rows.ok()) return sqlite_error(db_, path_, "read accounts");
  while (rows.step() == SQLITE_ROW) {
    auto key = crypto::PublicKey::from_hex(rows.text(0));
    if (!key) return Error{path_ + ": malformed account key '" + rows.text(0) + "'"};
    accounts[*key] = Account{rows.integer(1), rows.integer(2)};
  }
  return accounts;
}

Result<std::string> BlockStore::meta(const std::string& key) const {
  Statement row(db_, "SELECT value FROM meta WHERE key = ?");
  if (!row.ok()) return sqlite_error(db_, path_, "read meta");
  row.bind(1, key);
  if (row.step() != SQLITE_ROW) return Error{path_ + ": no '" + key + "' in meta"};
  return row.text(0);
}

}  // namespace phalanx::ledger
