#pragma once
// The protocol state of one sequence number (PBFT 4.2): the pre-prepare accepted for it
// in the current view, the prepares and commits received, and the certificates it earned.

#include <map>
#include <memory>
#include <optional>

#include "phalanx.pb.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft::core {

using EnvelopePtr = std::shared_ptr<const wire::Envelope>;

// One replica's signed vote (a prepare, commit or checkpoint) for a digest.
struct Vote {
  crypto::Digest digest;
  EnvelopePtr envelope;
  std::uint64_t state_size = 0;  // checkpoints only: the size the digest is a root over
};

struct Slot {
  // Current-view state; reset when a new view starts.
  View view = 0;
  EnvelopePtr pre_prepare;  // the primary's PRE-PREPARE for (view, seq), once accepted
  std::shared_ptr<const wire::PrePrepare> batch;
  crypto::Digest digest;
  std::map<ReplicaId, Vote> prepares;  // by sender, this view
  std::map<ReplicaId, Vote> commits;   // by sender, this view
  bool prepared = false;
  bool commit_sent = false;
  Instant touched_at = 0;   // when this view's state for the slot began (retransmission age)
  Instant accepted_at = 0;  // when its pre-prepare was accepted here (primary_monitor.h)

  // Survives view changes.
  bool committed = false;  // committed-local: 2f+1 matching commits (or a certificate)
  std::shared_ptr<const wire::PrePrepare> committed_batch;        // what executes at this seq
  std::optional<wire::PreparedCertificate> prepared_certificate;  // highest view it prepared
  std::optional<wire::CommitCertificate> commit_certificate;      // once committed
  Instant committed_at = 0;

  bool has_pre_prepare() const { return pre_prepare != nullptr; }

  // Votes and pre-prepares of an earlier view do not count in a new one (PBFT 4.4); the
  // certificates and the committed state do.
  void begin_view(View new_view, Instant now) {
    view = new_view;
    pre_prepare.reset();
    batch.reset();
    prepares.clear();
    commits.clear();
    prepared = false;
    commit_sent = false;
    touched_at = now;
  }
};

}  // namespace phalanx::pbft::core
