// libFuzzer target: the ledger example's decoder of client operations
// (ledger::decode_operation, which reads a transfer with read_transfer, the reader of a
// block's transfers too). Every replica runs it on whatever bytes a client sends, so any
// input must give an Operation or an Error, never a crash or a read out of bounds. A
// transfer it gives is then hashed and its signature checked, as the ledger does, with
// whatever keys the bytes name (they need not be points of the curve).
//
// Round trip: re-encoding what was decoded must give bytes that decode, and re-encode, to
// the same bytes (the encoding is a fixed point). The stronger claim, that the input itself
// comes back byte for byte, holds for today's format (fixed widths, one tag byte, trailing
// bytes refused) but transaction.h does not promise one encoding per operation, so it is
// not asserted here.
//
// Seeds (tests/fuzz/corpus/fuzz_ledger_transaction): one valid operation of each kind,
// written by this target itself:
//   PHALANX_FUZZ_WRITE_SEEDS=tests/fuzz/corpus/fuzz_ledger_transaction \
//       build/fuzz/tests/fuzz/fuzz_ledger_transaction -runs=0
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "phalanx/ledger/transaction.h"

namespace {

using namespace phalanx;
using namespace phalanx::ledger;

constexpr std::string_view kChainId = "fuzz";

void require(bool holds) {
  if (!holds) __builtin_trap();
}

void check_round_trip(const Operation& operation) {
  const Bytes encoded = encode_operation(operation);
  Result<Operation> again = decode_operation(encoded);
  require(again.ok());
  require(encode_operation(again.value()) == encoded);
}

void check_operation(const Operation& operation) {
  if (const auto* transfer = std::get_if<Transfer>(&operation)) {
    static_cast<void>(signature_valid(*transfer, kChainId));
    static_cast<void>(transfer_hash(*transfer));
  } else if (const auto* history = std::get_if<HistoryQuery>(&operation)) {
    require(history->limit >= 1 && history->limit <= kHistoryLimitMax);
  }
}

crypto::SecretKey account_key(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("phalanx-fuzz-ledger", index);
}

std::vector<std::pair<std::string, Operation>> seed_operations() {
  const crypto::SecretKey alice = account_key(0);
  const crypto::SecretKey bob = account_key(1);
  constexpr Amount kAmountMax = std::numeric_limits<Amount>::max();
  return {
      {"transfer", sign_transfer(alice, bob.public_key(), 25, 1, kChainId)},
      {"transfer-zero", sign_transfer(bob, alice.public_key(), 0, 1, kChainId)},
      {"transfer-max", sign_transfer(bob, alice.public_key(), kAmountMax, 7, kChainId)},
      {"account", AccountQuery{alice.public_key()}},
      {"history-1", HistoryQuery{bob.public_key(), 1}},
      {"history-max", HistoryQuery{alice.public_key(), kHistoryLimitMax}},
  };
}

void write_seeds(const std::string& dir) {
  for (const auto& [name, operation] : seed_operations()) {
    std::ofstream file(dir + "/" + name, std::ios::binary | std::ios::trunc);
    file << encode_operation(operation);
    require(static_cast<bool>(file));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("PHALANX_FUZZ_WRITE_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView bytes(reinterpret_cast<const char*>(data), size);
  Result<Operation> operation = decode_operation(bytes);
  if (!operation.ok()) {
    require(!operation.error().message.empty());  // the client is told what was wrong
    return 0;
  }
  check_operation(operation.value());
  check_round_trip(operation.value());
  return 0;
}
