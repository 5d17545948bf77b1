#pragma once
// Reading a log segment back: its header, its records, and whether it ends with a torn
// write (log_storage.h says when that is a torn write and when it is corruption).
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/pbft/durable.h"

namespace phalanx::storage {

struct SegmentContents {
  std::vector<pbft::DurableRecord> records;
  // The file is only the beginning of its header: a crash while the segment was being
  // created. Only possible in the newest segment; the file holds nothing and may go.
  bool torn_header = false;
  // Where the torn write at the end of the newest segment begins: cut the file there.
  std::optional<std::uint64_t> torn_offset;
};

// Parses the segment file `path` (named for segment `number`) whose bytes are `data`.
// `newest`: whether it is the last segment of the log, the only one that may end torn.
// Every other defect is an Error (corruption_error in data_dir.h).
Result<SegmentContents> read_segment(ByteView data, const std::string& path, std::uint64_t number,
                                     bool newest, std::uint64_t record_bytes_max);

}  // namespace phalanx::storage
