// Checkpoints and garbage collection (PBFT 4.3): every K sequence numbers each replica
// signs the digest of its state; 2f+1 matching CHECKPOINTs make it stable, which moves
// the low watermark and lets the log below it go.
#include "core/replica_core.h"
#include "phalanx/base/byte_io.h"

namespace phalanx::pbft {

namespace {
// The state size that at least f+1 members of a proof report: at least one of them is
// correct, and every correct one reports the true size.
std::uint64_t agreed_state_size(const google::protobuf::RepeatedPtrField<wire::Envelope>& proof,
                                std::uint32_t weak_quorum) {
  std::map<std::uint64_t, std::uint32_t> counts;
  for (const auto& envelope : proof) {
    wire::Checkpoint checkpoint;
    if (checkpoint.ParseFromString(envelope.payload()) &&
        ++counts[checkpoint.state_size()] >= weak_quorum)
      return checkpoint.state_size();
  }
  return 0;
}
}  // namespace

// The checkpointed state: the application's snapshot, the client table (whose last
// replies are part of the replicated state, PBFT 4.3) and the last batch time, in a
// deterministic encoding.
Bytes Replica::Core::checkpoint_state() const {
  return ByteWriter()
      .large_field(app_.snapshot())
      .large_field(clients_.serialize())
      .u64(batch_time_)
      .take();
}

bool Replica::Core::restore_checkpoint_state(ByteView state, std::string& problem) {
  ByteReader reader(state);
  auto application = reader.large_field();
  auto table = reader.large_field();
  auto time = reader.u64();
  if (!application || !table || !time || !reader.done()) {
    problem = "malformed state";
    return false;
  }
  if (Status restored = app_.restore(*application); !restored.ok()) {
    problem = "the application cannot restore it: " + restored.error().message;
    return false;
  }
  if (Status restored = clients_.restore(*table); !restored.ok()) {
    problem = "client table: " + restored.error().message;
    return false;
  }
  batch_time_ = *time;
  return true;
}

void Replica::Core::take_checkpoint() {
  Seq seq = last_executed_;
  auto state = std::make_shared<const Bytes>(checkpoint_state());
  core::MerkleTree tree(*state, options_.state_chunk_bytes);
  own_checkpoints_[seq] = CheckpointState{seq, tree.root(), state};

  wire::Checkpoint checkpoint;
  checkpoint.set_seq(seq);
  checkpoint.set_state_digest(tree.root().bytes());
  checkpoint.set_state_size(state->size());
  auto envelope = publish(wire::CHECKPOINT, encode(checkpoint));
  if (seq <= stable_.seq) {
    // Already certified by others (we were catching up by the log): now we hold its
    // state, to serve to others and to make durable.
    if (seq == stable_.seq && !stable_.state && tree.root() == stable_.digest) {
      stable_.state = state;
      request_snapshot();
    }
    return;
  }
  record_vote(checkpoint_votes_[seq], id_, tree.root(), envelope, state->size());
  check_stable(seq);
}

void Replica::Core::on_checkpoint(const Message& message) {
  const auto& checkpoint = std::get<wire::Checkpoint>(message.body);
  Seq seq = checkpoint.seq();
  if (seq <= stable_.seq) return;  // old news
  if (seq % options_.checkpoint_interval != 0) return drop("checkpoint off the interval");
  // Votes far above the window would let a peer make us hold unbounded state; a replica
  // that far behind learns of the stable checkpoint from a certificate instead.
  if (seq > stable_.seq + 2 * window_) return drop("checkpoint far above the window");
  record_vote(checkpoint_votes_[seq], message.sender,
              *crypto::Digest::from_bytes(checkpoint.state_digest()), message.envelope,
              checkpoint.state_size());
  check_stable(seq);
}

void Replica::Core::check_stable(Seq seq) {
  const auto& votes = checkpoint_votes_[seq];
  for (const auto& [sender, candidate] : votes) {
    std::vector<EnvelopePtr> proof;
    for (const auto& [other, vote] : votes)
      if (vote.digest == candidate.digest && vote.state_size == candidate.state_size)
        proof.push_back(vote.envelope);
    if (proof.size() >= quorums_.quorum()) {
      proof.resize(quorums_.quorum());
      return make_stable(seq, candidate.digest, candidate.state_size, std::move(proof));
    }
  }
}

void Replica::Core::on_checkpoint_certificate(const Message& message) {
  const auto& certificate = std::get<wire::CheckpointCertificate>(message.body);
  wire::Checkpoint first;
  PHALANX_ASSERT(first.ParseFromString(certificate.checkpoints(0).payload()),
                 "verified checkpoint unparsable");
  if (first.seq() <= stable_.seq) return;
  if (first.seq() % options_.checkpoint_interval != 0) return drop("checkpoint off the interval");
  std::vector<EnvelopePtr> proof;
  for (const auto& envelope : certificate.checkpoints())
    proof.push_back(std::make_shared<const wire::Envelope>(envelope));
  make_stable(first.seq(), *crypto::Digest::from_bytes(first.state_digest()),
              agreed_state_size(certificate.checkpoints(), quorums_.weak()), std::move(proof));
}

void Replica::Core::make_stable(Seq seq, const crypto::Digest& digest, std::uint64_t state_size,
                                std::vector<EnvelopePtr> proof) {
  PHALANX_ASSERT(seq > stable_.seq, "stable checkpoint going backwards");
  PHALANX_ASSERT(proof.size() >= quorums_.quorum(), "stable checkpoint without a quorum");
  bool was_behind = stable_.seq > last_executed_;
  // The checkpoint it replaces stays servable (and its log kept) for peers whose
  // transfer of it is under way; an older one goes.
  if (stable_.state) previous_ = ServedState{stable_.seq, stable_.state, std::move(stable_tree_)};
  stable_ = StableCheckpoint{seq, digest, state_size, std::move(proof), nullptr};
  stable_tree_.reset();
  if (auto own = own_checkpoints_.find(seq); own != own_checkpoints_.end()) {
    if (own->second.digest == digest) {
      stable_.state = own->second.state;
      request_snapshot();
    } else {
      // 2f+1 replicas certified another state than ours: our application is not
      // deterministic, or we are faulty. Say so loudly; the checker reports the divergence.
      event(Event::Type::kStateDiverged, seq, "own state digest differs from the certified one");
    }
  }
  // Without the state, the proof alone is kept: after a restart this replica still knows
  // it is behind, and how far.
  if (!stable_.state) persist_stable_proof();
  // Behind since the first checkpoint we could not reach, so that a fast-moving cluster
  // does not postpone our state transfer for ever.
  if (last_executed_ < seq && !was_behind) behind_since_ = now_;
  // A transfer of the checkpoint one interval below goes on: it is the previous stable
  // checkpoint of the peers, who still serve it and its log. Of an older one, they have
  // dropped both: start over with this one.
  if (fetch_ && seq > fetch_->seq + options_.checkpoint_interval) fetch_.reset();
  update_request_timer();  // a replica now behind stops suspecting the primary
  event(Event::Type::kCheckpointStable, seq, digest.short_hex());
  collect_garbage();
  try_propose();  // the window moved
}

// Above the previous stable checkpoint (and at most a window below the stable one).
Seq Replica::Core::retained_floor() const {
  Seq floor = previous_ ? previous_->seq : stable_.seq;
  return std::max(floor, stable_.seq > window_ ? stable_.seq - window_ : Seq{0});
}

void Replica::Core::collect_garbage() {
  // Slots at or below the stable checkpoint are settled. Keep those this replica still
  // has to execute, and no more than a window of them (further behind, it fetches the
  // state instead); and the committed ones above the previous checkpoint, for peers
  // that catch up from there (state_transfer.cc).
  if (previous_ && previous_->seq + window_ < stable_.seq) previous_.reset();  // a jump
  for (auto it = log_.begin(); it != log_.end() && it->first <= stable_.seq;) {
    bool still_needed = it->first > last_executed_ && it->first <= last_executed_ + window_;
    bool retained =
        it->second.committed && it->first > retained_floor() && it->first <= last_executed_;
    it = still_needed || retained ? std::next(it) : log_.erase(it);
  }
  checkpoint_votes_.erase(checkpoint_votes_.begin(), checkpoint_votes_.upper_bound(stable_.seq));
  evidence_.forget_below(stable_.seq, view_);
  own_checkpoints_.erase(own_checkpoints_.begin(), own_checkpoints_.upper_bound(stable_.seq));
  view_changes_.erase(view_changes_.begin(), view_changes_.lower_bound(view_));
}

}  // namespace phalanx::pbft
