#pragma once
// The P2P ledger as a Phalanx application: transfers signed by their sending accounts,
// blocks made of committed batches, balances replicated by PBFT (see README.md here).
//
// Replies (the text a client gets back, agreed by f+1 replicas):
//   transfer   "accepted: block H" or "rejected: REASON" (overdraft, nonce reuse, ...)
//   account    "balance B nonce N"
//   history    one line per transfer, newest first: "block H nonce N -|+AMOUNT COUNTERPARTY"
//   malformed  "error: REASON"
//
// With a BlockStore, every sealed block is also written to SQLite; a store that cannot be
// written stops the process (the replicated state is safe in the framework's log, and a
// restart rewrites the store from it).
//
// Thread-safety: as pbft::Application (one thread at a time).
#include <memory>

#include "phalanx/ledger/block_store.h"
#include "phalanx/ledger/genesis.h"
#include "phalanx/ledger/state.h"
#include "phalanx/pbft/application.h"

namespace phalanx::ledger {

class LedgerApplication final : public pbft::Application {
 public:
  explicit LedgerApplication(Genesis genesis, std::unique_ptr<BlockStore> store = nullptr);

  Bytes execute(ByteView operation, const pbft::RequestContext& context) override;
  Bytes snapshot() const override;
  Status restore(ByteView snapshot) override;
  void begin_batch(const pbft::BatchContext& batch) override;
  void end_batch(const pbft::BatchContext& batch) override;

  const LedgerState& state() const { return state_; }
  const Genesis& genesis() const { return genesis_; }

 private:
  std::string history(const HistoryQuery& query) const;
  void write_store(Status written) const;  // a failed write stops the process

  Genesis genesis_;
  LedgerState state_;
  std::unique_ptr<BlockStore> store_;
};

}  // namespace phalanx::ledger
