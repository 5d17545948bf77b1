#pragma once
// What a replica makes durable, and what it is given back when it restarts.
//
// Crash-recovery (DESIGN.md "System model"): a correct replica may crash at any instant
// and restart with what it had made durable. Two things must survive:
// - everything it signed in the current window, so that it never signs a conflicting
//   message after a restart (that would make it Byzantine);
// - every batch it committed, so that a result a client accepted is never lost (S4).
//
// The core says what to keep (DurableRecord, in Actions::persist) and when a stable
// checkpoint's state may replace the log below it (Snapshot, in Actions::snapshot). A
// Storage (phalanx/storage/storage.h) writes them, syncs, and hands them back in order as
// a DurableState; Replica::recover() rebuilds the replica from it.
//
// Records hold bytes the core produced or verified: an envelope exactly as signed or
// received, or a small encoded message (wire::SlotVotes, wire::CheckpointCertificate).
// A storage treats them as opaque; it only has to return them unchanged and in order.
//
// Thread-safety: plain values; the shared bytes are immutable.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "phalanx/base/bytes.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/types.h"

namespace phalanx::pbft {

using SharedBytes = std::shared_ptr<const Bytes>;

struct DurableRecord {
  // The values are part of the on-disk format: never renumber.
  enum class Type : std::uint8_t {
    kSigned = 1,             // an Envelope this replica signed: PRE-PREPARE, PREPARE, COMMIT,
                             // CHECKPOINT, VIEW-CHANGE or NEW-VIEW
    kPrePrepare = 2,         // an Envelope: a primary's PRE-PREPARE this replica accepted
    kNewView = 3,            // an Envelope: a NEW-VIEW from another primary, accepted
    kPrepared = 4,           // a wire::SlotVotes: the 2f PREPAREs that prepared a slot
    kCommitted = 5,          // a wire::SlotVotes: the 2f+1 COMMITs that committed a slot
    kCommitCertificate = 6,  // a wire::CommitCertificate received whole (retransmission)
    kStableProof = 7,        // a wire::CheckpointCertificate: a stable checkpoint whose
                             // state this replica does not hold yet
    kRejoin = 8,             // rejoining without durable state: u64 horizon seq (0: not
                             // known yet), u64 done (0 or 1), little-endian
  };
  Type type = Type::kSigned;
  SharedBytes bytes;
};

inline std::string_view to_string(DurableRecord::Type type) {
  switch (type) {
    case DurableRecord::Type::kSigned:
      return "signed";
    case DurableRecord::Type::kPrePrepare:
      return "pre-prepare";
    case DurableRecord::Type::kNewView:
      return "new-view";
    case DurableRecord::Type::kPrepared:
      return "prepared";
    case DurableRecord::Type::kCommitted:
      return "committed";
    case DurableRecord::Type::kCommitCertificate:
      return "commit-certificate";
    case DurableRecord::Type::kStableProof:
      return "stable-proof";
    case DurableRecord::Type::kRejoin:
      return "rejoin";
  }
  return "unknown";
}

// True for the values above: a storage rejects any other type byte as corruption. (Inline,
// like to_string: the storage library needs them and must not depend on the core.)
inline bool is_known_record_type(std::uint8_t type) {
  // A switch rather than a range, so that -Wswitch points here when a type is added.
  switch (static_cast<DurableRecord::Type>(type)) {
    case DurableRecord::Type::kSigned:
    case DurableRecord::Type::kPrePrepare:
    case DurableRecord::Type::kNewView:
    case DurableRecord::Type::kPrepared:
    case DurableRecord::Type::kCommitted:
    case DurableRecord::Type::kCommitCertificate:
    case DurableRecord::Type::kStableProof:
    case DurableRecord::Type::kRejoin:
      return true;
  }
  return false;
}

// A stable checkpoint's state, with everything the replica holds durable above it at the
// moment it was taken. Once a Snapshot is durable, the records written before it may go:
// `records` re-states what of them still matters.
struct Snapshot {
  Seq seq = 0;
  crypto::Digest digest;  // the certified Merkle root of `state`
  SharedBytes state;      // the checkpoint state (application snapshot and client table)
  SharedBytes proof;      // wire::CheckpointCertificate: 2f+1 CHECKPOINTs (empty at seq 0)
  std::vector<DurableRecord> records;
};

// What a storage hands back at start: the latest durable snapshot, if any (its `records`
// moved to the front of `records` here, so they are empty in it), and every record
// written after it, in the order they were written.
struct DurableState {
  std::optional<Snapshot> snapshot;
  std::vector<DurableRecord> records;

  bool empty() const { return !snapshot && records.empty(); }
};

}  // namespace phalanx::pbft
