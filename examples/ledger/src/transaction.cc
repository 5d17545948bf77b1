#include "phalanx/ledger/transaction.h"

#include "phalanx/crypto/sign.h"

namespace phalanx::ledger {
namespace {

enum Tag : std::uint8_t { kTransferTag = 1, kAccountTag = 2, kHistoryTag = 3 };

// What the sender signs: every field but the signature.
Bytes signed_part(const Transfer& transfer) {
  return ByteWriter()
      .raw(transfer.from.view())
      .raw(transfer.to.view())
      .u64(transfer.amount)
      .u64(transfer.nonce)
      .take();
}

crypto::Domain transfer_domain(std::string_view chain_id) {
  return crypto::Domain{chain_id, "ledger-transfer"};
}

std::optional<crypto::PublicKey> read_key(ByteReader& in) {
  auto bytes = in.raw(crypto::PublicKey::kSize);
  if (!bytes) return std::nullopt;
  return crypto::PublicKey::from_bytes(*bytes);
}

}  // namespace

Transfer sign_transfer(const crypto::SecretKey& from, const crypto::PublicKey& to, Amount amount,
                       Nonce nonce, std::string_view chain_id) {
  Transfer transfer{from.public_key(), to, amount, nonce, {}};
  crypto::Signer signer(from.clone());
  transfer.signature = signer.sign(transfer_domain(chain_id), signed_part(transfer));
  return transfer;
}

bool signature_valid(const Transfer& transfer, std::string_view chain_id) {
  return crypto::verify(transfer.from, transfer_domain(chain_id), signed_part(transfer),
                        transfer.signature);
}

crypto::Digest transfer_hash(const Transfer& transfer) {
  ByteWriter out;
  write_transfer(out, transfer);
  return crypto::blake2b(out.take());
}

void write_transfer(ByteWriter& out, const Transfer& transfer) {
  out.raw(transfer.from.view())
      .raw(transfer.to.view())
      .u64(transfer.amount)
      .u64(transfer.nonce)
      .raw(transfer.signature.view());
}

std::optional<Transfer> read_transfer(ByteReader& in) {
  Transfer transfer;
  auto from = read_key(in);
  auto to = read_key(in);
  auto amount = in.u64();
  auto nonce = in.u64();
  auto signature = in.raw(crypto::Signature::kSize);
  if (!from || !to || !amount || !nonce || !signature) return std::nullopt;
  transfer.from = *from;
  transfer.to = *to;
  transfer.amount = *amount;
  transfer.nonce = *nonce;
  transfer.signature = *crypto::Signature::from_bytes(*signature);
  return transfer;
}

Bytes encode_operation(const Operation& operation) {
  ByteWriter out;
  if (const auto* transfer = std::get_if<Transfer>(&operation)) {
    out.raw(Bytes(1, static_cast<char>(kTransferTag)));
    write_transfer(out, *transfer);
  } else if (const auto* account = std::get_if<AccountQuery>(&operation)) {
    out.raw(Bytes(1, static_cast<char>(kAccountTag))).raw(account->account.view());
  } else {
    const auto& history = std::get<HistoryQuery>(operation);
    out.raw(Bytes(1, static_cast<char>(kHistoryTag)))
        .raw(history.account.view())
        .u32(history.limit);
  }
  return out.take();
}

Result<Operation> decode_operation(ByteView bytes) {
  ByteReader in(bytes);
  auto tag = in.raw(1);
  if (!tag) return Error{"empty operation"};
  Operation operation;
  switch (static_cast<std::uint8_t>((*tag)[0])) {
    case kTransferTag: {
      auto transfer = read_transfer(in);
      if (!transfer) return Error{"malformed transfer"};
      operation = *transfer;
      break;
    }
    case kAccountTag: {
      auto account = read_key(in);
      if (!account) return Error{"malformed account query"};
      operation = AccountQuery{*account};
      break;
    }
    case kHistoryTag: {
      auto account = read_key(in);
      auto limit = in.u32();
      if (!account || !limit) return Error{"malformed history query"};
      if (*limit == 0 || *limit > kHistoryLimitMax)
        return Error{"history limit must be 1 to " + std::to_string(kHistoryLimitMax)};
      operation = HistoryQuery{*account, *limit};
      break;
    }
    default:
      return Error{"unknown operation tag " + std::to_string(static_cast<int>((*tag)[0]))};
  }
  if (!in.done()) return Error{"trailing bytes after the operation"};
  return operation;
}

}  // namespace phalanx::ledger
