// Replica: the public facade, dispatch of inputs, timers, and the plumbing every part of
// the protocol uses to sign, persist and send.
#include "phalanx/pbft/replica.h"

#include "core/replica_core.h"

namespace phalanx::pbft {

// --- facade ---------------------------------------------------------------------------

Replica::Replica(ReplicaSetup setup, Application& application, Instant now)
    : core_(std::make_unique<Core>(std::move(setup), application, now)) {}
Replica::~Replica() = default;
Actions Replica::on_message(const Message& message, Instant now) {
  return core_->on_message(message, now);
}
Actions Replica::on_tick(Instant now) {
  return core_->on_tick(now);
}
Result<Actions> Replica::recover(const DurableState& state, Instant now) {
  return core_->recover(state, now);
}
Instant Replica::next_deadline() const {
  return core_->next_deadline();
}
ReplicaStatus Replica::status() const {
  return core_->status();
}
void Replica::note_backlog(bool behind, Instant now) {
  core_->note_backlog(behind, now);
}
ReplicaId Replica::id() const {
  return core_->id();
}
void Replica::check_invariants() const {
  core_->check_invariants();
}

// --- core ---------------------------------------------------------------------------

Replica::Core::Core(ReplicaSetup setup, Application& application, Instant now)
    : verifier_(std::move(setup.verifier)),
      quorums_(verifier_.quorums()),
      id_(setup.id),
      signer_(std::move(setup.key)),
      options_(setup.options),
      window_(setup.options.window()),
      app_(application),
      wall_clock_(std::move(setup.wall_clock)),
      clients_(setup.options.client_table_max),
      evidence_(quorums_.n * (4 * window_ + 16)),
      timeouts_(setup.options),
      monitor_(setup.options),
      now_(now),
      next_status_at_(now + setup.options.status_interval) {
  PHALANX_ASSERT(quorums_.n >= 4 && quorums_.n == 3 * quorums_.f() + 1,
                 "a cluster has n = 3f+1 replicas, f >= 1");
  PHALANX_ASSERT(id_ < quorums_.n, "replica id out of range");
  PHALANX_ASSERT(verifier_.replica_keys[id_] == signer_.public_key(),
                 "the secret key does not match this replica's public key in the config");
  PHALANX_ASSERT(options_.checkpoint_interval > 0 && options_.window_checkpoints >= 2,
                 "the log window must hold at least two checkpoint intervals");
  PHALANX_ASSERT(options_.batch_requests_max > 0 &&
                     options_.batch_requests_max <= verifier_.limits.batch_requests_max,
                 "batch size must be within the wire limit");
  PHALANX_ASSERT(!batch_times_on() || wall_clock_, "batch times need ReplicaSetup::wall_clock");
  // The state at sequence number 0 is the application's initial state, certified by
  // every correct replica starting from it; it needs no proof.
  stable_.state = std::make_shared<const Bytes>(checkpoint_state());
  core::MerkleTree tree(*stable_.state, options_.state_chunk_bytes);
  stable_.digest = tree.root();
  stable_.state_size = stable_.state->size();
  if (setup.rejoin) {
    rejoin_ = RejoinGuard{now, {}, std::nullopt};
    rejoin_record_due_ = true;
  }
}

Actions Replica::Core::on_message(const Message& message, Instant now) {
  begin_step(now);
  // Our own signature on a message that comes back (a replayer's copy): nothing in it is
  // news, and answering it would be answering ourselves.
  if (message.kind != wire::REQUEST && message.sender == id_) {
    drop("a message this replica signed came back");
    return end_step();
  }
  observe_signed(message);
  switch (message.kind) {
    case wire::REQUEST:
      on_request(message);
      break;
    case wire::PRE_PREPARE:
      on_pre_prepare(message);
      break;
    case wire::PREPARE:
      on_prepare(message);
      break;
    case wire::COMMIT:
      on_commit(message);
      break;
    case wire::CHECKPOINT:
      on_checkpoint(message);
      break;
    case wire::VIEW_CHANGE:
      on_view_change(message);
      break;
    case wire::NEW_VIEW:
      on_new_view(message);
      break;
    case wire::STATUS:
      on_status(message);
      break;
    case wire::COMMIT_CERTIFICATE:
      on_commit_certificate(message);
      break;
    case wire::CHECKPOINT_CERTIFICATE:
      on_checkpoint_certificate(message);
      break;
    case wire::FETCH_STATE:
      on_fetch_state(message);
      break;
    case wire::STATE_CHUNK:
      on_state_chunk(message);
      break;
    default:
      drop("kind a replica does not handle");
      break;
  }
  return end_step();
}

Actions Replica::Core::on_tick(Instant now) {
  begin_step(now);
  if (now_ >= next_status_at_) broadcast_status();
  update_rejoin();
  relay_due_requests();
  if (view_timer_ && now_ >= *view_timer_) on_view_timer();
  try_propose();
  maybe_start_state_transfer();
  expire_fetch_peers();
  return end_step();
}

Instant Replica::Core::next_deadline() const {
  Instant deadline = next_status_at_;
  if (view_timer_) deadline = std::min(deadline, *view_timer_);
  if (fetch_) deadline = std::min(deadline, fetch_deadline());
  if (is_primary() && !view_changing_ && next_seq_ < stable_.seq + window_ && !pipeline_full()) {
    // The oldest request not yet proposed leaves at most batch_delay_max after arrival.
    // (With the window or the pipeline full there is nothing to do until a checkpoint
    // becomes stable or a batch executes: waking for the batch then would spin.)
    for (const auto& client : proposal_order_) {
      auto found = pending_.find(client);
      if (found == pending_.end() || found->second.proposed) continue;
      deadline = std::min(deadline, found->second.arrived_at + options_.batch_delay_max);
      break;
    }
  }
  if (!relay_queue_.empty()) deadline = std::min(deadline, relay_queue_.front().first);
  if (stable_.seq > last_executed_ && !fetch_)
    deadline =
        std::min(deadline, behind_since_ + kCatchUpGraceIntervals * options_.status_interval);
  return std::max(deadline, now_ + 1);
}

ReplicaStatus Replica::Core::status() const {
  return ReplicaStatus{view_,
                       view_changing_,
                       last_executed_,
                       stable_.seq,
                       log_.size(),
                       pending_.size(),
                       clients_.size(),
                       views_entered_,
                       rejoin_.has_value(),
                       timeouts_.request_timeout()};
}

// --- plumbing -------------------------------------------------------------------------

void Replica::Core::begin_step(Instant now) {
  PHALANX_ASSERT(now >= now_, "monotonic time went backwards");
  PHALANX_ASSERT(out_.empty(), "a step began while another was unfinished");
  now_ = now;
  recovered_ = true;  // recover() comes before any other input or not at all
  // Before anything this step may send: a crash now must not bring the replica back as
  // one that remembers nothing and knows it not.
  if (rejoin_record_due_) {
    rejoin_record_due_ = false;
    persist_rejoin();
  }
}

Actions Replica::Core::end_step() {
  if constexpr (PHALANX_INVARIANTS_ENABLED) check_invariants();
  // Taken last, so that its re-stated records include everything this step persisted.
  if (snapshot_due_) out_.snapshot = take_snapshot();
  Actions actions = std::move(out_);
  out_ = Actions{};
  return actions;
}

core::EnvelopePtr Replica::Core::sign(wire::Kind kind, Bytes payload) {
  return std::make_shared<const wire::Envelope>(
      seal(signer_, verifier_.cluster_id, kind, id_, std::move(payload)));
}

core::EnvelopePtr Replica::Core::publish(wire::Kind kind, Bytes payload,
                                         std::optional<ReplicaId> to) {
  PHALANX_ASSERT(
      may_vote() || (kind != wire::PRE_PREPARE && kind != wire::PREPARE && kind != wire::COMMIT &&
                     kind != wire::VIEW_CHANGE && kind != wire::NEW_VIEW),
      "a rejoining replica signed a vote");
  auto envelope = sign(kind, std::move(payload));
  auto bytes = std::make_shared<const Bytes>(encode(*envelope));
  if (bytes->size() > verifier_.limits.envelope_bytes_max)
    // A VIEW-CHANGE or NEW-VIEW carries whole batches: with large requests and a long log
    // above the stable checkpoint it outgrows the limit, and that view change cannot
    // complete (docs/protocol.md, "Large requests"). Say so loudly rather than stall.
    event(Event::Type::kMessageTooLarge, bytes->size(),
          std::string(wire::Kind_Name(kind)) + " exceeds the limit of " +
              std::to_string(verifier_.limits.envelope_bytes_max) + " bytes");
  persist(DurableRecord::Type::kSigned, bytes);
  send_bytes(kind, std::move(bytes), to);
  return envelope;
}

void Replica::Core::send(const EnvelopePtr& envelope, std::optional<ReplicaId> to) {
  send_bytes(envelope->kind(), std::make_shared<const Bytes>(encode(*envelope)), to);
}

void Replica::Core::send_bytes(wire::Kind kind, SharedBytes bytes, std::optional<ReplicaId> to) {
  PHALANX_ASSERT(!to || *to != id_, "sending to oneself");
  out_.send.push_back(Outgoing{to, kind, std::move(bytes)});
}

void Replica::Core::event(Event::Type type, std::uint64_t value, std::string detail) {
  out_.events.push_back(Event{type, value, std::move(detail)});
}

void Replica::Core::drop(std::string_view why) {
  event(Event::Type::kDroppedMessage, 0, std::string(why));
}

void Replica::Core::report_evidence(ReplicaId replica, std::string what, const EnvelopePtr& first,
                                    const EnvelopePtr& second) {
  event(Event::Type::kEvidence, replica, what);
  out_.evidence.push_back(
      Evidence{replica, std::move(what), std::make_shared<const Bytes>(encode(*first)),
               second ? std::make_shared<const Bytes>(encode(*second)) : nullptr});
}

// The first vote of a replica for a slot stands. A second, different one is evidence
// (reported by the ledger: observe_signed), not a vote.
void Replica::Core::record_vote(std::map<ReplicaId, core::Vote>& votes, ReplicaId sender,
                                const crypto::Digest& digest, const EnvelopePtr& envelope,
                                std::uint64_t state_size) {
  votes.try_emplace(sender, core::Vote{digest, envelope, state_size});
}

core::Slot& Replica::Core::slot_at(Seq seq) {
  auto& slot = log_[seq];
  if (slot.view != view_) slot.begin_view(view_, now_);
  return slot;
}

// --- invariants -----------------------------------------------------------------------

namespace {
// What our peers check of a prepared certificate in our VIEW-CHANGE (wire/validate.cc,
// check_prepared), without the signatures: 2f PREPAREs from distinct backups, none from
// the primary that signed the pre-prepare. One we would send and they would refuse is a
// bug here, not in them.
// Checked after every step of a debug build, for every prepared slot: no allocation (the
// 2f senders are compared pairwise).
bool well_formed(const wire::PreparedCertificate& certificate, std::uint32_t f) {
  const auto& prepares = certificate.prepares();
  if (static_cast<std::size_t>(prepares.size()) != 2 * std::size_t{f}) return false;
  for (int i = 0; i < prepares.size(); ++i) {
    const auto& prepare = prepares[i];
    if (prepare.kind() != wire::PREPARE || prepare.sender() == certificate.pre_prepare().sender())
      return false;
    for (int j = 0; j < i; ++j)
      if (prepares[j].sender() == prepare.sender()) return false;
  }
  return true;
}
}  // namespace

void Replica::Core::check_invariants() const {
  PHALANX_ASSERT(log_.size() <= 2 * window_, "log holds more than two windows");
  PHALANX_ASSERT(pending_.size() <= options_.pending_requests_max, "pending requests unbounded");
  PHALANX_EXPENSIVE_ASSERT(
      unproposed_ == static_cast<std::size_t>(
                         std::count_if(pending_.begin(), pending_.end(),
                                       [](const auto& entry) { return !entry.second.proposed; })),
      "unproposed count out of step with the pending requests");
  PHALANX_ASSERT(relay_queue_.size() <= options_.pending_requests_max, "relay queue unbounded");
  PHALANX_ASSERT(clients_.size() <= options_.client_table_max, "client table unbounded");
  PHALANX_ASSERT(stable_.seq % options_.checkpoint_interval == 0 || !stable_.proof.empty(),
                 "stable checkpoint off the checkpoint interval");
  for (const auto& [seq, slot] : log_) {
    PHALANX_ASSERT(seq > 0, "slot 0 exists");
    PHALANX_ASSERT(seq <= stable_.seq + window_, "slot above the high watermark");
    PHALANX_ASSERT(seq > std::min(retained_floor(), last_executed_),
                   "slot below the low watermark");
    PHALANX_ASSERT(seq > std::min(stable_.seq, last_executed_) || slot.committed,
                   "an uncommitted slot below the low watermark");
    PHALANX_ASSERT(seq > last_executed_ || slot.committed, "executed a slot not committed");
    PHALANX_ASSERT(!slot.committed || slot.commit_certificate, "committed without certificate");
    PHALANX_ASSERT(!slot.prepared || slot.has_pre_prepare(), "prepared without pre-prepare");
    PHALANX_ASSERT(
        !slot.prepared_certificate || well_formed(*slot.prepared_certificate, quorums_.f()),
        "a prepared certificate our peers would refuse");
    PHALANX_ASSERT(!slot.has_pre_prepare() || slot.view == view_, "stale pre-prepare kept");
  }
  for (const auto& [seq, checkpoint] : own_checkpoints_)
    PHALANX_ASSERT(seq <= last_executed_ && seq % options_.checkpoint_interval == 0,
                   "checkpoint of a state not reached");
  PHALANX_ASSERT(!fetch_ || fetch_->seq > last_executed_, "fetching a state already reached");
  // A primary never assigns a number below what any correct replica executed (PBFT 4.4:
  // everything executed is in the new view's O set or below its stable checkpoint).
  PHALANX_ASSERT(!is_primary() || view_changing_ || next_seq_ >= last_executed_,
                 "primary would reuse an executed sequence number");
}

}  // namespace phalanx::pbft
