#pragma once
// Makes a replica process (replica_main.h) a ledger replica: adds --genesis, turns batch
// times on (5 s skew bound unless the cluster file sets batch_time_skew_max_ms) and makes
// the ledger application with its SQLite block store at DATA_DIR/ledger.db. Used by
// phalanx-ledger-replica and by phalanx-byzantine-replica --application ledger.
#include <string>

#include "replica_main.h"

namespace phalanx::ledger {

inline constexpr pbft::Instant kDefaultBatchTimeSkew = 5 * pbft::kSecond;

struct LedgerReplicaOptions {
  std::string genesis_path;  // empty: genesis.toml beside the cluster file
};

void add_ledger_to(examples::ReplicaHooks& hooks, LedgerReplicaOptions& options);

}  // namespace phalanx::ledger
