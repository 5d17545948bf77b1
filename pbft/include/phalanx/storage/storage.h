#pragma once
// storage::Storage: where a replica's driver makes the core's durable records and
// snapshots durable, and where it reads them back when it restarts (pbft/durable.h).
//
// Contract, for every implementation:
// - load() is called once, before anything is written. It returns what is durable: the
//   latest complete snapshot and every record appended after it, in append order. An
//   Error means the stored state cannot be trusted (corruption, I/O error, another
//   replica's directory); its message names the file and the offset.
// - append() writes the records and syncs them before it returns (one sync for the whole
//   call: group commit). A record that append() returned for survives any crash.
// - save_snapshot() makes the snapshot durable; afterwards load() returns it (or a later
//   one) and only the records appended after it. Records appended before it may be
//   deleted: the snapshot's own `records` re-state what of them still matters.
// - An Error from append() or save_snapshot() is an operating error (disk full, I/O):
//   the driver stops rather than send what it could not persist.
// Thread-safety: none; one thread (the node's protocol thread, or the simulator) uses it.

#include <cstdint>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/pbft/durable.h"

namespace phalanx::storage {

// `syncs` counts the file data syncs (AppendFile::sync, i.e. fdatasync) a storage issued,
// failed ones included: one per non-empty append, one per snapshot file, one per IDENTITY
// written. Directory syncs (sync_dir) are not counted: they make names durable, not data.
struct StorageStats {
  std::uint64_t appends = 0;          // append() calls that wrote at least one record
  std::uint64_t records = 0;          // records appended
  std::uint64_t bytes = 0;            // bytes appended (records with their framing)
  std::uint64_t syncs = 0;            // file data syncs issued (see above)
  std::uint64_t snapshots = 0;        // snapshots saved
  std::uint64_t snapshot_bytes = 0;   // bytes of the last snapshot file
  std::uint64_t truncated_bytes = 0;  // torn tail cut off by load()
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual Result<pbft::DurableState> load() = 0;
  virtual Status append(const std::vector<pbft::DurableRecord>& records) = 0;
  virtual Status save_snapshot(const pbft::Snapshot& snapshot) = 0;
  virtual StorageStats stats() const = 0;
  // Finishes any write still under way (a snapshot saved in the background); a clean
  // shutdown calls it so that nothing saved is left half done.
  virtual Status flush() { return ok_status(); }
};

// Keeps the durable state in memory: the latest snapshot and the records appended since.
// It survives a simulated crash (the simulator keeps the object), not a process exit, so
// a process that uses it restarts with nothing (see docs/storage.md: such a replica must
// rejoin). Memory is bounded by what the core keeps between two snapshots. Its stats count
// what a disk would cost: a sync per non-empty append and per snapshot; `bytes` and
// `snapshot_bytes` count payloads only (there is no framing). load() may be called any
// number of times.
class MemoryStorage final : public Storage {
 public:
  Result<pbft::DurableState> load() override;
  Status append(const std::vector<pbft::DurableRecord>& records) override;
  Status save_snapshot(const pbft::Snapshot& snapshot) override;
  StorageStats stats() const override { return stats_; }
  // Forgets everything, as a wiped disk would.
  void wipe();

 private:
  pbft::DurableState state_;
  StorageStats stats_;
};

}  // namespace phalanx::storage
