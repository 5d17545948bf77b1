#pragma once
// pbft::Replica: one PBFT replica as a pure, deterministic state machine.
//
// Inputs: verified messages (from open_envelope: every signature in them is already
// checked) and the passing of monotonic time. Output: an Actions batch per step, which
// the driver carries out in order (see actions.h). The replica performs no I/O, reads no
// clock, starts no thread and draws no random number: given the same inputs it produces
// the same outputs, which is what lets the simulator replay a run from its seed.
//
// Ownership: the replica borrows the Application (the driver owns it) and calls it from
// inside on_message/on_tick. Thread-safety: none; one thread drives a replica.

#include <functional>
#include <memory>

#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/actions.h"
#include "phalanx/pbft/application.h"
#include "phalanx/pbft/options.h"
#include "phalanx/pbft/types.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft {

struct ReplicaSetup {
  Verifier verifier;  // cluster id, every replica's public key, wire limits
  ReplicaId id = 0;
  crypto::SecretKey key;  // must match verifier.replica_keys[id]
  ReplicaOptions options;
  // This replica lost its durable state (a wiped or corrupt data directory) and may have
  // signed messages it no longer remembers. It fetches the state from its peers and signs
  // no vote, view change or proposal until the cluster's stable checkpoint has moved a
  // whole log window past the point where it learned the cluster's position, so that it
  // cannot contradict what it signed before (docs/storage.md, "Rejoining").
  bool rejoin = false;
  // The wall clock batch times are read from (unix ms), required when
  // options.batch_time_skew_max is set. The core calls it when it proposes or checks a
  // batch; the simulator passes a simulated one.
  std::function<UnixMillis()> wall_clock = nullptr;
};

// A snapshot of the replica's position, for tests, metrics and status pages.
struct ReplicaStatus {
  View view = 0;
  bool view_changing = false;
  Seq last_executed = 0;
  Seq stable_seq = 0;
  std::size_t log_slots = 0;         // sequence numbers with protocol state in memory
  std::size_t pending_requests = 0;  // requests waiting to be ordered or executed
  std::size_t client_table_size = 0;
  std::uint64_t view_changes = 0;  // views entered after view 0
  bool rejoining = false;          // abstaining from votes (ReplicaSetup::rejoin)
  // How long a request may wait here before this replica suspects the primary: the
  // adaptive base (ReplicaOptions::view_timeout_*), doubled for each view that failed.
  Instant request_timeout = 0;
};

class Replica {
 public:
  Replica(ReplicaSetup setup, Application& application, Instant now);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // A verified message from a replica, or a client REQUEST (sent directly or relayed).
  Actions on_message(const Message& message, Instant now);
  // Time passed; fires whatever timers are due. Call at next_deadline() at the latest.
  Actions on_tick(Instant now);
  // Rebuilds a restarted replica from what it made durable before (durable.h): the last
  // snapshot's state goes into the application (which must be in its initial state), the
  // committed batches above it are executed again, and the replica resumes in the view it
  // was in, remembering every message it signed. Call at most once, before any other
  // input. The returned actions (checkpoints of the re-executed batches, replies nobody
  // waits for) are carried out like any step's. An Error means the records contradict
  // each other or the snapshot does not restore: the state cannot be trusted.
  Result<Actions> recover(const DurableState& state, Instant now);
  // The earliest instant at which on_tick has something to do.
  Instant next_deadline() const;
  // Whether input is waiting behind what the driver is about to step: true while this
  // replica falls behind its own inbound traffic, false once it has drained it. While it
  // stays behind from a request's arrival to its proposal, the wait may be this replica's
  // own queue, so the slow-primary watch does not count it (primary_monitor.h). Drivers
  // that never call this keep every sample, as a replica that is never behind would.
  void note_backlog(bool behind, Instant now);

  ReplicaStatus status() const;
  ReplicaId id() const;
  // Checks every internal invariant; aborts on a broken one. Called after each step when
  // built with PHALANX_INVARIANTS; tests may call it any time.
  void check_invariants() const;

  class Core;  // the implementation (pbft/src/core), declared here for the unique_ptr

 private:
  std::unique_ptr<Core> core_;
};

}  // namespace phalanx::pbft
