#include "phalanx/ledger/ledger_application.h"

#include <cstdio>
#include <cstdlib>

namespace phalanx::ledger {
namespace {

Bytes text(std::string value) {
  return Bytes(std::move(value));
}

}  // namespace

LedgerApplication::LedgerApplication(Genesis genesis, std::unique_ptr<BlockStore> store)
    : genesis_(std::move(genesis)), state_(genesis_), store_(std::move(store)) {
  if (store_) write_store(store_->reset(state_));
}

void LedgerApplication::begin_batch(const pbft::BatchContext& batch) {
  state_.open_block(batch.seq, batch.time);
}

void LedgerApplication::end_batch(const pbft::BatchContext&) {
  const Block* sealed = state_.seal_block();
  if (sealed && store_) write_store(store_->append(*sealed, state_));
}

Bytes LedgerApplication::execute(ByteView operation, const pbft::RequestContext&) {
  auto decoded = decode_operation(operation);
  if (!decoded.ok()) return text("error: " + decoded.error().message);
  if (const auto* transfer = std::get_if<Transfer>(&decoded.value())) {
    std::uint64_t height = state_.open_height();
    if (auto rejected = state_.apply(*transfer)) return text("rejected: " + *rejected);
    return text("accepted: block " + std::to_string(height));
  }
  if (const auto* query = std::get_if<AccountQuery>(&decoded.value())) {
    auto found = state_.accounts().find(query->account);
    Account account = found != state_.accounts().end() ? found->second : Account{};
    return text("balance " + std::to_string(account.balance) + " nonce " +
                std::to_string(account.nonce));
  }
  return text(history(std::get<HistoryQuery>(decoded.value())));
}

// Scans the chain from the head: fine for an example's chain; an index would serve a
// long one (the SQLite store has one, for local queries).
std::string LedgerApplication::history(const HistoryQuery& query) const {
  std::string out;
  std::uint32_t found = 0;
  const auto& chain = state_.chain();
  for (auto block = chain.rbegin(); block != chain.rend() && found < query.limit; ++block) {
    for (auto transfer = block->transfers.rbegin();
         transfer != block->transfers.rend() && found < query.limit; ++transfer) {
      bool sent = transfer->from == query.account;
      if (!sent && transfer->to != query.account) continue;
      out += "block " + std::to_string(block->height) + " nonce " +
             std::to_string(transfer->nonce) + " " + (sent ? "-" : "+") +
             std::to_string(transfer->amount) + " " + (sent ? transfer->to : transfer->from).hex() +
             "\n";
      ++found;
    }
  }
  return out;
}

Bytes LedgerApplication::snapshot() const {
  return state_.serialize();
}

Status LedgerApplication::restore(ByteView snapshot) {
  auto restored = LedgerState::deserialize(snapshot, genesis_);
  if (!restored.ok()) return restored.error();
  state_ = std::move(restored).value();
  if (store_) write_store(store_->reset(state_));
  return ok_status();
}

void LedgerApplication::write_store(Status written) const {
  if (written.ok()) return;
  std::fprintf(stderr, "ledger: cannot write the block store %s: %s\n", store_->path().c_str(),
               written.error().message.c_str());
  std::abort();
}

}  // namespace phalanx::ledger
