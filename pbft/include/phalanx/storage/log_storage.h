#pragma once
// storage::LogStorage: the durable store of a replica, in its data directory.
//
// Layout of the directory (docs/storage.md has the byte formats):
//   IDENTITY                    cluster id and replica id; load() refuses another's dir
//   log-<16 digits>.wal         append-only segments of checksummed records
//   snapshot-<16 digits>.snap   the latest snapshot (stable checkpoint state, its proof,
//                               the records it re-states), with a whole-file checksum
// Each record is framed as [u32 length][u8 type][3 zero bytes][u64 checksum][payload],
// the checksum being keyed BLAKE2b-64 over (length, type, payload) (crypto/checksum.h).
// append() writes all its records with one write and calls fdatasync once (group commit).
// A segment is closed when it has reached segment_bytes_max (the next append starts a new
// one, so a segment may exceed the limit by one append) or when a snapshot is saved;
// save_snapshot() writes a temporary file, syncs it, renames it into place, syncs the
// directory, closes the current segment, and only then deletes the segments and snapshot
// it supersedes, so a crash at any point leaves a loadable directory. The snapshot names
// the segment that follows it; that segment is created by the next append (segments are
// created only with records in them, their header and first records in one sync).
//
// load():
// - A bad record (short, bad header, checksum mismatch) at the end of the newest segment,
//   with no valid record after it, is a torn write: it is cut off (truncated on disk) and
//   reported through `on_notice` with the file, offset and byte count. (A bit flipped in
//   that very last record cannot be told from a torn write; docs/storage.md says so.)
//   A newest segment shorter than its header and holding a prefix of it (a crash while
//   the segment was created) is removed, and reported the same way.
// - A bad record anywhere else, a bad snapshot that is the newest one, an unknown record
//   type, a bad segment header or a missing segment is corruption: load() returns an
//   Error naming the file and the byte offset, and touches nothing.
// - An empty or missing directory loads as an empty DurableState (a new replica); a
//   missing one is created.
// - IDENTITY: if options.identity is set, it is written when the directory has none, and a
//   different one stored there is an Error naming both.
// - Only once everything checked out does load() cut the torn tail, remove leftovers
//   (*.tmp, superseded segments and snapshots) and write IDENTITY.
// save_snapshot() requires a seq no lower than the last saved snapshot's (asserted).
// load() may be called again: it re-reads the directory. append() and save_snapshot()
// need a successful load() first; after one of them failed they refuse every write (what
// a failed fdatasync left on disk is unknown until a restart reads it back).
//
// discard_state() moves everything the directory holds into a new subdirectory
// `discarded-<n>` (kept for inspection, never read again), for a replica that will rejoin
// by state transfer (phalanx-replica --rejoin).
//
// Thread-safety: none (see storage.h).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "phalanx/storage/file_system.h"
#include "phalanx/storage/storage.h"

namespace phalanx::storage {

struct LogStorageOptions {
  std::string dir;
  // Written on first use; load() fails if the directory holds another identity.
  std::string identity;  // e.g. "cluster=phalanx-1a2b3c4d replica=2"
  std::uint64_t segment_bytes_max = 64u << 20;
  std::uint64_t record_bytes_max = 64u << 20;  // larger lengths are corruption
  // Torn-tail truncations and the like; may be empty.
  // Write snapshot files on a thread of their own (save_snapshot returns at once; the
  // previous snapshot and the log stay until the new one is durable, so a crash meanwhile
  // loses nothing). For a node, whose protocol thread must not stall on a large state;
  // not with a SimFileSystem, which is single-threaded.
  bool background_snapshots = false;
  std::function<void(const std::string&)> on_notice = nullptr;
};

class LogStorage final : public Storage {
 public:
  LogStorage(std::shared_ptr<FileSystem> file_system, LogStorageOptions options);
  ~LogStorage() override;

  Result<pbft::DurableState> load() override;
  Status append(const std::vector<pbft::DurableRecord>& records) override;
  Status save_snapshot(const pbft::Snapshot& snapshot) override;
  StorageStats stats() const override { return stats_; }
  // Waits for the snapshot being written in the background, then writes the one waiting
  // for it, if any; the first error, if one failed.
  Status flush() override;

 private:
  Result<std::uint64_t> write_snapshot(const pbft::Snapshot& snapshot, std::uint64_t first_segment,
                                       std::uint64_t& syncs) const;
  Status finish_snapshot(pbft::Seq seq, const std::string& name, std::uint64_t first_segment,
                         std::uint64_t bytes);
  Status start_queued_snapshot();
  Status reap_snapshot(bool wait);

  struct Impl;
  std::shared_ptr<FileSystem> fs_;
  LogStorageOptions options_;
  StorageStats stats_;
  std::unique_ptr<Impl> impl_;
};

// Moves the contents of `dir` (if any) into `dir/discarded-<n>`, n one more than the
// highest existing one, and syncs both directories; returns that path. Earlier
// discarded-<n> directories stay where they are. When there is nothing to move (`dir`
// missing, or holding only earlier discarded-<n>), it creates nothing and returns "".
Result<std::string> discard_state(FileSystem& file_system, const std::string& dir);

}  // namespace phalanx::storage
