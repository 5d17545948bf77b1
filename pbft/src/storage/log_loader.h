#pragma once
// Reading a data directory back (LogStorage::load, log_storage.h has the rules): the
// identity, the newest snapshot, the segments that follow it, a torn tail. Everything is
// read and checked before anything is changed; only then is the torn tail cut, are
// leftovers removed and IDENTITY written. On an Error the directory is as it was.
// Thread-safety: none beyond the FileSystem's.

#include <cstdint>
#include <optional>

#include "phalanx/base/result.h"
#include "phalanx/pbft/durable.h"
#include "phalanx/storage/file_system.h"
#include "phalanx/storage/log_storage.h"

namespace phalanx::storage {

struct LoadedLog {
  pbft::DurableState state;
  std::optional<std::uint64_t> open_segment;  // the newest segment, where appends go on
  std::uint64_t next_segment_number = 1;      // the number of the next segment to create
  std::uint64_t snapshot_bytes = 0;           // the size of the snapshot file, if any
  std::uint64_t truncated_bytes = 0;          // torn bytes cut off
};

// `syncs` gets the data syncs issued (writing IDENTITY), as StorageStats counts them.
Result<LoadedLog> load_data_dir(FileSystem& file_system, const LogStorageOptions& options,
                                std::uint64_t& syncs);

}  // namespace phalanx::storage
