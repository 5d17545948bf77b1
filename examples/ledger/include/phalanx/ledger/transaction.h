#pragma once
// Transfers and the operations a ledger client submits, with their byte encodings.
//
// A transfer moves `amount` from one account to another. Accounts are Ed25519 public
// keys; the sending account signs the transfer, for one chain only (the chain id is in
// what is signed), and numbers its transfers 1, 2, 3, ... (the nonce), so that a replayed
// or reordered transfer is rejected by every replica alike.
//
// Thread-safety: values and pure functions.
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "phalanx/base/byte_io.h"
#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::ledger {

using Amount = std::uint64_t;
using Nonce = std::uint64_t;

struct Transfer {
  crypto::PublicKey from;
  crypto::PublicKey to;
  Amount amount = 0;
  Nonce nonce = 0;  // the sender's n-th transfer has nonce n
  crypto::Signature signature;
};

Transfer sign_transfer(const crypto::SecretKey& from, const crypto::PublicKey& to, Amount amount,
                       Nonce nonce, std::string_view chain_id);
bool signature_valid(const Transfer& transfer, std::string_view chain_id);
crypto::Digest transfer_hash(const Transfer& transfer);  // of every field, the signature too

// What a client asks of the ledger. Queries go through the log like transfers, so their
// answers are agreed (f+1 matching replies) and never stale.
struct AccountQuery {  // balance and last nonce
  crypto::PublicKey account;
};
struct HistoryQuery {  // the account's latest transfers, newest first
  crypto::PublicKey account;
  std::uint32_t limit = 20;
};
inline constexpr std::uint32_t kHistoryLimitMax = 100;
using Operation = std::variant<Transfer, AccountQuery, HistoryQuery>;

Bytes encode_operation(const Operation& operation);
// Decodes an operation; an Error says what is malformed (a client's bad input).
Result<Operation> decode_operation(ByteView bytes);

// Transfers inside blocks use the same encoding, without the operation tag.
void write_transfer(ByteWriter& out, const Transfer& transfer);
std::optional<Transfer> read_transfer(ByteReader& in);

}  // namespace phalanx::ledger
