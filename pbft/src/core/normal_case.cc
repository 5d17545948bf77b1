// The normal case (PBFT 4.2): requests are batched by the primary into PRE-PREPAREs,
// backups PREPARE them, a batch prepared at 2f+1 replicas is COMMITted, and committed
// batches execute in sequence order.
#include "core/replica_core.h"

namespace phalanx::pbft {

namespace {
std::size_t count_matching(const std::map<ReplicaId, core::Vote>& votes,
                           const crypto::Digest& digest) {
  std::size_t count = 0;
  for (const auto& [sender, vote] : votes) count += vote.digest == digest;
  return count;
}

crypto::Digest digest_of(const std::string& bytes) {
  return *crypto::Digest::from_bytes(bytes);
}
}  // namespace

// --- requests -------------------------------------------------------------------------

void Replica::Core::on_request(const Message& message) {
  const auto& request = std::get<wire::Request>(message.body);
  const crypto::PublicKey& client = message.client;
  RequestId request_id = request.request_id();

  if (auto* entry = clients_.find(client); entry && request_id <= entry->last_request_id) {
    // Executed already: a retransmission gets the same reply again, never a second
    // execution (PBFT 4.1); anything older is stale.
    if (request_id == entry->last_request_id)
      reply_to(client, *entry, !message.envelope->authenticator().empty());
    else
      drop("request older than the client's last executed one");
    return;
  }

  auto found = pending_.find(client);
  if (found != pending_.end() && found->second.request_id >= request_id) {
    // The copy the client sent us, which we checked, replaces one taken from a
    // pre-prepare: a faulty primary may have spoiled the other replicas' MAC entries in
    // its copy, which we would relay, or propose as primary, and nobody could vouch for.
    if (found->second.request_id == request_id) found->second.envelope = message.envelope;
    // Known: a client sends again when it got no answer; the primary may never have had
    // it. A backup passes it on now rather than at its relay time.
    if (found->second.request_id == request_id && !view_changing_ && !is_primary() &&
        !found->second.proposed && !found->second.relayed)
      relay(found->second);
    return;
  }
  if (found == pending_.end() && pending_.size() >= options_.pending_requests_max) {
    drop("pending requests full");
    return;
  }
  // A correct client has one request outstanding, so a newer one supersedes the older.
  bool queued_already = found != pending_.end() && !found->second.proposed;
  put_pending(client, PendingRequest{request_id, message.envelope, now_, false});

  if (!view_changing_ && is_primary()) {
    if (!queued_already) proposal_order_.push_back(client);
    try_propose();
  } else if (!view_changing_) {
    // Clients send to every replica (ClientOptions::send_to_all), the primary included.
    // A backup watches the primary (the view-change timer, PBFT 4.4; the slow-primary
    // watch) until the request executes, and passes it on if the primary has not
    // proposed it in time (the client may not reach the primary). A newer request of a
    // client already waiting reuses its entry; past the bound on pending requests the
    // request timer alone watches the primary.
    if (!queued_already && relay_queue_.size() < options_.pending_requests_max)
      relay_queue_.emplace_back(now_ + options_.request_relay_delay, client);
  }
  update_request_timer();
}

// --- primary: batching and pre-prepare -----------------------------------------------

void Replica::Core::relay(PendingRequest& pending) {
  pending.relayed = true;
  send(pending.envelope, quorums_.primary(view_));
}

// Under load requests wait their turn longer than the relay delay, and relaying each of
// them would send the loaded primary n-1 more copies of everything (it handled 2.5 times
// a backup's messages in tests/sim/overload_test.cc). So the delay applies per full batch
// queued ahead of the request, as the slow-primary watch's limit does: a request with k
// requests ahead of it is relayed after delay * (1 + k/b). One not yet due by that measure
// goes to the back of the queue (its new time is the latest, so the queue stays in order)
// and is looked at again after another relay delay.
void Replica::Core::relay_due_requests() {
  while (!relay_queue_.empty() && relay_queue_.front().first <= now_) {
    auto client = relay_queue_.front().second;
    relay_queue_.pop_front();
    auto found = pending_.find(client);
    if (found == pending_.end() || found->second.proposed || found->second.relayed ||
        view_changing_ || is_primary())
      continue;
    if (paced_wait(found->second) < options_.request_relay_delay)
      relay_queue_.emplace_back(now_ + options_.request_relay_delay, client);
    else
      relay(found->second);
  }
}

Instant Replica::Core::paced_wait(const PendingRequest& pending) const {
  return core::paced_wait(now_ - std::max(pending.arrived_at, view_entered_at_), pending.backlog,
                          options_.batch_requests_max);
}

bool Replica::Core::batch_ready() const {
  // Counts no further than a full batch: this runs for every request the primary
  // receives, and under load the queue holds thousands (a whole scan each time made a
  // loaded primary's work grow with the square of its queue).
  std::size_t unproposed = 0;
  Instant oldest = ~Instant{0};
  for (const auto& client : proposal_order_) {
    auto found = pending_.find(client);
    if (found == pending_.end() || found->second.proposed) continue;
    if (++unproposed >= options_.batch_requests_max) return true;
    oldest = std::min(oldest, found->second.arrived_at);
  }
  if (unproposed == 0) return false;
  // A full batch leaves (above); so does any when nothing is in flight (at low load a
  // request should not wait for company). Otherwise the oldest request waits up to the
  // batch delay, or, with adaptive batching, while the pipeline is full (an execution
  // calls try_propose again, so the wait ends with progress).
  if (next_seq_ <= last_executed_) return true;
  if (pipeline_full()) return false;
  return now_ >= oldest + options_.batch_delay_max;
}

bool Replica::Core::pipeline_full() const {
  return options_.pipeline_batches_max > 0 &&
         next_seq_ - last_executed_ >= options_.pipeline_batches_max;
}

void Replica::Core::try_propose() {
  if (view_changing_ || !is_primary() || !may_vote()) return;
  while (next_seq_ < stable_.seq + window_ && batch_ready()) propose_batch();
}

void Replica::Core::propose_batch() {
  auto batch = std::make_shared<wire::PrePrepare>();
  batch->set_view(view_);
  batch->set_seq(next_seq_ + 1);
  while (!proposal_order_.empty() &&
         static_cast<std::size_t>(batch->requests_size()) < options_.batch_requests_max) {
    auto found = pending_.find(proposal_order_.front());
    proposal_order_.pop_front();
    if (found == pending_.end() || found->second.proposed) continue;
    mark_proposed(found->second);
    *batch->add_requests() = *found->second.envelope;
  }
  PHALANX_ASSERT(batch->requests_size() > 0, "proposing an empty batch outside a view change");
  batch->set_batch_time(propose_time(next_seq_ + 1));
  batch->set_digest(batch_digest(*batch).bytes());
  ++next_seq_;

  auto envelope = publish(wire::PRE_PREPARE, encode(*batch));
  bool accepted = accept_pre_prepare(next_seq_, envelope, std::move(batch));
  PHALANX_ASSERT(accepted, "the primary rejected its own pre-prepare");
}

// Records the primary's pre-prepare for `seq` in this view. False when the slot already
// holds one (a second, different one is evidence: the ledger reported it on arrival).
bool Replica::Core::accept_pre_prepare(Seq seq, const EnvelopePtr& envelope,
                                       std::shared_ptr<const wire::PrePrepare> batch,
                                       const std::vector<std::uint32_t>& unvouched) {
  core::Slot& slot = slot_at(seq);
  crypto::Digest digest = digest_of(batch->digest());
  if (slot.has_pre_prepare()) return false;
  slot.pre_prepare = envelope;
  slot.accepted_at = now_;
  slot.digest = digest;
  slot.batch = batch;
  track_batch_requests(*batch, unvouched);
  return true;
}

// Requests seen in a pre-prepare count as received: a primary that proposes and then
// stalls is suspected like one that never proposes. Not the `unvouched` ones (positions
// in the batch): this replica could not authenticate them, so as primary it must never
// propose them itself.
void Replica::Core::track_batch_requests(const wire::PrePrepare& batch,
                                         const std::vector<std::uint32_t>& unvouched) {
  for (int i = 0; i < batch.requests_size(); ++i) {
    if (std::find(unvouched.begin(), unvouched.end(), static_cast<std::uint32_t>(i)) !=
        unvouched.end())
      continue;
    const wire::Envelope& envelope = batch.requests(i);
    wire::Request request;
    PHALANX_ASSERT(request.ParseFromString(envelope.payload()), "verified request unparsable");
    auto client = *crypto::PublicKey::from_bytes(request.client_key());
    if (const auto* entry = clients_.find(client);
        entry && request.request_id() <= entry->last_request_id)
      continue;
    auto found = pending_.find(client);
    if (found != pending_.end() && found->second.request_id >= request.request_id()) {
      // Known before the pre-prepare: how long this primary took (primary_monitor.h),
      // counted from when it became primary here for requests older than its view.
      // Not a request this replica has been behind its own input for since it arrived:
      // its queue, not the primary, may account for the wait.
      bool own_backlog = input_behind_since_ && *input_behind_since_ <= found->second.arrived_at;
      if (!found->second.proposed && !is_primary() && !own_backlog &&
          found->second.request_id == request.request_id())
        monitor_.observe_proposal_delay(paced_wait(found->second));
      mark_proposed(found->second);
      continue;
    }
    if (found == pending_.end() && pending_.size() >= options_.pending_requests_max) continue;
    put_pending(client,
                PendingRequest{request.request_id(),
                               std::make_shared<const wire::Envelope>(envelope), now_, true});
  }
  update_request_timer();
}

// --- backups: pre-prepare, prepare, commit -----------------------------------------------

void Replica::Core::on_pre_prepare(const Message& message) {
  const auto& pre_prepare = std::get<wire::PrePrepare>(message.body);
  Seq seq = pre_prepare.seq();
  if (view_changing_ || pre_prepare.view() != view_) return drop("pre-prepare for another view");
  if (message.sender != quorums_.primary(view_) || is_primary())
    return drop("pre-prepare not from the primary");
  if (!in_window(seq)) return drop("pre-prepare outside the watermarks");
  if (seq <= last_executed_) return drop("pre-prepare for an executed slot");
  // Re-proposals in a NEW-VIEW keep their first time and are not checked against the
  // clock: they may be old, and the view change already fixed them.
  if (const char* problem = batch_time_problem(pre_prepare)) return drop(problem);

  if (!accept_pre_prepare(seq, message.envelope,
                          std::make_shared<const wire::PrePrepare>(pre_prepare),
                          message.unvouched_requests))
    return drop("second pre-prepare for a slot");
  // Durable before our PREPARE for it: after a restart, the prepared certificate and the
  // commit are rebuilt around it, and it is what we voted for.
  persist_envelope(DurableRecord::Type::kPrePrepare, message.envelope);

  core::Slot& slot = log_.at(seq);
  // A MAC client's request whose entry for us is wrong: we cannot vouch that the client
  // sent it, so we do not prepare; 2f other backups may (authenticators.h).
  if (message.unvouched_requests.empty())
    cast_vote(wire::PREPARE, seq, slot);
  else
    drop("pre-prepare with a request this replica cannot authenticate: not prepared");
  check_prepared(seq, slot);
  watch_primary();
}

// The slow-primary watch (primary_monitor.h): a backup whose primary takes far longer to
// propose than the network takes to carry a message moves to the next view.
void Replica::Core::watch_primary() {
  if (view_changing_ || is_primary() || !may_vote() || catching_up()) return;
  if (!monitor_.primary_too_slow()) return;
  drop("primary too slow to propose: view change");
  start_view_change(view_ + 1, "primary too slow to propose");
}

namespace {
template <typename Vote>
Bytes vote_payload(View view, Seq seq, const crypto::Digest& digest) {
  Vote vote;
  vote.set_view(view);
  vote.set_seq(seq);
  vote.set_digest(digest.bytes());
  return encode(vote);
}
}  // namespace

// Signs, persists and broadcasts this replica's PREPARE or COMMIT for the slot's digest,
// and counts it among the slot's votes.
void Replica::Core::cast_vote(wire::Kind kind, Seq seq, core::Slot& slot) {
  PHALANX_ASSERT(kind == wire::PREPARE || kind == wire::COMMIT, "only prepares and commits");
  if (!may_vote()) return;
  Bytes payload = kind == wire::PREPARE ? vote_payload<wire::Prepare>(view_, seq, slot.digest)
                                        : vote_payload<wire::Commit>(view_, seq, slot.digest);
  auto envelope = publish(kind, std::move(payload));
  if (kind == wire::COMMIT) slot.commit_sent = true;
  auto& votes = kind == wire::PREPARE ? slot.prepares : slot.commits;
  votes[id_] = core::Vote{slot.digest, envelope};
}

void Replica::Core::on_prepare(const Message& message) {
  const auto& prepare = std::get<wire::Prepare>(message.body);
  Seq seq = prepare.seq();
  if (view_changing_ || prepare.view() != view_) return drop("prepare for another view");
  // The primary's pre-prepare stands for its prepare; a PREPARE from it does not count
  // towards the 2f (PBFT 4.2).
  if (message.sender == quorums_.primary(view_)) return drop("prepare from the primary");
  if (!in_window(seq)) return drop("prepare outside the watermarks");
  // Counted even for a slot executed here: in a new view, the others may need our COMMIT
  // for a batch we executed in an earlier one.
  core::Slot& slot = slot_at(seq);
  record_vote(slot.prepares, message.sender, digest_of(prepare.digest()), message.envelope);
  check_prepared(seq, slot);
}

void Replica::Core::on_commit(const Message& message) {
  const auto& commit = std::get<wire::Commit>(message.body);
  Seq seq = commit.seq();
  if (view_changing_ || commit.view() != view_) return drop("commit for another view");
  if (!in_window(seq)) return drop("commit outside the watermarks");
  core::Slot& slot = slot_at(seq);
  record_vote(slot.commits, message.sender, digest_of(commit.digest()), message.envelope);
  check_committed(seq, slot);
}

// prepared(m, v, n, i): the pre-prepare and 2f matching prepares from distinct backups.
void Replica::Core::check_prepared(Seq seq, core::Slot& slot) {
  if (slot.prepared || !slot.has_pre_prepare()) return;
  if (count_matching(slot.prepares, slot.digest) < 2 * quorums_.f()) return;

  slot.prepared = true;
  if (!is_primary()) monitor_.observe_prepare_delay(now_ - slot.accepted_at);
  wire::PreparedCertificate certificate;
  *certificate.mutable_pre_prepare() = *slot.pre_prepare;
  for (const auto& [sender, vote] : slot.prepares) {
    if (vote.digest != slot.digest) continue;
    *certificate.add_prepares() = *vote.envelope;
    if (static_cast<std::uint32_t>(certificate.prepares_size()) == 2 * quorums_.f()) break;
  }
  slot.prepared_certificate = std::move(certificate);
  // Durable before our COMMIT: a view change after a restart must still carry it.
  persist_votes(DurableRecord::Type::kPrepared, seq, slot, slot.prepares, 2 * quorums_.f());

  if (!slot.commit_sent) cast_vote(wire::COMMIT, seq, slot);
  check_committed(seq, slot);
}

// committed-local(m, v, n, i): prepared and 2f+1 matching commits.
void Replica::Core::check_committed(Seq seq, core::Slot& slot) {
  if (slot.committed || !slot.prepared) return;
  if (count_matching(slot.commits, slot.digest) < quorums_.quorum()) return;
  wire::CommitCertificate certificate;
  *certificate.mutable_pre_prepare() = *slot.pre_prepare;
  for (const auto& [sender, vote] : slot.commits) {
    if (vote.digest != slot.digest) continue;
    *certificate.add_commits() = *vote.envelope;
    if (static_cast<std::uint32_t>(certificate.commits_size()) == quorums_.quorum()) break;
  }
  // Durable before the batch's replies leave: a result a client accepts survives any
  // crash, even of every replica at once (S4).
  persist_votes(DurableRecord::Type::kCommitted, seq, slot, slot.commits, quorums_.quorum());
  mark_committed(slot, slot.batch, std::move(certificate));
}

void Replica::Core::mark_committed(core::Slot& slot, std::shared_ptr<const wire::PrePrepare> batch,
                                   wire::CommitCertificate certificate) {
  PHALANX_ASSERT(!slot.committed, "committing a slot twice");
  slot.committed = true;
  slot.committed_at = now_;
  slot.committed_batch = std::move(batch);
  slot.commit_certificate = std::move(certificate);
  execute_ready();
}

// --- execution ------------------------------------------------------------------------

void Replica::Core::execute_ready() {
  Seq executed_before = last_executed_;
  for (;;) {
    auto next = log_.find(last_executed_ + 1);
    if (next == log_.end() || !next->second.committed) break;
    execute_batch(next->first, *next->second.committed_batch);
    ++last_executed_;
    timeouts_.on_progress();
    if (last_executed_ % options_.checkpoint_interval == 0) take_checkpoint();
  }
  if (fetch_ && last_executed_ >= fetch_->seq) fetch_.reset();  // caught up by the log
  // Executing past what we assigned (commit certificates from a later view reached a
  // primary that has not learned it was replaced) means those numbers are taken.
  next_seq_ = std::max(next_seq_, last_executed_);
  collect_garbage();
  update_request_timer(last_executed_ > executed_before);
  try_propose();
}

void Replica::Core::execute_batch(Seq seq, const wire::PrePrepare& batch) {
  ExecutedBatch executed{view_, seq, digest_of(batch.digest()), {}};
  executed.requests.reserve(batch.requests_size());
  if (batch.requests_size() == 0) {  // a null batch: nothing to execute, no time
    out_.executed.push_back(std::move(executed));
    return;
  }
  batch_time_ = agreed_time(batch);
  BatchContext context{seq, batch_time_, static_cast<std::size_t>(batch.requests_size()),
                       executed.digest};
  app_.begin_batch(context);
  for (const auto& envelope : batch.requests()) {
    wire::Request request;
    PHALANX_ASSERT(request.ParseFromString(envelope.payload()), "verified request unparsable");
    auto client = *crypto::PublicKey::from_bytes(request.client_key());
    RequestId request_id = request.request_id();
    ExecutedRequest record{client, request_id, crypto::blake2b(envelope.payload()), false};

    const auto* entry = clients_.find(client);
    if (entry && request_id <= entry->last_request_id) {
      record.duplicate = true;  // exactly-once: never executed twice (PBFT 4.1)
    } else {
      Bytes result =
          app_.execute(request.operation(), RequestContext{client, request_id, seq, batch_time_});
      PHALANX_ASSERT(result.size() <= verifier_.limits.result_bytes_max,
                     "the application returned a result above WireLimits::result_bytes_max");
      reply_to(client, clients_.record(client, request_id, seq, std::move(result)),
               !envelope.authenticator().empty());
    }
    forget_pending(client, request_id);
    executed.requests.push_back(record);
  }
  app_.end_batch(context);
  out_.executed.push_back(std::move(executed));
}

void Replica::Core::forget_pending(const crypto::PublicKey& client, RequestId executed) {
  auto found = pending_.find(client);
  if (found == pending_.end() || found->second.request_id > executed) return;
  // Counted from this view's start for a request older than it: the time a request spent
  // waiting out a view change says how long the change took, not how fast this primary
  // commits, and counting it pushed every replica's timeout to seconds after one view
  // change (tests/sim/view_timeout_test.cc).
  timeouts_.observe_commit_latency(now_ - std::max(found->second.arrived_at, view_entered_at_));
  erase_pending(found);
}

void Replica::Core::put_pending(const crypto::PublicKey& client, PendingRequest request) {
  auto [it, inserted] = pending_.try_emplace(client);
  if (!inserted && !it->second.proposed) --unproposed_;
  if (!request.proposed) request.backlog = unproposed_++;
  it->second = std::move(request);
}

void Replica::Core::mark_proposed(PendingRequest& request) {
  if (request.proposed) return;
  request.proposed = true;
  --unproposed_;
}

Replica::Core::PendingMap::iterator Replica::Core::erase_pending(PendingMap::iterator it) {
  if (!it->second.proposed) --unproposed_;
  return pending_.erase(it);
}

std::vector<crypto::PublicKey> Replica::Core::unpropose_all() {
  // Deterministic order: oldest first, then by client key.
  std::vector<std::pair<Instant, crypto::PublicKey>> waiting;
  waiting.reserve(pending_.size());
  for (const auto& [client, pending] : pending_) waiting.emplace_back(pending.arrived_at, client);
  std::sort(waiting.begin(), waiting.end());
  std::vector<crypto::PublicKey> order;
  order.reserve(waiting.size());
  for (const auto& [arrived_at, client] : waiting) {
    PendingRequest& pending = pending_.at(client);
    pending.proposed = false;
    pending.backlog = order.size();
    order.push_back(client);
  }
  unproposed_ = order.size();
  return order;
}

void Replica::Core::reply_to(const crypto::PublicKey& client, core::ClientEntry& entry,
                             bool with_mac) {
  with_mac = with_mac && verifier_.replica_macs;
  if (!entry.sealed_reply || entry.reply_has_mac != with_mac) {
    wire::Reply reply;
    reply.set_view(view_);
    reply.set_client_key(client.bytes());
    reply.set_request_id(entry.last_request_id);
    reply.set_result(entry.result);
    wire::Envelope sealed =
        seal_reply(signer_, with_mac ? verifier_.replica_macs.get() : nullptr,
                   verifier_.cluster_id, id_, client, encode(reply));
    entry.reply_has_mac = !sealed.authenticator().empty();
    entry.sealed_reply = std::make_shared<const Bytes>(encode(sealed));
  }
  out_.replies.push_back(ClientReply{client, entry.sealed_reply});
}

}  // namespace phalanx::pbft
