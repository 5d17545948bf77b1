// Retransmission (PBFT 5.2, in the manner of the thesis' status messages): every status
// interval each replica tells the others where it is; a peer that has more answers with
// what the sender lacks, bounded per status. Nothing relies on a lucky network.
#include "core/replica_core.h"

namespace phalanx::pbft {

void Replica::Core::broadcast_status() {
  wire::Status status;
  status.set_view(view_);
  status.set_view_changing(view_changing_);
  status.set_last_executed(last_executed_);
  status.set_stable_seq(stable_.seq);
  send(sign(wire::STATUS, encode(status)), std::nullopt);
  next_status_at_ = now_ + options_.status_interval;
}

void Replica::Core::on_status(const Message& message) {
  const auto& status = std::get<wire::Status>(message.body);
  ReplicaId peer = message.sender;
  if (peer == id_) return;
  peers_[peer] = PeerPosition{status.view(), status.view_changing(), status.last_executed()};
  note_peer_status(peer);
  update_request_timer();
  if (status.stable_seq() < stable_.seq && !stable_.proof.empty()) {
    wire::CheckpointCertificate certificate;
    for (const auto& envelope : stable_.proof) *certificate.add_checkpoints() = *envelope;
    send(sign(wire::CHECKPOINT_CERTIFICATE, encode(certificate)), peer);
  }
  // Our checkpoint votes above the peer's stable checkpoint: without them a lost
  // CHECKPOINT would leave the checkpoint unstable and the window full for ever.
  for (auto it = checkpoint_votes_.upper_bound(status.stable_seq()); it != checkpoint_votes_.end();
       ++it)
    if (auto own = it->second.find(id_); own != it->second.end()) send(own->second.envelope, peer);
  // A peer behind our view missed the NEW-VIEW that started it; a peer still changing
  // views (or behind) while we are changing too may need our VIEW-CHANGE to reach 2f+1.
  bool peer_behind = status.view() < view_ ||
                     (status.view() == view_ && status.view_changing() && !view_changing_);
  if (peer_behind && !view_changing_ && new_view_) send(new_view_, peer);
  if (view_changing_ && own_view_change_ && status.view() <= view_) send(own_view_change_, peer);
  retransmit_slots_to(peer, status.last_executed());
}

// Sends `peer` what it needs for the slots above `after`: a commit certificate for each
// slot committed here (valid in any view), and for slots still in progress in our common
// view, the pre-prepare and our own votes. Only slots older than a status interval: the
// younger ones are still on their way.
//
// Commit certificates go only to a peer that can execute them: from its next sequence
// number on, contiguous, within a window of it. To a peer further behind than our log
// reaches they would be dropped (it must fetch the state), and they carry whole batches.
void Replica::Core::retransmit_slots_to(ReplicaId peer, Seq after) {
  std::size_t sent = 0;
  const bool contiguous = log_.count(after + 1) != 0;
  for (auto it = log_.upper_bound(after); it != log_.end() && sent < options_.retransmit_slots_max;
       ++it) {
    const core::Slot& slot = it->second;
    if (slot.committed) {
      if (!contiguous || it->first > after + window_) continue;
      if (now_ < slot.committed_at + options_.status_interval) continue;
      wire::CommitCertificate certificate = *slot.commit_certificate;
      send(sign(wire::COMMIT_CERTIFICATE, encode(certificate)), peer);
      ++sent;
      continue;
    }
    if (view_changing_ || slot.view != view_ || !slot.has_pre_prepare()) continue;
    if (now_ < slot.touched_at + options_.status_interval) continue;
    send(slot.pre_prepare, peer);
    if (auto own = slot.prepares.find(id_); own != slot.prepares.end())
      send(own->second.envelope, peer);
    if (auto own = slot.commits.find(id_); own != slot.commits.end())
      send(own->second.envelope, peer);
    ++sent;
  }
}

void Replica::Core::on_commit_certificate(const Message& message) {
  const auto& certificate = std::get<wire::CommitCertificate>(message.body);
  auto batch = std::make_shared<wire::PrePrepare>();
  PHALANX_ASSERT(batch->ParseFromString(certificate.pre_prepare().payload()),
                 "verified pre-prepare unparsable");
  Seq seq = batch->seq();
  if (seq <= last_executed_) return;
  // Below the stable checkpoint too: a replica that fetched the previous checkpoint's
  // state catches up from there by the log (state_transfer.cc).
  if (seq > stable_.seq + window_) return drop("commit certificate above the watermarks");
  if (seq <= stable_.seq && seq > last_executed_ + window_)
    return drop("commit certificate too far ahead to execute");
  core::Slot& slot = slot_at(seq);
  if (slot.committed) return;
  // 2f+1 signed commits: at least f+1 correct replicas prepared this batch, so no other
  // batch can commit at this sequence number in any view (PBFT 4.4); executing it is safe.
  // (A pre-prepare in it that contradicts ours was reported by the ledger on arrival.)
  // Durable before the batch's replies leave (S4); kept whole, pre-prepare included.
  persist(DurableRecord::Type::kCommitCertificate,
          std::make_shared<const Bytes>(message.envelope->payload()));
  mark_committed(slot, std::move(batch), certificate);
}

}  // namespace phalanx::pbft
