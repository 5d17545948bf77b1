#pragma once
// Replica::Core: the PBFT replica's state and rules. The member functions are defined
// in one file per part of the protocol, in the paper's order:
//   replica.cc          dispatch, timers, invariants, sealing and sending
//   normal_case.cc      requests, batching, pre-prepare / prepare / commit, execution (4.2)
//   checkpoints.cc      checkpoints, stability, garbage collection (4.3)
//   view_change.cc      view changes and new views (4.4, 4.5.2)
//   retransmission.cc   status messages and certificates for lagging peers (5.2)
//   state_transfer.cc   fetching a certified checkpoint's state in chunks (5.3.2)
//   durability.cc       what is made durable, snapshots, and recovery after a restart
//   rejoin.cc           a replica that lost its durable state abstains until it is safe

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/client_table.h"
#include "core/evidence_ledger.h"
#include "core/merkle.h"
#include "core/new_view_plan.h"
#include "core/primary_monitor.h"
#include "core/slot.h"
#include "core/view_timeout.h"
#include "phalanx/pbft/replica.h"

namespace phalanx::pbft {

// How many status intervals a replica behind a stable checkpoint waits for retransmission
// to bring it there before it fetches the state: recovering a lost message takes up to two
// (one for the slot to age, one for the status that asks for it).
inline constexpr std::uint64_t kCatchUpGraceIntervals = 4;

class Replica::Core {
 public:
  Core(ReplicaSetup setup, Application& application, Instant now);

  Actions on_message(const Message& message, Instant now);
  Actions on_tick(Instant now);
  Result<Actions> recover(const DurableState& state, Instant now);
  Instant next_deadline() const;
  void note_backlog(bool behind, Instant now) {
    if (!behind)
      input_behind_since_.reset();
    else if (!input_behind_since_)
      input_behind_since_ = now;
  }
  ReplicaStatus status() const;
  ReplicaId id() const { return id_; }
  void check_invariants() const;

 private:
  using EnvelopePtr = core::EnvelopePtr;

  // A request known to this replica but not executed yet.
  struct PendingRequest {
    RequestId request_id = 0;
    EnvelopePtr envelope;
    Instant arrived_at = 0;
    bool proposed = false;  // in a batch of the current view already (or learned from one)
    // Unproposed requests ahead of it on arrival, or its rank by age at view entry: the
    // queue an honest primary works through first (primary_monitor.h).
    std::size_t backlog = 0;
    bool relayed = false;   // backup: passed on to the primary
  };

  // A checkpoint this replica took, not yet stable (or the stable one).
  struct CheckpointState {
    Seq seq = 0;
    crypto::Digest digest;
    std::shared_ptr<const Bytes> state;  // app snapshot + client table, for state transfer
  };

  struct StableCheckpoint {
    Seq seq = 0;
    crypto::Digest digest;
    std::uint64_t state_size = 0;
    std::vector<EnvelopePtr> proof;      // 2f+1 CHECKPOINTs (empty at seq 0)
    std::shared_ptr<const Bytes> state;  // null when this replica has not got it yet
  };

  // A state transfer under way (state_transfer.cc): chunks are asked of every peer that
  // certified the checkpoint at once, a few each, arrive in any order, and are checked
  // against the certified root on arrival. A peer that sends a bad chunk is asked for no
  // more; one that is slow rests for a timeout while the others take its chunks.
  struct FetchPeer {
    ReplicaId id = 0;
    std::set<std::uint64_t> requested;  // asked, not answered yet
    Instant deadline = 0;               // for an answer, while it has requests
    Instant resting_until = 0;          // slow: not asked again before
    bool lied = false;
  };
  struct StateFetch {
    Seq seq = 0;
    crypto::Digest digest;
    std::uint64_t state_size = 0;
    std::uint64_t chunk_count = 0;
    Bytes received;                      // state_size bytes; chunk i at i * chunk bytes
    std::vector<bool> have;              // by chunk index
    std::vector<std::int32_t> asked_of;  // by chunk index: the peer's index, or -1
    std::uint64_t have_count = 0;
    std::uint64_t first_missing = 0;  // every chunk below it is here
    std::vector<FetchPeer> peers;     // who certified it, minus me
    std::size_t next_peer = 0;        // round-robin start
    Instant progress_at = 0;          // its start, or the last chunk that arrived
  };

  // A stable checkpoint's state as served to peers that fetch it: besides the current
  // one, the one before it, so that a transfer survives the cluster moving on by one
  // checkpoint while it runs (state_transfer.cc).
  struct ServedState {
    Seq seq = 0;
    std::shared_ptr<const Bytes> state;
    std::optional<core::MerkleTree> tree;  // built on the first request
  };

  struct ViewChangeRecord {
    EnvelopePtr envelope;
    std::shared_ptr<const wire::ViewChange> body;
  };

  // --- replica.cc: plumbing ------------------------------------------------------------
  void begin_step(Instant now);
  Actions end_step();
  EnvelopePtr sign(wire::Kind kind, Bytes payload);
  // Signs, makes durable (DurableRecord::kSigned) and sends to `to` (nullopt: everyone).
  EnvelopePtr publish(wire::Kind kind, Bytes payload, std::optional<ReplicaId> to = std::nullopt);
  void send(const EnvelopePtr& envelope, std::optional<ReplicaId> to);
  void send_bytes(wire::Kind kind, SharedBytes bytes, std::optional<ReplicaId> to);
  void event(Event::Type type, std::uint64_t value, std::string detail = {});
  void report_evidence(ReplicaId replica, std::string what, const EnvelopePtr& first,
                       const EnvelopePtr& second);
  // Accountability (S5): every signed message seen, directly or inside a certificate,
  // goes through the evidence ledger (evidence_ledger.h).
  void observe_signed(const Message& message);
  void observe_nested(const wire::Envelope& envelope);
  void observe_certificates(const wire::ViewChange& view_change);
  void note_equivocation(std::optional<core::Equivocation> equivocation);
  void drop(std::string_view why);
  bool is_primary() const { return quorums_.primary(view_) == id_; }
  bool in_window(Seq seq) const { return seq > stable_.seq && seq <= stable_.seq + window_; }
  void record_vote(std::map<ReplicaId, core::Vote>& votes, ReplicaId sender,
                   const crypto::Digest& digest, const EnvelopePtr& envelope,
                   std::uint64_t state_size = 0);

  // --- normal_case.cc --------------------------------------------------------------------
  void on_request(const Message& message);
  void on_pre_prepare(const Message& message);
  void on_prepare(const Message& message);
  void on_commit(const Message& message);
  void try_propose();
  void relay_due_requests();
  void relay(PendingRequest& pending);
  void watch_primary();
  bool batch_ready() const;
  // Adaptive batching: pipeline_batches_max of this primary's batches are in flight.
  bool pipeline_full() const;
  void propose_batch();
  // `unvouched`: positions of requests this replica could not authenticate
  // (Message::unvouched_requests); reproposals in a NEW-VIEW are vouched for by the view change.
  bool accept_pre_prepare(Seq seq, const EnvelopePtr& envelope,
                          std::shared_ptr<const wire::PrePrepare> batch,
                          const std::vector<std::uint32_t>& unvouched = {});
  void track_batch_requests(const wire::PrePrepare& batch,
                            const std::vector<std::uint32_t>& unvouched);
  void cast_vote(wire::Kind kind, Seq seq, core::Slot& slot);
  void check_prepared(Seq seq, core::Slot& slot);
  void check_committed(Seq seq, core::Slot& slot);
  void mark_committed(core::Slot& slot, std::shared_ptr<const wire::PrePrepare> batch,
                      wire::CommitCertificate certificate);
  void execute_ready();
  void execute_batch(Seq seq, const wire::PrePrepare& batch);
  // Batch times (ReplicaOptions::batch_time_skew_max; batch_time.cc).
  bool batch_times_on() const { return options_.batch_time_skew_max > 0; }
  UnixMillis time_before(Seq seq) const;  // the batch time seq must exceed, 0: unknown
  UnixMillis propose_time(Seq seq) const;
  const char* batch_time_problem(const wire::PrePrepare& batch) const;  // nullptr: fine
  UnixMillis agreed_time(const wire::PrePrepare& batch) const;
  void forget_pending(const crypto::PublicKey& client, RequestId executed);
  // The only writers of pending_ (they keep unproposed_ true): a request to wait for
  // (replacing the client's older one), the mark that a batch carries it, its end, and a
  // new view's fresh start (every request unproposed, its backlog its rank by age).
  using PendingMap = std::map<crypto::PublicKey, PendingRequest>;
  void put_pending(const crypto::PublicKey& client, PendingRequest request);
  void mark_proposed(PendingRequest& request);
  PendingMap::iterator erase_pending(PendingMap::iterator it);
  std::vector<crypto::PublicKey> unpropose_all();  // the clients, oldest request first
  // Its wait for a proposal so far, per full batch queued ahead of it (primary_monitor.h).
  Instant paced_wait(const PendingRequest& pending) const;

  // `with_mac`: the client authenticates with MACs, so the reply carries one for it.
  void reply_to(const crypto::PublicKey& client, core::ClientEntry& entry, bool with_mac);
  core::Slot& slot_at(Seq seq);

  // --- checkpoints.cc -----------------------------------------------------------------
  void take_checkpoint();
  void on_checkpoint(const Message& message);
  void check_stable(Seq seq);
  void make_stable(Seq seq, const crypto::Digest& digest, std::uint64_t state_size,
                   std::vector<EnvelopePtr> proof);
  void collect_garbage();
  Bytes checkpoint_state() const;
  // Restores a checkpoint state; false when it is malformed or the application refuses it
  // (`problem` says which).
  bool restore_checkpoint_state(ByteView state, std::string& problem);

  // --- view_change.cc -----------------------------------------------------------------
  void start_view_change(View new_view, std::string_view reason);
  void on_view_change(const Message& message);
  void on_new_view(const Message& message);
  void store_view_change(ReplicaId sender, ViewChangeRecord record);
  void maybe_send_new_view();
  void maybe_join_view_change();
  void maybe_start_view_change_timer();
  void check_plan_keeps_commits(const core::NewViewPlan& plan, View new_view);
  void adopt_checkpoint(const wire::ViewChange& view_change);
  void enter_new_view(View view, const std::vector<const wire::ViewChange*>& view_changes,
                      const google::protobuf::RepeatedPtrField<wire::Envelope>& proposals);
  void update_request_timer(bool progress = false);
  bool catching_up() const;
  bool view_established_by_peers(View view) const;
  void on_view_timer();

  // --- retransmission.cc --------------------------------------------------------------
  void broadcast_status();
  void on_status(const Message& message);
  void on_commit_certificate(const Message& message);
  void on_checkpoint_certificate(const Message& message);
  void retransmit_slots_to(ReplicaId peer, Seq after);

  // --- durability.cc -------------------------------------------------------------------
  void persist(DurableRecord::Type type, SharedBytes bytes);
  void persist_envelope(DurableRecord::Type type, const EnvelopePtr& envelope);
  void persist_votes(DurableRecord::Type type, Seq seq, const core::Slot& slot,
                     const std::map<ReplicaId, core::Vote>& votes, std::size_t count);
  void persist_stable_proof();
  void request_snapshot() { snapshot_due_ = true; }
  std::optional<Snapshot> take_snapshot();
  std::vector<DurableRecord> live_records() const;
  class Recovery;  // recovery.cc: rebuilds the state from a DurableState

  // --- rejoin.cc ----------------------------------------------------------------------
  // False while a replica that lost its durable state may still conflict with what it
  // signed before: it then signs no pre-prepare, prepare, commit, view change or new view.
  bool may_vote() const { return !rejoin_; }
  void note_peer_status(ReplicaId peer);
  void update_rejoin();
  void persist_rejoin();
  DurableRecord rejoin_record() const;

  // --- state_transfer.cc --------------------------------------------------------------
  void maybe_start_state_transfer();
  void request_chunks();
  void give_up_on(FetchPeer& peer);
  void expire_fetch_peers();
  Instant fetch_deadline() const;
  void on_fetch_state(const Message& message);
  void on_state_chunk(const Message& message);
  void finish_state_transfer();
  // Committed slots above this stay in the log after they are executed and stable, for
  // peers that catch up by the log from the previous checkpoint.
  Seq retained_floor() const;

  // Identity and configuration (immutable).
  Verifier verifier_;
  Quorums quorums_;
  ReplicaId id_;
  crypto::Signer signer_;
  ReplicaOptions options_;
  Seq window_;
  Application& app_;

  // Position.
  View view_ = 0;
  bool view_changing_ = false;
  Seq last_executed_ = 0;
  Seq next_seq_ = 0;           // primary: the last sequence number it assigned in this view
  UnixMillis batch_time_ = 0;  // the agreed time of the last executed batch (replicated)
  std::function<UnixMillis()> wall_clock_;
  std::uint64_t views_entered_ = 0;
  Instant view_entered_at_ = 0;  // when this replica entered the current view

  // The log: protocol state per sequence number in the window (and any executed-but-not-
  // yet-stable slots below it while catching up).
  std::map<Seq, core::Slot> log_;

  // Requests and clients.
  std::map<crypto::PublicKey, PendingRequest> pending_;
  // How many of pending_ are not proposed: the backlog a newly arrived request waits
  // behind (primary_monitor.h). Changed only by the pending-request helpers below.
  std::size_t unproposed_ = 0;
  // Since when this replica has had input waiting without a break (Replica::note_backlog).
  std::optional<Instant> input_behind_since_;
  std::deque<crypto::PublicKey> proposal_order_;  // primary: FIFO of clients to batch
  // Backup: requests clients sent here, to pass on to the primary if it has not proposed
  // them by then (request_relay_delay), in arrival order.
  std::deque<std::pair<Instant, crypto::PublicKey>> relay_queue_;
  core::ClientTable clients_;

  // Accountability: the first message each replica signed per slot (S5).
  core::EvidenceLedger evidence_;

  // Checkpoints.
  std::map<Seq, std::map<ReplicaId, core::Vote>> checkpoint_votes_;
  std::map<Seq, CheckpointState> own_checkpoints_;
  StableCheckpoint stable_;
  std::optional<core::MerkleTree> stable_tree_;  // built on first chunk request
  std::optional<ServedState> previous_;          // the stable checkpoint before stable_
  std::optional<StateFetch> fetch_;
  Instant behind_since_ = 0;  // when stable_.seq first exceeded last_executed_

  // View change.
  std::map<View, std::map<ReplicaId, ViewChangeRecord>> view_changes_;
  EnvelopePtr own_view_change_;
  EnvelopePtr new_view_;  // the NEW-VIEW that started the current view (none for view 0)
  core::ViewTimeoutPolicy timeouts_;
  core::PrimaryMonitor monitor_;
  std::optional<Instant> view_timer_;  // when the current view (change) times out

  // What each peer last said of itself (STATUS): whether the cluster is ahead of us.
  struct PeerPosition {
    View view = 0;
    bool view_changing = false;
    Seq last_executed = 0;
  };
  std::map<ReplicaId, PeerPosition> peers_;  // at most n - 1 entries

  // Rejoining without durable state (ReplicaSetup::rejoin; rejoin.cc).
  struct RejoinGuard {
    Instant started_at = 0;
    std::set<ReplicaId> heard;   // peers whose STATUS arrived since the start
    std::optional<Seq> horizon;  // votes resume once stable and executed reach it
  };
  std::optional<RejoinGuard> rejoin_;
  bool rejoin_record_due_ = false;  // the first step makes the rejoin durable
  // Durability.
  bool snapshot_due_ = false;  // the stable checkpoint's state is to be made durable
  bool recovered_ = false;     // recover() ran, or the replica stepped (it is too late)

  // Timers.
  Instant now_ = 0;
  Instant next_status_at_ = 0;

  // The step in progress.
  Actions out_;
};

}  // namespace phalanx::pbft
