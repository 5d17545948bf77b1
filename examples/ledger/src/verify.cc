#include "phalanx/ledger/verify.h"

namespace phalanx::ledger {
namespace {

std::string at(const BlockStore& store, std::uint64_t height) {
  return store.path() + ": block " + std::to_string(height) + ": ";
}

// Replays one stored block on `state`; an Error says what does not hold.
Status replay_block(const BlockStore& store, const Block& block, const std::string& stored_hash,
                    LedgerState& state) {
  if (block.previous != state.head_hash())
    return Error{at(store, block.height) + "previous hash " + block.previous.short_hex() +
                 " is not the hash of block " + std::to_string(block.height - 1)};
  if (block.time <= state.head().time)
    return Error{at(store, block.height) + "time " + std::to_string(block.time) +
                 " is not after the previous block's"};
  state.open_block(block.seq, block.time);
  for (std::size_t i = 0; i < block.transfers.size(); ++i) {
    if (auto rejected = state.apply(block.transfers[i])) {
      (void)state.seal_block();
      return Error{at(store, block.height) + "transfer " + std::to_string(i) + ": " + *rejected};
    }
  }
  const Block* sealed = state.seal_block();
  if (sealed == nullptr) return Error{at(store, block.height) + "a block without transfers"};
  if (sealed->state_root != block.state_root)
    return Error{at(store, block.height) + "state root " + block.state_root.short_hex() +
                 " is not the replayed " + sealed->state_root.short_hex()};
  if (block_hash(*sealed).hex() != stored_hash)
    return Error{at(store, block.height) + "stored hash is not the block's hash"};
  return ok_status();
}

}  // namespace

Result<ChainSummary> verify_store(const BlockStore& store, const Genesis& genesis) {
  auto chain_id = store.meta("chain_id");
  if (!chain_id.ok()) return chain_id.error();
  if (chain_id.value() != genesis.chain_id)
    return Error{store.path() + ": chain '" + chain_id.value() + "', not the genesis file's '" +
                 genesis.chain_id + "'"};
  auto blocks = store.blocks();
  if (!blocks.ok()) return blocks.error();
  auto hashes = store.block_hashes();
  if (!hashes.ok()) return hashes.error();
  if (blocks.value().empty() || hashes.value().size() != blocks.value().size())
    return Error{store.path() + ": no genesis block"};

  LedgerState state(genesis);
  if (block_hash(blocks.value().front()) != state.head_hash() ||
      hashes.value().front() != state.head_hash().hex())
    return Error{store.path() + ": block 0 is not this genesis file's"};
  ChainSummary summary;
  for (std::size_t height = 1; height < blocks.value().size(); ++height) {
    const Block& block = blocks.value()[height];
    if (block.height != height) return Error{at(store, height) + "missing"};
    if (Status replayed = replay_block(store, block, hashes.value()[height], state); !replayed.ok())
      return replayed.error();
    summary.transfers += block.transfers.size();
  }
  auto accounts = store.accounts();
  if (!accounts.ok()) return accounts.error();
  if (accounts.value() != state.accounts())
    return Error{store.path() + ": the account table is not the chain's balances"};
  summary.path = store.path();
  summary.height = state.head().height;
  summary.head_hash = state.head_hash().hex();
  summary.accounts = state.accounts().size();
  summary.state_root = state.head().state_root;
  return summary;
}

Status compare_heads(const std::vector<std::string>& paths,
                     const std::vector<std::vector<std::string>>& hashes) {
  std::size_t longest = 0;
  for (std::size_t i = 0; i < hashes.size(); ++i)
    if (hashes[i].size() > hashes[longest].size()) longest = i;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    for (std::size_t height = 0; height < hashes[i].size(); ++height) {
      if (hashes[i][height] != hashes[longest][height])
        return Error{"chains differ at block " + std::to_string(height) + ": " + paths[i] +
                     " has " + hashes[i][height].substr(0, 8) + ", " + paths[longest] + " has " +
                     hashes[longest][height].substr(0, 8)};
    }
  }
  return ok_status();
}

}  // namespace phalanx::ledger
