// SimCluster's storage and restarts (see sim_cluster.h): records made durable before a
// step's messages leave, crashes in the middle of a sync, recovery from the durable state,
// rejoining without it, and the monitor of what every replica signed.
#include <cstdio>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/base/assert.h"
#include "phalanx/storage/log_storage.h"
#include "sim_nodes.h"

namespace phalanx::adversary {

// As node::Node does: records, then the snapshot, before anything of the step is sent.
bool SimCluster::persist(net::NodeId at, const pbft::Actions& actions) {
  ReplicaNode& node = instance(at);
  const pbft::ReplicaId id = node.id;
  if (actions.persist.empty() && !actions.snapshot) return true;
  storage::StorageStats before = node.storage->stats();
  if (node.crash_while_persisting) {
    CrashPolicy policy = *node.crash_while_persisting;
    if (node.disk && !actions.persist.empty()) {
      // The write reaches the page cache; the sync fails; the process dies.
      node.disk->fail_next_syncs(1);
      Status failed = node.storage->append(actions.persist);
      PHALANX_ASSERT(!failed.ok(), "a failing sync went unnoticed");
    }
    ++counters_.crashes_while_persisting;
    PHALANX_ASSERT(at == id, "twins do not crash while persisting");
    crash(id, policy);
    return false;
  }
  Status appended = node.storage->append(actions.persist);
  if (!appended.ok())
    std::fprintf(stderr, "replica %u: %s\n", id, appended.error().message.c_str());
  PHALANX_ASSERT(appended.ok(), "a simulated storage failed to append");
  if (actions.snapshot) {
    Status saved = node.storage->save_snapshot(*actions.snapshot);
    PHALANX_ASSERT(saved.ok(), "a simulated storage failed to save a snapshot");
    ++counters_.snapshots;
  }
  counters_.persisted_records += actions.persist.size();
  counters_.storage_syncs += node.storage->stats().syncs - before.syncs;
  return true;
}

// The store of replica `id` on its disk, as a process that starts opens it.
std::unique_ptr<storage::Storage> SimCluster::open_log_storage(
    pbft::ReplicaId id, std::shared_ptr<storage::SimFileSystem> disk) const {
  return std::make_unique<storage::LogStorage>(
      std::move(disk), storage::LogStorageOptions{
                           "/replica-" + std::to_string(id),
                           "cluster=" + options_.cluster_id + " replica=" + std::to_string(id)});
}

bool SimCluster::restart(pbft::ReplicaId id) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas restart");
  ReplicaNode& node = *replicas_[id];
  PHALANX_ASSERT(node.silent, "only a crashed replica restarts");
  // A new process: the store is opened again on the same disk (a memory storage is the
  // medium itself and stays).
  if (node.disk) node.storage = open_log_storage(id, node.disk);
  auto loaded = node.storage->load();
  if (!loaded.ok()) {
    // Corruption the storage will not pass over: the process refuses to start.
    node.refusal = loaded.error().message;
    ++counters_.refused_restarts;
    trace_.update_u64(now_).update_u64(id).update_field(node.refusal);
    return false;
  }
  start_replica(id, &loaded.value(), false);
  return true;
}

void SimCluster::schedule_restart(pbft::Instant at, pbft::ReplicaId id) {
  schedule_action(at, [id](SimCluster& cluster) {
    if (cluster.crashed(id)) cluster.restart(id);
  });
}

// A crashed replica's storage emptied, as `phalanx-replica --rejoin` (or a new disk) does.
void SimCluster::discard_storage(pbft::ReplicaId id) {
  PHALANX_ASSERT(id < replicas_.size(), "only replicas have storage");
  ReplicaNode& node = *replicas_[id];
  PHALANX_ASSERT(node.silent, "only a crashed replica loses its storage");
  if (node.disk) {
    auto discarded = storage::discard_state(*node.disk, "/replica-" + std::to_string(id));
    PHALANX_ASSERT(discarded.ok(), "a simulated disk failed to discard a directory");
    node.storage = open_log_storage(id, node.disk);
  } else {
    static_cast<storage::MemoryStorage&>(*node.storage).wipe();
  }
  auto loaded = node.storage->load();
  PHALANX_ASSERT(loaded.ok() && loaded.value().empty(), "a discarded storage loads empty");
}

void SimCluster::rejoin(pbft::ReplicaId id) {
  discard_storage(id);
  start_replica(id, nullptr, true);
}

void SimCluster::restart_amnesiac(pbft::ReplicaId id) {
  discard_storage(id);
  history_.mark_faulty(id);  // it may contradict what it signed: Byzantine from now on
  start_replica(id, nullptr, false);
}

void SimCluster::start_replica(pbft::ReplicaId id, const pbft::DurableState* recovered,
                               bool rejoin) {
  ReplicaNode& node = *replicas_[id];
  node.replica.reset();  // it borrows the application: gone first
  pbft::ReplicaSetup setup = replica_setup(id, node.node);
  setup.rejoin = rejoin;
  node.replica =
      std::make_unique<pbft::Replica>(std::move(setup), new_application(node), local_now(id));
  node.silent = false;
  node.refusal.clear();
  ++(rejoin ? counters_.rejoins : counters_.restarts);
  pbft::Seq base = recovered && recovered->snapshot ? recovered->snapshot->seq : 0;
  history_.record_restart(id, base);
  trace_.update_u64(now_).update_u64(id).update_u64(base).update_u64(rejoin);
  note(std::string(rejoin      ? "rejoin"
                   : recovered ? "restart"
                               : "restart (amnesiac)") +
           " at seq " + std::to_string(base),
       id);
  if (recovered == nullptr) {
    schedule_wakeup(id, node.replica->next_deadline());
    return;
  }
  auto actions = node.replica->recover(*recovered, local_now(id));
  if (!actions.ok()) {
    // What a correct replica made durable always recovers: this is a bug.
    std::fprintf(stderr, "replica %u: %s\n", id, actions.error().message.c_str());
    PHALANX_ASSERT(actions.ok(), "a replica failed to recover from its own durable state");
  }
  after_replica_step(id, actions.value());
}

storage::SimFileSystem* SimCluster::disk(pbft::ReplicaId id) {
  PHALANX_ASSERT(id < replicas_.size(), "replica id out of range");
  return replicas_[id]->disk.get();
}

const std::string& SimCluster::refusal(pbft::ReplicaId id) const {
  PHALANX_ASSERT(id < replicas_.size(), "replica id out of range");
  return replicas_[id]->refusal;
}

// Every message a replica signed and sent, once per message (a broadcast is one message),
// for the checker's conflict check (S5). Relayed requests and others' envelopes are not
// its own signatures and are skipped.
void SimCluster::record_signed(net::NodeId from, const pbft::SharedBytes& bytes) {
  if (monitored_bytes_ == bytes) return;
  monitored_bytes_ = bytes;
  wire::Envelope envelope;
  const pbft::ReplicaId id = instance(from).id;
  if (!envelope.ParseFromString(*bytes) || envelope.kind() == wire::REQUEST ||
      envelope.sender() != id)
    return;
  if (auto message = SignedMessage::of(envelope)) history_.record_signed(id, *message);
}

}  // namespace phalanx::adversary
