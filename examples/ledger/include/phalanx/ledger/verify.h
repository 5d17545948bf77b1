#pragma once
// Offline checks of block stores (phalanx-ledger verify).
//
// verify_store replays a stored chain from its genesis through the same state machine the
// replicas run (state.h) and checks every link: each block's previous hash, each transfer's
// signature and nonce and the balance it spends, each block's time (after the previous
// one's), state root and hash, and that the account table equals the replayed balances. A
// change of one byte anywhere in the history fails one of these.
//
// compare_heads checks that several replicas' chains agree: the shorter ones are prefixes
// of the longest (a correct replica may lag, never differ).
#include <string>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/ledger/block_store.h"
#include "phalanx/ledger/genesis.h"

namespace phalanx::ledger {

struct ChainSummary {
  std::string path;
  std::uint64_t height = 0;  // of the head block
  std::string head_hash;     // hex
  std::uint64_t transfers = 0;
  std::size_t accounts = 0;
  crypto::Digest state_root;
};

Result<ChainSummary> verify_store(const BlockStore& store, const Genesis& genesis);

// The chains' hashes by height (BlockStore::block_hashes): Ok when every chain is a prefix
// of the longest, else an Error naming the first height where two differ.
Status compare_heads(const std::vector<std::string>& paths,
                     const std::vector<std::vector<std::string>>& hashes);

}  // namespace phalanx::ledger
