// Recovery after a restart: the replica is rebuilt from its last durable snapshot and the
// records written after it (durability.cc says what they are and why each is there).
//
// What comes back, and why it suffices:
// - the stable checkpoint, its proof and its state (the application is restored from it);
//   a later stable checkpoint known only by its proof, when the replica was behind;
// - every committed batch above the snapshot, with its certificate: they are executed
//   again, in order, so no result a client accepted is lost (S4);
// - every prepared certificate, for the view changes to come (PBFT 4.4);
// - the view, and whether it was changing: our own VIEW-CHANGE for it, or the NEW-VIEW
//   that started it;
// - in the current view, each slot's pre-prepare and our own PREPARE and COMMIT for it,
//   so that we never sign a different one for that (view, seq); a primary continues
//   numbering after the last pre-prepare it signed.
// What is lost is volatile on purpose: pending requests (clients retransmit), votes of
// others not in a certificate (peers retransmit them), timers (they start afresh).
#include <tuple>

#include "core/new_view_plan.h"
#include "core/replica_core.h"
#include "phalanx/base/byte_io.h"

namespace phalanx::pbft {

namespace {

using EnvelopePtr = core::EnvelopePtr;

template <typename Proto>
bool parse(ByteView bytes, Proto& out) {
  return out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

struct Parsed {
  EnvelopePtr envelope;
  std::shared_ptr<const wire::PrePrepare> batch;  // for pre-prepares
};

using SlotKey = std::pair<View, Seq>;
using BatchKey = std::tuple<View, Seq, crypto::Digest>;

}  // namespace

class Replica::Core::Recovery {
 public:
  explicit Recovery(Core& core) : core_(core) {}

  Status run(const DurableState& state) {
    if (state.snapshot) {
      if (Status restored = restore_snapshot(*state.snapshot); !restored.ok()) return restored;
    }
    for (std::size_t index = 0; index < state.records.size(); ++index) {
      Status indexed = index_record(state.records[index]);
      if (!indexed.ok())
        return Error{"durable record " + std::to_string(index) + " (" +
                     std::string(to_string(state.records[index].type)) +
                     "): " + indexed.error().message};
    }
    restore_stable_proof();
    if (Status view = restore_view(); !view.ok()) return view;
    if (Status slots = restore_slots(); !slots.ok()) return slots;
    restore_numbering();
    // Still rejoining when it crashed: it still may not vote (rejoin.cc).
    if (rejoin_) {
      core_.rejoin_ = RejoinGuard{core_.now_, {}, std::nullopt};
      if (*rejoin_ > 0) core_.rejoin_->horizon = *rejoin_;
    }
    remember_signatures();
    core_.execute_ready();
    resume_votes();
    core_.collect_garbage();
    return ok_status();
  }

 private:
  // --- the snapshot -------------------------------------------------------------------

  Status restore_snapshot(const Snapshot& snapshot) {
    if (!snapshot.state)
      return Error{"snapshot at seq " + std::to_string(snapshot.seq) + " has no state"};
    core::MerkleTree tree(*snapshot.state, core_.options_.state_chunk_bytes);
    if (tree.root() != snapshot.digest)
      return Error{"snapshot at seq " + std::to_string(snapshot.seq) +
                   ": its state does not match its digest"};
    if (std::string problem; !core_.restore_checkpoint_state(*snapshot.state, problem))
      return Error{"snapshot at seq " + std::to_string(snapshot.seq) + ": " + problem};

    std::vector<EnvelopePtr> proof;
    if (snapshot.seq > 0) {
      wire::CheckpointCertificate certificate;
      if (!snapshot.proof || !parse(*snapshot.proof, certificate) ||
          static_cast<std::uint32_t>(certificate.checkpoints_size()) < core_.quorums_.quorum())
        return Error{"snapshot at seq " + std::to_string(snapshot.seq) + ": bad proof"};
      for (const auto& envelope : certificate.checkpoints())
        proof.push_back(std::make_shared<const wire::Envelope>(envelope));
    }
    core_.stable_ = StableCheckpoint{snapshot.seq, snapshot.digest, snapshot.state->size(),
                                     std::move(proof), snapshot.state};
    core_.last_executed_ = snapshot.seq;
    core_.next_seq_ = snapshot.seq;
    return ok_status();
  }

  // --- reading the records ----------------------------------------------------------

  Status index_record(const DurableRecord& record) {
    if (!record.bytes) return Error{"no bytes"};
    switch (record.type) {
      case DurableRecord::Type::kSigned:
        return index_signed(*record.bytes);
      case DurableRecord::Type::kPrePrepare: {
        wire::Envelope envelope;
        if (!parse(*record.bytes, envelope) || envelope.kind() != wire::PRE_PREPARE)
          return Error{"not a pre-prepare"};
        return index_pre_prepare(std::make_shared<const wire::Envelope>(std::move(envelope)));
      }
      case DurableRecord::Type::kNewView: {
        wire::Envelope envelope;
        if (!parse(*record.bytes, envelope) || envelope.kind() != wire::NEW_VIEW)
          return Error{"not a new view"};
        return index_new_view(std::make_shared<const wire::Envelope>(std::move(envelope)));
      }
      case DurableRecord::Type::kPrepared:
      case DurableRecord::Type::kCommitted: {
        wire::SlotVotes votes;
        if (!parse(*record.bytes, votes) || !crypto::Digest::from_bytes(votes.digest()))
          return Error{"malformed slot votes"};
        auto& target = record.type == DurableRecord::Type::kPrepared ? prepared_ : committed_;
        auto [it, inserted] = target.try_emplace(votes.seq(), votes);
        if (!inserted && votes.view() > it->second.view()) it->second = std::move(votes);
        return ok_status();
      }
      case DurableRecord::Type::kCommitCertificate: {
        wire::CommitCertificate certificate;
        if (!parse(*record.bytes, certificate)) return Error{"malformed commit certificate"};
        auto parsed = parse_pre_prepare(certificate.pre_prepare());
        if (!parsed.batch) return Error{"commit certificate without a pre-prepare"};
        certificates_.try_emplace(parsed.batch->seq(), std::move(certificate));
        return ok_status();
      }
      case DurableRecord::Type::kRejoin: {
        ByteReader reader(*record.bytes);
        auto horizon = reader.u64();
        auto done = reader.u64();
        if (!horizon || !done || !reader.done() || *done > 1)
          return Error{"malformed rejoin record"};
        rejoin_ = *done ? std::nullopt : std::optional<Seq>(*horizon);
        return ok_status();
      }
      case DurableRecord::Type::kStableProof: {
        wire::CheckpointCertificate certificate;
        wire::Checkpoint first;
        if (!parse(*record.bytes, certificate) || certificate.checkpoints_size() == 0 ||
            !parse(certificate.checkpoints(0).payload(), first))
          return Error{"malformed stable proof"};
        if (first.seq() > stable_proof_seq_) {
          stable_proof_seq_ = first.seq();
          stable_proof_ = std::move(certificate);
        }
        return ok_status();
      }
    }
    return Error{"unknown record type"};
  }

  Status index_signed(ByteView bytes) {
    wire::Envelope decoded;
    if (!parse(bytes, decoded)) return Error{"not an envelope"};
    if (decoded.sender() != core_.id_)
      return Error{"signed by replica " + std::to_string(decoded.sender()) + ", not by us"};
    auto envelope = std::make_shared<const wire::Envelope>(std::move(decoded));
    switch (envelope->kind()) {
      case wire::PRE_PREPARE:
        return index_pre_prepare(envelope);
      case wire::NEW_VIEW:
        return index_new_view(envelope);
      case wire::PREPARE:
      case wire::COMMIT: {
        wire::Prepare vote;  // PREPARE and COMMIT share their field numbers
        if (!parse(envelope->payload(), vote)) return Error{"malformed vote"};
        auto& votes = envelope->kind() == wire::PREPARE ? own_prepares_ : own_commits_;
        votes.try_emplace(SlotKey{vote.view(), vote.seq()}, envelope);
        return ok_status();
      }
      case wire::VIEW_CHANGE: {
        wire::ViewChange view_change;
        if (!parse(envelope->payload(), view_change)) return Error{"malformed view change"};
        own_view_changes_.try_emplace(view_change.new_view(), envelope);
        return ok_status();
      }
      case wire::CHECKPOINT:
        return ok_status();  // taken again when the state is reached
      default:
        return Error{"a kind that is never made durable"};
    }
  }

  Parsed parse_pre_prepare(const wire::Envelope& envelope) {
    auto batch = std::make_shared<wire::PrePrepare>();
    if (envelope.kind() != wire::PRE_PREPARE || !parse(envelope.payload(), *batch) ||
        !crypto::Digest::from_bytes(batch->digest()))
      return {};
    return Parsed{std::make_shared<const wire::Envelope>(envelope), std::move(batch)};
  }

  // The first pre-prepare seen for a (view, seq) is the one this replica accepted then.
  Status index_pre_prepare(const EnvelopePtr& envelope) {
    Parsed parsed = parse_pre_prepare(*envelope);
    if (!parsed.batch) return Error{"malformed pre-prepare"};
    parsed.envelope = envelope;
    const wire::PrePrepare& batch = *parsed.batch;
    auto digest = *crypto::Digest::from_bytes(batch.digest());
    by_digest_.try_emplace(BatchKey{batch.view(), batch.seq(), digest}, parsed);
    first_.try_emplace(SlotKey{batch.view(), batch.seq()}, parsed);
    if (envelope->sender() == core_.id_)
      own_proposed_[batch.view()] = std::max(own_proposed_[batch.view()], batch.seq());
    return ok_status();
  }

  Status index_new_view(const EnvelopePtr& envelope) {
    wire::NewView new_view;
    if (!parse(envelope->payload(), new_view)) return Error{"malformed new view"};
    for (const auto& pre_prepare : new_view.pre_prepares()) {
      Status indexed = index_pre_prepare(std::make_shared<const wire::Envelope>(pre_prepare));
      if (!indexed.ok()) return indexed;
    }
    new_views_.try_emplace(new_view.view(), envelope);
    return ok_status();
  }

  // --- rebuilding -----------------------------------------------------------------------

  // A stable checkpoint above the snapshot, known by its proof only: the replica was
  // behind it and will fetch its state (or reach it by executing the log).
  void restore_stable_proof() {
    if (stable_proof_seq_ <= core_.stable_.seq) return;
    wire::Checkpoint first;
    PHALANX_ASSERT(parse(stable_proof_.checkpoints(0).payload(), first), "parsed before");
    std::vector<EnvelopePtr> proof;
    std::map<std::uint64_t, std::uint32_t> sizes;
    std::uint64_t state_size = 0;
    for (const auto& envelope : stable_proof_.checkpoints()) {
      proof.push_back(std::make_shared<const wire::Envelope>(envelope));
      wire::Checkpoint member;
      if (parse(envelope.payload(), member) &&
          ++sizes[member.state_size()] >= core_.quorums_.weak())
        state_size = member.state_size();
    }
    core_.stable_ =
        StableCheckpoint{stable_proof_seq_, *crypto::Digest::from_bytes(first.state_digest()),
                         state_size, std::move(proof), nullptr};
    core_.behind_since_ = core_.now_;
  }

  Status restore_view() {
    View view = 0;
    for (const auto& [target, envelope] : own_view_changes_) view = std::max(view, target);
    for (const auto& [target, envelope] : new_views_) view = std::max(view, target);
    for (const auto& [key, parsed] : first_)
      if (parsed.envelope->sender() == core_.id_) view = std::max(view, key.first);
    for (const auto* votes : {&own_prepares_, &own_commits_})
      for (const auto& [key, envelope] : *votes) view = std::max(view, key.first);

    auto new_view = new_views_.find(view);
    auto view_change = own_view_changes_.find(view);
    core_.view_ = view;
    core_.view_changing_ = new_view == new_views_.end() && view_change != own_view_changes_.end();
    if (view > 0 && !core_.view_changing_ && new_view == new_views_.end())
      return Error{"voted in view " + std::to_string(view) + " without its NEW-VIEW"};
    if (core_.view_changing_) {
      core_.own_view_change_ = view_change->second;
      auto body = std::make_shared<wire::ViewChange>();
      PHALANX_ASSERT(parse(view_change->second->payload(), *body), "parsed before");
      core_.store_view_change(core_.id_, ViewChangeRecord{view_change->second, std::move(body)});
    } else if (view > 0) {
      core_.new_view_ = new_view->second;
    }
    return ok_status();
  }

  Status restore_slots() {
    std::set<Seq> seqs;
    for (const auto& [seq, votes] : committed_) seqs.insert(seq);
    for (const auto& [seq, certificate] : certificates_) seqs.insert(seq);
    for (const auto& [seq, votes] : prepared_) seqs.insert(seq);
    for (const auto& [key, parsed] : first_)
      if (key.first == core_.view_) seqs.insert(key.second);

    for (Seq seq : seqs) {
      if (seq <= core_.last_executed_ || seq > core_.stable_.seq + core_.window_) continue;
      bool committed = committed_.count(seq) || certificates_.count(seq);
      // Below a stable checkpoint only batches still to execute matter.
      if (seq <= core_.stable_.seq && (!committed || seq > core_.last_executed_ + core_.window_))
        continue;
      core::Slot& slot = core_.log_[seq];
      slot.begin_view(core_.view_, core_.now_);
      if (Status done = restore_committed(seq, slot); !done.ok()) return done;
      if (Status done = restore_prepared(seq, slot); !done.ok()) return done;
      if (Status done = restore_current_view(seq, slot); !done.ok()) return done;
    }
    return ok_status();
  }

  Status restore_committed(Seq seq, core::Slot& slot) {
    wire::CommitCertificate certificate;
    if (auto found = certificates_.find(seq); found != certificates_.end()) {
      certificate = found->second;
    } else if (auto votes = committed_.find(seq); votes != committed_.end()) {
      const Parsed* batch = find_batch(votes->second);
      if (!batch) return missing_pre_prepare("committed", votes->second);
      *certificate.mutable_pre_prepare() = *batch->envelope;
      *certificate.mutable_commits() = votes->second.votes();
    } else {
      return ok_status();
    }
    Parsed parsed = parse_pre_prepare(certificate.pre_prepare());
    slot.committed = true;
    slot.committed_at = core_.now_;
    slot.committed_batch = parsed.batch;
    slot.commit_certificate = std::move(certificate);
    return ok_status();
  }

  Status restore_prepared(Seq seq, core::Slot& slot) {
    auto votes = prepared_.find(seq);
    if (votes == prepared_.end()) return ok_status();
    const Parsed* batch = find_batch(votes->second);
    if (!batch) return missing_pre_prepare("prepared", votes->second);
    wire::PreparedCertificate certificate;
    *certificate.mutable_pre_prepare() = *batch->envelope;
    *certificate.mutable_prepares() = votes->second.votes();
    slot.prepared_certificate = std::move(certificate);
    return ok_status();
  }

  // The slot's state in the view we are in: what we accepted and what we signed.
  Status restore_current_view(Seq seq, core::Slot& slot) {
    if (core_.view_changing_) return ok_status();
    auto accepted = first_.find(SlotKey{core_.view_, seq});
    if (accepted == first_.end()) {
      if (own_prepares_.count(SlotKey{core_.view_, seq}) ||
          own_commits_.count(SlotKey{core_.view_, seq}))
        return Error{"voted at view " + std::to_string(core_.view_) + " seq " +
                     std::to_string(seq) + " without the pre-prepare"};
      return ok_status();
    }
    slot.pre_prepare = accepted->second.envelope;
    slot.batch = accepted->second.batch;
    slot.digest = *crypto::Digest::from_bytes(slot.batch->digest());
    for (auto [votes, own, kind] : {std::tuple{&slot.prepares, &own_prepares_, "prepare"},
                                    std::tuple{&slot.commits, &own_commits_, "commit"}}) {
      auto found = own->find(SlotKey{core_.view_, seq});
      if (found == own->end()) continue;
      wire::Prepare vote;
      PHALANX_ASSERT(parse(found->second->payload(), vote), "parsed before");
      if (*crypto::Digest::from_bytes(vote.digest()) != slot.digest)
        return Error{std::string("our ") + kind + " at view " + std::to_string(core_.view_) +
                     " seq " + std::to_string(seq) + " is for another batch than our pre-prepare"};
      (*votes)[core_.id_] = core::Vote{slot.digest, found->second};
    }
    slot.commit_sent = slot.commits.count(core_.id_) != 0;
    if (auto prepared = prepared_.find(seq); prepared != prepared_.end() &&
                                             prepared->second.view() == core_.view_ &&
                                             prepared->second.digest() == slot.batch->digest()) {
      slot.prepared = true;
      for (const auto& envelope : prepared->second.votes())
        slot.prepares.try_emplace(
            envelope.sender(),
            core::Vote{slot.digest, std::make_shared<const wire::Envelope>(envelope)});
    }
    return ok_status();
  }

  // What others signed that came back from disk goes into the evidence ledger, so that a
  // primary that equivocates across our restart is still caught.
  void remember_signatures() {
    for (const auto& [key, parsed] : by_digest_)
      if (parsed.envelope->sender() != core_.id_) core_.evidence_.observe(parsed.envelope);
    for (const auto* votes : {&prepared_, &committed_})
      for (const auto& [seq, record] : *votes)
        for (const auto& vote : record.votes()) core_.observe_nested(vote);
  }

  // A primary goes on numbering after the last pre-prepare it signed in its view, and
  // after the re-proposals of the NEW-VIEW that started it (enter_new_view's rule).
  void restore_numbering() {
    Seq next = std::max(core_.next_seq_, core_.last_executed_);
    if (auto own = own_proposed_.find(core_.view_); own != own_proposed_.end())
      next = std::max(next, own->second);
    if (core_.new_view_ && !core_.view_changing_) {
      wire::NewView new_view;
      PHALANX_ASSERT(parse(core_.new_view_->payload(), new_view), "parsed before");
      std::vector<wire::ViewChange> bodies(new_view.view_changes_size());
      std::vector<const wire::ViewChange*> chosen;
      for (int i = 0; i < new_view.view_changes_size(); ++i) {
        if (parse(new_view.view_changes(i).payload(), bodies[i])) chosen.push_back(&bodies[i]);
      }
      core::NewViewPlan plan = core::plan_new_view(chosen, core_.window_);
      next = std::max(next, plan.reproposals.empty() ? plan.min_s : plan.reproposals.back().seq);
    }
    core_.next_seq_ = next;
  }

  // Votes the replica would have cast had it not crashed between persisting a slot's
  // progress and signing: a PREPARE for an accepted pre-prepare, a COMMIT for a prepared
  // slot. Safe (they agree with what it accepted), and it spares a view change. Not a
  // PREPARE for a batch with a MAC client's request this replica cannot vouch for: it kept
  // such a batch without preparing it, and must not prepare it now (authenticators.h). (A
  // NEW-VIEW's re-proposal would not need the check; missing its PREPARE only costs time.)
  void resume_votes() {
    if (core_.view_changing_) return;
    for (auto& [seq, slot] : core_.log_) {
      if (!slot.has_pre_prepare() || slot.committed || seq <= core_.last_executed_) continue;
      if (!core_.is_primary() && !slot.prepares.count(core_.id_) &&
          unvouched_requests(*slot.batch, core_.verifier_).empty())
        core_.cast_vote(wire::PREPARE, seq, slot);
      if (slot.prepared && !slot.commit_sent) core_.cast_vote(wire::COMMIT, seq, slot);
    }
  }

  const Parsed* find_batch(const wire::SlotVotes& votes) const {
    auto found = by_digest_.find(
        BatchKey{votes.view(), votes.seq(), *crypto::Digest::from_bytes(votes.digest())});
    return found == by_digest_.end() ? nullptr : &found->second;
  }

  static Error missing_pre_prepare(std::string_view what, const wire::SlotVotes& votes) {
    return Error{std::string(what) + " at view " + std::to_string(votes.view()) + " seq " +
                 std::to_string(votes.seq()) + " but its pre-prepare is not durable"};
  }

  Core& core_;
  std::map<BatchKey, Parsed> by_digest_;  // every pre-prepare held, by what it proposes
  std::map<SlotKey, Parsed> first_;       // the first pre-prepare held for a (view, seq)
  std::map<View, Seq> own_proposed_;      // highest seq we proposed, per view
  std::map<SlotKey, EnvelopePtr> own_prepares_;
  std::map<SlotKey, EnvelopePtr> own_commits_;
  std::map<View, EnvelopePtr> own_view_changes_;
  std::map<View, EnvelopePtr> new_views_;    // ours and accepted ones
  std::map<Seq, wire::SlotVotes> prepared_;  // the highest view's, per seq
  std::map<Seq, wire::SlotVotes> committed_;
  std::map<Seq, wire::CommitCertificate> certificates_;
  wire::CheckpointCertificate stable_proof_;
  Seq stable_proof_seq_ = 0;
  std::optional<Seq> rejoin_;  // the last rejoin record, if it was not "done": its horizon
};

Result<Actions> Replica::Core::recover(const DurableState& state, Instant now) {
  PHALANX_ASSERT(!recovered_, "recover() is called once, before any other input");
  PHALANX_ASSERT(!rejoin_, "a rejoining replica has no durable state to recover");
  rejoin_record_due_ = false;
  begin_step(now);
  Status rebuilt = Recovery(*this).run(state);
  if (!rebuilt.ok()) {
    out_ = Actions{};
    return Error{"recovery failed: " + rebuilt.error().message};
  }
  event(Event::Type::kRecovered, last_executed_,
        "view " + std::to_string(view_) + (view_changing_ ? " (changing)" : ""));
  return end_step();
}

}  // namespace phalanx::pbft
