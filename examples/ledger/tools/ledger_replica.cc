// phalanx-ledger-replica: one replica of a Phalanx ledger. The options, data directory
// and exit codes are phalanx-replica's (examples/kv/tools/replica_main.cc), plus
// --genesis; the block store is DATA_DIR/ledger.db.
#include "ledger_hooks.h"

int main(int argc, char** argv) {
  phalanx::examples::ReplicaHooks hooks;
  hooks.description = "Runs one replica of a Phalanx ledger (examples/ledger).";
  phalanx::ledger::LedgerReplicaOptions options;
  phalanx::ledger::add_ledger_to(hooks, options);
  return phalanx::examples::replica_main(argc, argv, hooks);
}
