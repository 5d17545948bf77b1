#include "phalanx/ledger/state.h"

#include "phalanx/base/assert.h"
#include "phalanx/ledger/genesis.h"

namespace phalanx::ledger {
namespace {

std::optional<crypto::Digest> read_digest(ByteReader& in) {
  auto bytes = in.raw(crypto::Digest::kSize);
  if (!bytes) return std::nullopt;
  return crypto::Digest::from_bytes(*bytes);
}

void write_accounts(ByteWriter& out, const Accounts& accounts) {
  out.u64(accounts.size());
  for (const auto& [key, account] : accounts)
    out.raw(key.view()).u64(account.balance).u64(account.nonce);
}

std::optional<Accounts> read_accounts(ByteReader& in) {
  auto count = in.u64();
  if (!count) return std::nullopt;
  Accounts accounts;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto key = in.raw(crypto::PublicKey::kSize);
    auto balance = in.u64();
    auto nonce = in.u64();
    if (!key || !balance || !nonce) return std::nullopt;
    accounts[*crypto::PublicKey::from_bytes(*key)] = Account{*balance, *nonce};
  }
  return accounts;
}

}  // namespace

crypto::Digest state_root(const Accounts& accounts) {
  crypto::Hasher hasher;
  hasher.update_field("ledger-state").update_u64(accounts.size());
  for (const auto& [key, account] : accounts)
    hasher.update(key.view()).update_u64(account.balance).update_u64(account.nonce);
  return hasher.finish();
}

crypto::Digest transfers_root(const std::vector<Transfer>& transfers) {
  crypto::Hasher hasher;
  hasher.update_field("ledger-transfers").update_u64(transfers.size());
  for (const auto& transfer : transfers) hasher.update(transfer_hash(transfer).view());
  return hasher.finish();
}

crypto::Digest block_hash(const Block& block) {
  return crypto::Hasher()
      .update_field("ledger-block")
      .update_u64(block.height)
      .update(block.previous.view())
      .update_u64(block.time)
      .update_u64(block.seq)
      .update(block.state_root.view())
      .update(transfers_root(block.transfers).view())
      .finish();
}

Bytes encode_block(const Block& block) {
  ByteWriter out;
  out.u64(block.height)
      .raw(block.previous.view())
      .u64(block.time)
      .u64(block.seq)
      .raw(block.state_root.view())
      .u32(static_cast<std::uint32_t>(block.transfers.size()));
  for (const auto& transfer : block.transfers) write_transfer(out, transfer);
  return out.take();
}

std::optional<Block> decode_block(ByteView bytes) {
  ByteReader in(bytes);
  Block block;
  auto height = in.u64();
  auto previous = read_digest(in);
  auto time = in.u64();
  auto seq = in.u64();
  auto root = read_digest(in);
  auto count = in.u32();
  if (!height || !previous || !time || !seq || !root || !count) return std::nullopt;
  block = Block{*height, *previous, *time, *seq, *root, {}};
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto transfer = read_transfer(in);
    if (!transfer) return std::nullopt;
    block.transfers.push_back(*transfer);
  }
  if (!in.done()) return std::nullopt;
  return block;
}

LedgerState::LedgerState(const Genesis& genesis)
    : chain_id_(genesis.chain_id), accounts_(genesis.accounts) {
  Block zero;
  zero.time = genesis.time;
  zero.state_root = state_root(accounts_);
  head_hash_ = block_hash(zero);
  chain_.push_back(std::move(zero));
}

void LedgerState::open_block(pbft::Seq seq, pbft::UnixMillis time) {
  PHALANX_ASSERT(!open_, "a block is open already");
  Block block;
  block.height = open_height();
  block.previous = head_hash_;
  // Batch times increase strictly; the clamp keeps a chain whose genesis time is later
  // than its first batches' increasing too.
  block.time = std::max(time, head().time + 1);
  block.seq = seq;
  open_ = std::move(block);
}

std::optional<std::string> LedgerState::apply(const Transfer& transfer) {
  PHALANX_ASSERT(open_, "applying a transfer outside a block");
  if (transfer.amount == 0) return "the amount must be positive";
  if (transfer.from == transfer.to) return "a transfer to the sending account itself";
  if (!signature_valid(transfer, chain_id_)) return "bad signature";
  auto known = accounts_.find(transfer.from);  // an unknown account has nothing, nonce 0
  Account from = known != accounts_.end() ? known->second : Account{};
  if (transfer.nonce <= from.nonce)
    return "nonce " + std::to_string(transfer.nonce) + " already used (the last was " +
           std::to_string(from.nonce) + ")";
  if (transfer.nonce != from.nonce + 1)
    return "nonce " + std::to_string(transfer.nonce) + " out of order (the next is " +
           std::to_string(from.nonce + 1) + ")";
  if (from.balance < transfer.amount)
    return "insufficient funds (balance " + std::to_string(from.balance) + ", amount " +
           std::to_string(transfer.amount) + ")";
  Account& to = accounts_[transfer.to];
  if (to.balance + transfer.amount < to.balance) return "the recipient's balance would overflow";
  to.balance += transfer.amount;
  accounts_[transfer.from] = Account{from.balance - transfer.amount, transfer.nonce};
  open_->transfers.push_back(transfer);
  return std::nullopt;
}

const Block* LedgerState::seal_block() {
  PHALANX_ASSERT(open_, "sealing without an open block");
  Block block = std::move(*open_);
  open_.reset();
  if (block.transfers.empty()) return nullptr;
  block.state_root = state_root(accounts_);
  head_hash_ = block_hash(block);
  chain_.push_back(std::move(block));
  return &chain_.back();
}

Bytes LedgerState::serialize() const {
  PHALANX_ASSERT(!open_, "a snapshot inside a block");
  ByteWriter out;
  out.field(chain_id_);
  write_accounts(out, accounts_);
  out.u64(chain_.size());
  for (const auto& block : chain_) out.large_field(encode_block(block));
  return out.take();
}

Result<LedgerState> LedgerState::deserialize(ByteView bytes, const Genesis& genesis) {
  ByteReader in(bytes);
  LedgerState state;
  auto chain_id = in.field();
  auto accounts = read_accounts(in);
  auto count = in.u64();
  if (!chain_id || !accounts || !count || *count == 0) return Error{"malformed ledger state"};
  if (*chain_id != genesis.chain_id)
    return Error{"ledger state of chain '" + std::string(*chain_id) + "', not '" +
                 genesis.chain_id + "'"};
  state.chain_id_ = std::string(*chain_id);
  state.accounts_ = std::move(*accounts);
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto encoded = in.large_field();
    auto block = encoded ? decode_block(*encoded) : std::nullopt;
    if (!block || block->height != i) return Error{"malformed block " + std::to_string(i)};
    state.chain_.push_back(std::move(*block));
  }
  if (!in.done()) return Error{"trailing bytes after the ledger state"};
  if (block_hash(state.chain_.front()) != block_hash(LedgerState(genesis).head()))
    return Error{"ledger state from another genesis"};
  state.head_hash_ = block_hash(state.chain_.back());
  return state;
}

}  // namespace phalanx::ledger
