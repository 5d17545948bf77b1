// What a replica makes durable (durable.h), and the snapshots that let the log below a
// stable checkpoint go. Recovery from these records is in recovery.cc.
//
// The rule: a record is in Actions::persist before any message whose safety depends on
// it is in Actions::send of the same step. Concretely, before the driver sends
//   - any message we signed: that message (kSigned);
//   - our PREPARE: the PRE-PREPARE it votes for (kPrePrepare, or kNewView for the
//     re-proposals of a new view), so that a prepared certificate can be rebuilt;
//   - our COMMIT: the 2f PREPAREs that prepared the slot (kPrepared), so that a
//     VIEW-CHANGE after a restart still carries the certificate (PBFT 4.4's safety
//     argument counts on every correct replica that prepared a batch to report it);
//   - a reply of a batch: the 2f+1 COMMITs that committed it (kCommitted, or the whole
//     certificate), so that it is executed again after a restart (S4).
#include "core/replica_core.h"

namespace phalanx::pbft {

void Replica::Core::persist(DurableRecord::Type type, SharedBytes bytes) {
  out_.persist.push_back(DurableRecord{type, std::move(bytes)});
}

void Replica::Core::persist_envelope(DurableRecord::Type type, const EnvelopePtr& envelope) {
  persist(type, std::make_shared<const Bytes>(encode(*envelope)));
}

// The first `count` votes matching the slot's digest (the ones its certificate holds).
void Replica::Core::persist_votes(DurableRecord::Type type, Seq seq, const core::Slot& slot,
                                  const std::map<ReplicaId, core::Vote>& votes, std::size_t count) {
  wire::SlotVotes record;
  record.set_view(slot.view);
  record.set_seq(seq);
  record.set_digest(slot.digest.bytes());
  for (const auto& [sender, vote] : votes) {
    if (vote.digest != slot.digest) continue;
    *record.add_votes() = *vote.envelope;
    if (static_cast<std::size_t>(record.votes_size()) == count) break;
  }
  persist(type, std::make_shared<const Bytes>(encode(record)));
}

void Replica::Core::persist_stable_proof() {
  wire::CheckpointCertificate certificate;
  for (const auto& envelope : stable_.proof) *certificate.add_checkpoints() = *envelope;
  persist(DurableRecord::Type::kStableProof, std::make_shared<const Bytes>(encode(certificate)));
}

std::optional<Snapshot> Replica::Core::take_snapshot() {
  snapshot_due_ = false;
  if (!stable_.state) return std::nullopt;  // moved on to a checkpoint we do not hold yet
  wire::CheckpointCertificate proof;
  for (const auto& envelope : stable_.proof) *proof.add_checkpoints() = *envelope;
  return Snapshot{stable_.seq, stable_.digest, stable_.state,
                  std::make_shared<const Bytes>(encode(proof)), live_records()};
}

// Everything durable that still matters above the stable checkpoint, re-stated so that
// the records written before the snapshot can be deleted: what recovery.cc needs to
// rebuild the view, the current view's slots, and every certificate.
std::vector<DurableRecord> Replica::Core::live_records() const {
  std::vector<DurableRecord> records;
  auto add = [&](DurableRecord::Type type, const auto& message) {
    records.push_back(DurableRecord{type, std::make_shared<const Bytes>(encode(message))});
  };
  auto own_or = [&](const wire::Envelope& envelope, DurableRecord::Type other) {
    return envelope.sender() == id_ ? DurableRecord::Type::kSigned : other;
  };
  if (rejoin_) records.push_back(rejoin_record());
  if (view_changing_ && own_view_change_) add(DurableRecord::Type::kSigned, *own_view_change_);
  if (!view_changing_ && new_view_)
    add(own_or(*new_view_, DurableRecord::Type::kNewView), *new_view_);

  for (const auto& [seq, slot] : log_) {
    if (seq <= stable_.seq && seq <= last_executed_) continue;
    if (slot.commit_certificate)
      add(DurableRecord::Type::kCommitCertificate, *slot.commit_certificate);
    if (slot.prepared_certificate) {
      const auto& certificate = *slot.prepared_certificate;
      add(own_or(certificate.pre_prepare(), DurableRecord::Type::kPrePrepare),
          certificate.pre_prepare());
      wire::PrePrepare batch;
      PHALANX_ASSERT(batch.ParseFromString(certificate.pre_prepare().payload()),
                     "certified pre-prepare unparsable");
      wire::SlotVotes votes;
      votes.set_view(batch.view());
      votes.set_seq(batch.seq());
      votes.set_digest(batch.digest());
      *votes.mutable_votes() = certificate.prepares();
      add(DurableRecord::Type::kPrepared, votes);
    }
    if (view_changing_ || !slot.has_pre_prepare()) continue;
    add(own_or(*slot.pre_prepare, DurableRecord::Type::kPrePrepare), *slot.pre_prepare);
    if (auto own = slot.prepares.find(id_); own != slot.prepares.end())
      add(DurableRecord::Type::kSigned, *own->second.envelope);
    if (auto own = slot.commits.find(id_); own != slot.commits.end())
      add(DurableRecord::Type::kSigned, *own->second.envelope);
  }
  return records;
}

}  // namespace phalanx::pbft
