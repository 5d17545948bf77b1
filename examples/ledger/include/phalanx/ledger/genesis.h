#pragma once
// The genesis file: the chain's id, its first time and the initial balances.
//
//   chain_id = "demo"              # transfers are signed for this chain only
//   time = 1800000000000           # unix ms of block 0 (optional, default 0)
//   [[accounts]]
//   key = "64 hex characters"      # an Ed25519 public key (phalanx-ledger new-account)
//   balance = 1000
//
// Every replica and every client of a chain uses the same file; its hash (the genesis
// block's) is the chain's identity.
#include <map>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/ledger/state.h"
#include "phalanx/pbft/types.h"

namespace phalanx::ledger {

struct Genesis {
  std::string chain_id;
  pbft::UnixMillis time = 0;
  std::map<crypto::PublicKey, Account> accounts;  // nonces 0
};

// Reads a genesis file; an Error names the file, the line and the problem.
Result<Genesis> load_genesis(const std::string& path);
Result<Genesis> parse_genesis(std::string_view text, std::string_view source_name);
std::string format_genesis(const Genesis& genesis);  // the file's text

}  // namespace phalanx::ledger
