#pragma once
// The snapshot file: a stable checkpoint's state, its proof and the records it re-states,
// with a header checksum, a checksum per record and a checksum over the whole file.
//
// Layout (integers little-endian):
//   header, kSnapshotHeaderBytes = 104:
//     [8 bytes "PHXSNAP\0"][u32 format version][u32 zero][u64 seq][32 bytes digest]
//     [u64 first segment that follows the snapshot][u64 state bytes][u64 proof bytes]
//     [u64 record count][u64 record bytes][u64 checksum64 of the 96 bytes before it]
//   state bytes, proof bytes
//   records, framed as in a segment (record_format.h)
//   [u64 checksum64 of every byte before it]   (computed while writing: never a copy)
//
// A damaged header or record is reported at its own offset; damage that only the
// whole-file checksum sees lies in the state, the proof or that checksum itself, and is
// reported at the state's offset with the range it covers.
// Thread-safety: none beyond the FileSystem's.

#include <cstdint>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/pbft/durable.h"
#include "phalanx/storage/file_system.h"

namespace phalanx::storage {

inline constexpr std::size_t kSnapshotHeaderBytes = 104;
inline constexpr std::size_t kSnapshotTrailerBytes = 8;

// Writes `snapshot` to `path`, which must not exist, and syncs it (one sync, added to
// `syncs`). Returns the size of the file.
Result<std::uint64_t> write_snapshot_file(FileSystem& file_system, const std::string& path,
                                          const pbft::Snapshot& snapshot,
                                          std::uint64_t first_segment, std::uint64_t& syncs);

struct LoadedSnapshot {
  pbft::Snapshot snapshot;  // with its records
  std::uint64_t first_segment = 0;
  std::uint64_t size_bytes = 0;
};
// Reads and checks the snapshot file at `path`, whose name says it holds `seq`. Every
// damage is an Error (corruption_error in data_dir.h).
Result<LoadedSnapshot> read_snapshot_file(FileSystem& file_system, const std::string& path,
                                          std::uint64_t seq, std::uint64_t record_bytes_max);

}  // namespace phalanx::storage
