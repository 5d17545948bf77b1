// View changes (PBFT 4.4 and 4.5.2): a backup that waits too long for a request to execute
// suspects the primary and moves to the next view; the new primary proves with 2f+1
// VIEW-CHANGEs what may have committed and re-proposes it at the same sequence numbers.
// The timing policy lives in view_timeout.h; only the agreement rules are here.
#include <algorithm>

#include "core/new_view_plan.h"
#include "core/replica_core.h"

namespace phalanx::pbft {

// --- timers -----------------------------------------------------------------------------

// PBFT 4.5.2: a backup waiting for a request starts its timer if it is not running; stops
// it when it waits for nothing; restarts it when a request executes while others wait.
void Replica::Core::update_request_timer(bool progress) {
  if (view_changing_) return;  // the view-change timer is governed by 2f+1 VIEW-CHANGEs
  // A rejoining replica may not sign a VIEW-CHANGE (rejoin.cc): it follows the others.
  if (pending_.empty() || is_primary() || catching_up() || !may_vote()) {
    view_timer_.reset();
    return;
  }
  if (!view_timer_ || progress) view_timer_ = now_ + timeouts_.request_timeout();
}

// A replica that lags the cluster (restarted, or cut off for a while) waits for requests
// that the others have most likely executed: it cannot tell a slow primary from its own
// lag, and a view change it started alone would shut it out of the current view (views
// never go back). It suspects nobody while it is behind a certified checkpoint, or while
// f+1 peers in its view (so at least one correct replica) report having executed more.
bool Replica::Core::catching_up() const {
  if (stable_.seq > last_executed_) return true;
  std::uint32_t ahead = 0;
  for (const auto& [peer, position] : peers_)
    ahead += position.view == view_ && !position.view_changing &&
             position.last_executed > last_executed_;
  return ahead >= quorums_.weak();
}

// f+1 peers (so at least one correct replica) report working in `view`: its NEW-VIEW exists.
bool Replica::Core::view_established_by_peers(View view) const {
  std::uint32_t working = 0;
  for (const auto& [peer, position] : peers_)
    working += position.view == view && !position.view_changing;
  return working >= quorums_.weak();
}

void Replica::Core::on_view_timer() {
  view_timer_.reset();
  if (!view_changing_ && is_primary()) return;
  if (view_changing_ && view_established_by_peers(view_)) {
    // We missed a NEW-VIEW that others accepted. Moving on alone would strand us in a
    // view nobody else enters; our STATUS will fetch it (retransmission.cc).
    view_timer_ = now_ + timeouts_.view_change_timeout();
    return;
  }
  start_view_change(view_ + 1,
                    view_changing_ ? "no new view in time" : "a request waited too long");
}

// --- sending VIEW-CHANGE ----------------------------------------------------------------

void Replica::Core::start_view_change(View new_view, std::string_view reason) {
  PHALANX_ASSERT(new_view > view_, "view changes only move forward");
  // Whatever the reason, the view we leave failed: the next attempt waits twice as long
  // (PBFT 4.5.2). A replica that joins on f+1 VIEW-CHANGEs must back off like those whose
  // timers fired, or it gives up on the next view while they still wait for it, and that
  // view loses its quorum.
  timeouts_.on_view_failed();
  view_ = new_view;
  view_changing_ = true;
  view_timer_.reset();
  event(Event::Type::kViewChangeStarted, new_view, std::string(reason));

  wire::ViewChange view_change;
  view_change.set_new_view(new_view);
  view_change.set_stable_seq(stable_.seq);
  for (const auto& envelope : stable_.proof) *view_change.add_checkpoint_proof() = *envelope;
  for (const auto& [seq, slot] : log_)
    if (seq > stable_.seq && slot.prepared_certificate)
      *view_change.add_prepared() = *slot.prepared_certificate;

  for (auto& [seq, slot] : log_) slot.begin_view(view_, now_);

  auto envelope = publish(wire::VIEW_CHANGE, encode(view_change));
  own_view_change_ = envelope;
  store_view_change(
      id_,
      ViewChangeRecord{envelope, std::make_shared<const wire::ViewChange>(std::move(view_change))});
  view_changes_.erase(view_changes_.begin(), view_changes_.lower_bound(view_));
  maybe_send_new_view();
  maybe_start_view_change_timer();
}

// --- receiving VIEW-CHANGE --------------------------------------------------------------

void Replica::Core::on_view_change(const Message& message) {
  const auto& view_change = std::get<wire::ViewChange>(message.body);
  View target = view_change.new_view();
  if (target < view_ || (target == view_ && !view_changing_))
    return drop("view change for a view already entered");
  store_view_change(
      message.sender,
      ViewChangeRecord{message.envelope, std::make_shared<const wire::ViewChange>(view_change)});
  maybe_join_view_change();
  if (view_changing_ && target == view_) maybe_send_new_view();
  maybe_start_view_change_timer();
}

// Keeps one VIEW-CHANGE per replica, for the highest view it asked for: a faulty replica
// cannot make us hold more than n of them.
void Replica::Core::store_view_change(ReplicaId sender, ViewChangeRecord record) {
  View target = record.body->new_view();
  for (auto& [view, by_sender] : view_changes_) {
    auto found = by_sender.find(sender);
    if (found == by_sender.end()) continue;
    if (view > target) return;   // it already asked for a later view
    if (view == target) return;  // a second, different one is evidence (the ledger's)
    by_sender.erase(found);
  }
  view_changes_[target][sender] = std::move(record);
}

// PBFT 4.5.2: f+1 replicas asking for views above ours include a correct one, so a view
// change is under way: join the smallest of those views rather than wait for our timer.
void Replica::Core::maybe_join_view_change() {
  if (!may_vote()) return;  // it enters the new view when the NEW-VIEW comes
  std::uint32_t above = 0;
  View smallest = 0;
  for (auto it = view_changes_.upper_bound(view_); it != view_changes_.end(); ++it) {
    if (above == 0) smallest = it->first;
    above += static_cast<std::uint32_t>(it->second.size());
  }
  if (above >= quorums_.weak()) start_view_change(smallest, "f+1 replicas asked for it");
}

// Wait for a NEW-VIEW only once 2f+1 replicas are in the change, so that a replica does
// not rush on to v+2 before v+1 had its chance (PBFT 4.5.2). A replica asking for a later
// view has left this one too and counts: otherwise replicas scattered over views after a
// partition (two asking for v+1, one for v+2, one down) would wait for ever. Timers only
// govern liveness; no agreement rule depends on this count.
void Replica::Core::maybe_start_view_change_timer() {
  if (!view_changing_ || view_timer_) return;
  std::size_t in_change = 0;
  for (auto it = view_changes_.lower_bound(view_); it != view_changes_.end(); ++it)
    in_change += it->second.size();
  if (in_change < quorums_.quorum()) return;
  view_timer_ = now_ + timeouts_.view_change_timeout();
}

// --- NEW-VIEW -------------------------------------------------------------------------

void Replica::Core::maybe_send_new_view() {
  if (!view_changing_ || quorums_.primary(view_) != id_) return;
  auto found = view_changes_.find(view_);
  if (found == view_changes_.end() || found->second.size() < quorums_.quorum()) return;

  wire::NewView new_view;
  new_view.set_view(view_);
  std::vector<const wire::ViewChange*> chosen;
  for (const auto& [sender, record] : found->second) {
    *new_view.add_view_changes() = *record.envelope;
    chosen.push_back(record.body.get());
    if (chosen.size() == quorums_.quorum()) break;
  }
  core::NewViewPlan plan = core::plan_new_view(chosen, window_);
  for (const auto& reproposal : plan.reproposals) {
    wire::PrePrepare pre_prepare;
    pre_prepare.set_view(view_);
    pre_prepare.set_seq(reproposal.seq);
    pre_prepare.set_digest(reproposal.digest.bytes());
    pre_prepare.set_batch_time(reproposal.batch->batch_time());
    *pre_prepare.mutable_requests() = reproposal.batch->requests();
    *new_view.add_pre_prepares() = *sign(wire::PRE_PREPARE, encode(pre_prepare));
  }
  auto envelope = publish(wire::NEW_VIEW, encode(new_view));
  new_view_ = envelope;
  enter_new_view(view_, chosen, new_view.pre_prepares());
}

void Replica::Core::on_new_view(const Message& message) {
  const auto& new_view = std::get<wire::NewView>(message.body);
  View view = new_view.view();
  if (view < view_ || (view == view_ && !view_changing_)) return drop("new view already entered");

  std::vector<wire::ViewChange> bodies(new_view.view_changes_size());
  std::vector<const wire::ViewChange*> chosen;
  for (int i = 0; i < new_view.view_changes_size(); ++i) {
    PHALANX_ASSERT(bodies[i].ParseFromString(new_view.view_changes(i).payload()),
                   "verified view change unparsable");
    chosen.push_back(&bodies[i]);
  }
  // Recompute the re-proposals from the view changes themselves (PBFT 4.4): a primary
  // that proposes anything else is faulty, and its view fails.
  core::NewViewPlan plan = core::plan_new_view(chosen, window_);
  if (!core::matches_plan(plan, new_view.pre_prepares())) {
    drop("new view whose re-proposals do not follow from its view changes");
    // The NEW-VIEW alone proves its primary faulty: anyone can recompute the plan from the
    // signed view changes it carries, and a correct primary sends exactly that plan.
    report_evidence(message.sender,
                    "a NEW-VIEW for view " + std::to_string(view) +
                        " whose re-proposals do not follow from its view changes",
                    message.envelope, nullptr);
    if (view >= view_ && may_vote()) {
      view_ = view;  // so that the next view change targets view + 1
      start_view_change(view + 1, "the new view's re-proposals were wrong");
    }
    return;
  }
  // Durable before our PREPAREs for its re-proposals, which it holds; and it is how a
  // restarted replica knows the view it was in.
  persist_envelope(DurableRecord::Type::kNewView, message.envelope);
  new_view_ = message.envelope;
  view_ = view;
  enter_new_view(view, chosen, new_view.pre_prepares());
}

// Adopts a view change's stable checkpoint when it is ahead of ours (its proof was
// verified at the edge).
void Replica::Core::adopt_checkpoint(const wire::ViewChange& view_change) {
  if (view_change.stable_seq() <= stable_.seq) return;
  wire::Checkpoint checkpoint;
  PHALANX_ASSERT(checkpoint.ParseFromString(view_change.checkpoint_proof(0).payload()),
                 "verified checkpoint unparsable");
  std::vector<EnvelopePtr> proof;
  std::map<std::uint64_t, std::uint32_t> sizes;
  std::uint64_t state_size = 0;
  for (const auto& envelope : view_change.checkpoint_proof()) {
    proof.push_back(std::make_shared<const wire::Envelope>(envelope));
    wire::Checkpoint member;
    if (member.ParseFromString(envelope.payload()) &&
        ++sizes[member.state_size()] >= quorums_.weak())
      state_size = member.state_size();
  }
  make_stable(view_change.stable_seq(), *crypto::Digest::from_bytes(checkpoint.state_digest()),
              state_size, std::move(proof));
}

// PBFT's view-change lemma, checked where it can be: a batch this replica committed in an
// earlier view, above the new view's checkpoint, is prepared at f+1 correct replicas, so
// 2f+1 view changes carry it and the new view re-proposes it. (One committed in the new
// view or later, learned from a peer's commit certificate before this NEW-VIEW arrived,
// was never in its view changes.) A plan without it means more than f faulty replicas,
// or a bug: nothing to do about it here but say so, loudly (the simulator's checker counts
// it as an S1 violation before the divergence shows).
void Replica::Core::check_plan_keeps_commits(const core::NewViewPlan& plan, View new_view) {
  for (const auto& [seq, slot] : log_) {
    if (seq <= plan.min_s || !slot.committed || !slot.committed_batch ||
        slot.committed_batch->view() >= new_view)
      continue;
    auto kept = std::find_if(plan.reproposals.begin(), plan.reproposals.end(),
                             [seq = seq](const auto& reproposal) { return reproposal.seq == seq; });
    if (kept != plan.reproposals.end() && kept->digest.bytes() == slot.committed_batch->digest())
      continue;
    event(Event::Type::kStateDiverged, seq,
          "the new view does not re-propose the batch committed here (more than f faulty "
          "replicas, or a bug)");
  }
}

void Replica::Core::enter_new_view(
    View view, const std::vector<const wire::ViewChange*>& view_changes,
    const google::protobuf::RepeatedPtrField<wire::Envelope>& proposals) {
  core::NewViewPlan plan = core::plan_new_view(view_changes, window_);
  check_plan_keeps_commits(plan, view);
  if (plan.checkpoint_source) adopt_checkpoint(*plan.checkpoint_source);

  view_ = view;
  view_changing_ = false;
  view_timer_.reset();
  ++views_entered_;
  view_entered_at_ = now_;
  monitor_.on_new_view(!monitor_.suspected());
  relay_queue_.clear();  // requests go back to the new primary's queue (below)
  for (auto& [seq, slot] : log_) slot.begin_view(view_, now_);
  view_changes_.erase(view_changes_.begin(), view_changes_.upper_bound(view_));
  own_view_change_.reset();
  event(Event::Type::kViewEntered, view);

  // Requests not re-proposed go back to the new primary's queue, oldest first.
  std::vector<crypto::PublicKey> by_age = unpropose_all();
  next_seq_ =
      std::max(plan.min_s, plan.reproposals.empty() ? plan.min_s : plan.reproposals.back().seq);
  next_seq_ = std::max(next_seq_, last_executed_);

  for (const auto& envelope : proposals) {
    auto batch = std::make_shared<wire::PrePrepare>();
    PHALANX_ASSERT(batch->ParseFromString(envelope.payload()), "verified pre-prepare unparsable");
    Seq seq = batch->seq();
    if (!in_window(seq)) continue;
    auto shared = std::make_shared<const wire::Envelope>(envelope);
    if (!accept_pre_prepare(seq, shared, std::move(batch)) || is_primary()) continue;
    core::Slot& slot = log_.at(seq);
    cast_vote(wire::PREPARE, seq, slot);
    check_prepared(seq, slot);
  }

  if (is_primary()) {
    proposal_order_.clear();
    for (const auto& client : by_age)
      if (!pending_.at(client).proposed) proposal_order_.push_back(client);
  }
  update_request_timer(true);
  try_propose();
}

}  // namespace phalanx::pbft
