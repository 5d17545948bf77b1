// Rejoining without durable state (ReplicaSetup::rejoin): a replica whose data directory
// was lost or could not be trusted may have signed, before, messages it does not remember.
// Were it to vote again at once, it could sign a PREPARE or COMMIT that contradicts one
// it signed then: a Byzantine fault, one more than the cluster may have (DESIGN.md).
//
// Everything it could have signed lies within a log window above a checkpoint that was
// stable then: votes are only cast for sequence numbers in [h, h + L] (PBFT 4.2). So it
// first listens: after it has heard STATUS from 2f peers and a few status intervals have
// passed (enough for their checkpoint certificates to reach it), it takes the stable
// checkpoint it then knows, S, and abstains until the cluster's stable checkpoint and its
// own execution have passed S + L. Until then it signs no pre-prepare, prepare, commit,
// view change or new view; it still executes (by certificates and state transfer), takes
// and signs checkpoints (their digests are deterministic, so they cannot conflict),
// answers status and state requests, and follows new views.
//
// While it abstains it is one of the f faults the cluster tolerates. What it cannot rule
// out is a VIEW-CHANGE it signed before for a view above any the cluster reached since
// (a replica stranded alone in later views); docs/storage.md says so.
#include "core/replica_core.h"
#include "phalanx/base/byte_io.h"

namespace phalanx::pbft {

// Status intervals a rejoining replica listens before it fixes its horizon: its first
// STATUS leaves after one, and the certificates that answer it need one more.
inline constexpr std::uint64_t kRejoinListenIntervals = 3;

void Replica::Core::note_peer_status(ReplicaId peer) {
  if (rejoin_ && !rejoin_->horizon) rejoin_->heard.insert(peer);
}

void Replica::Core::update_rejoin() {
  if (!rejoin_) return;
  if (!rejoin_->horizon) {
    if (rejoin_->heard.size() < 2 * quorums_.f() ||
        now_ < rejoin_->started_at + kRejoinListenIntervals * options_.status_interval)
      return;
    rejoin_->horizon = stable_.seq + window_;
    persist_rejoin();
    event(Event::Type::kRejoinHorizon, *rejoin_->horizon,
          "abstaining from votes until the stable checkpoint reaches it");
  }
  if (stable_.seq < *rejoin_->horizon || last_executed_ < *rejoin_->horizon) return;
  rejoin_.reset();
  persist_rejoin();
  event(Event::Type::kRejoined, last_executed_);
  update_request_timer();
}

// Where the guard stands: its horizon (0 while unknown) and whether it is over.
DurableRecord Replica::Core::rejoin_record() const {
  Seq horizon = rejoin_ ? rejoin_->horizon.value_or(0) : 0;
  return DurableRecord{
      DurableRecord::Type::kRejoin,
      std::make_shared<const Bytes>(ByteWriter().u64(horizon).u64(rejoin_ ? 0 : 1).take())};
}

void Replica::Core::persist_rejoin() {
  out_.persist.push_back(rejoin_record());
}

}  // namespace phalanx::pbft
