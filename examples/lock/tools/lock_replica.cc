// phalanx-lock-replica: one replica of the Phalanx lock service (examples/lock). The
// options, data directory and exit codes are phalanx-replica's
// (examples/kv/tools/replica_main.cc); the application is the lock service.
//
// Leases end by the replicated log's time, so the replica turns batch times on with a
// 5 s skew bound when the cluster file leaves batch_time_skew_max_ms at 0. Every replica
// of a cluster runs this program, so all of them adjust alike.
#include "phalanx/lock/lock_application.h"
#include "replica_main.h"

namespace {

using namespace phalanx;

constexpr pbft::Instant kDefaultBatchTimeSkew = 5 * pbft::kSecond;

}  // namespace

int main(int argc, char** argv) {
  examples::ReplicaHooks hooks;
  hooks.description = "Runs one replica of the Phalanx lock service (examples/lock).";
  hooks.adjust_options = [](pbft::ReplicaOptions& options) {
    if (options.batch_time_skew_max == 0) options.batch_time_skew_max = kDefaultBatchTimeSkew;
  };
  // The lock table lives in memory; the replica's log and snapshots make it durable.
  hooks.make_application = [](const pbft::ClusterConfig&, pbft::ReplicaId,
                              const std::string&) -> Result<std::unique_ptr<pbft::Application>> {
    return std::unique_ptr<pbft::Application>(std::make_unique<lock::LockApplication>());
  };
  return examples::replica_main(argc, argv, hooks);
}
