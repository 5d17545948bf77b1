#pragma once
// The ledger's state machine, pure and deterministic, shared by the replicated
// application (ledger_application.h) and by the offline verifier (verify.h), which replays
// a chain through it.
//
// Blocks: each committed batch that applies at least one transfer becomes a block with
// its height, the previous block's hash, its transfers, the batch's agreed time and
// sequence number, and the state root (a digest of every balance and nonce after it).
// Block 0 is the genesis block.
//
// Thread-safety: none; one thread uses a LedgerState.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "phalanx/crypto/digest.h"
#include "phalanx/ledger/transaction.h"
#include "phalanx/pbft/types.h"

namespace phalanx::ledger {

struct Account {
  Amount balance = 0;
  Nonce nonce = 0;  // the last applied transfer's nonce
  bool operator==(const Account&) const = default;
};
using Accounts = std::map<crypto::PublicKey, Account>;

struct Block {
  std::uint64_t height = 0;
  crypto::Digest previous;  // zero for block 0
  pbft::UnixMillis time = 0;
  pbft::Seq seq = 0;  // the batch it records (0 for block 0)
  crypto::Digest state_root;
  std::vector<Transfer> transfers;
};

crypto::Digest state_root(const Accounts& accounts);
crypto::Digest transfers_root(const std::vector<Transfer>& transfers);
crypto::Digest block_hash(const Block& block);  // over the header and transfers_root
Bytes encode_block(const Block& block);
std::optional<Block> decode_block(ByteView bytes);

struct Genesis;

class LedgerState {
 public:
  explicit LedgerState(const Genesis& genesis);

  // A block in the making: transfers apply to the state as they come.
  void open_block(pbft::Seq seq, pbft::UnixMillis time);
  // Applies a transfer to the open block, or says why not (nothing changes then).
  std::optional<std::string> apply(const Transfer& transfer);
  // Closes the open block: appends it to the chain if it has transfers. Returns it.
  const Block* seal_block();

  const std::string& chain_id() const { return chain_id_; }
  const Accounts& accounts() const { return accounts_; }
  const std::vector<Block>& chain() const { return chain_; }  // block 0 first
  const Block& head() const { return chain_.back(); }
  crypto::Digest head_hash() const { return head_hash_; }
  std::uint64_t open_height() const { return head().height + 1; }

  // The whole state (chain id, accounts, blocks) and back: the application's snapshot.
  Bytes serialize() const;
  static Result<LedgerState> deserialize(ByteView bytes, const Genesis& genesis);

 private:
  LedgerState() = default;
  std::string chain_id_;
  Accounts accounts_;
  std::vector<Block> chain_;
  crypto::Digest head_hash_;
  std::optional<Block> open_;
};

}  // namespace phalanx::ledger
