#pragma once
// The block store: a replica's chain and account table in SQLite, for people and tools to
// query (`sqlite3 data/replica-0/ledger.db 'select * from accounts'`) and for
// `phalanx-ledger verify` to check offline.
//
// It is a view of the replicated state, not the state's source of truth: the framework's
// log and snapshots are (docs/storage.md). The application rewrites the store whenever
// its state is replaced (start, restore from a snapshot or a state transfer) and appends
// each block as it is sealed, in one SQLite transaction per block, so the store is always
// a prefix-consistent chain. Schema (keys and hashes as hex text):
//
//   meta(key, value)            chain_id, genesis_hash
//   blocks(height, hash, previous, time, seq, state_root, transfers)
//   transfers(height, position, hash, sender, recipient, amount, nonce, signature)
//   accounts(key, balance, nonce)
//
// Thread-safety: one thread per BlockStore; SQLite's WAL lets other processes read while
// a replica writes.
#include <memory>
#include <string>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/ledger/state.h"

struct sqlite3;

namespace phalanx::ledger {

class BlockStore {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  static Result<std::unique_ptr<BlockStore>> open(const std::string& path, Mode mode);
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // Replaces the whole contents with `state` (its chain and accounts).
  Status reset(const LedgerState& state);
  // Appends a sealed block and the accounts it changed, as they are in `state` now.
  Status append(const Block& block, const LedgerState& state);

  // Reading, for verify and tools. Blocks come in height order, block 0 first.
  Result<std::vector<Block>> blocks() const;
  Result<std::vector<std::string>> block_hashes() const;  // as stored, by height
  Result<Accounts> accounts() const;
  Result<std::string> meta(const std::string& key) const;
  const std::string& path() const { return path_; }

 private:
  BlockStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  Status insert_block(const Block& block);
  Status upsert_account(const crypto::PublicKey& key, const Account& account);
  sqlite3* db_;
  std::string path_;
};

}  // namespace phalanx::ledger
