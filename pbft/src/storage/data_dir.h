#pragma once
// The names of the files in a data directory (log_storage.h), what a listing of it holds,
// and the error every corruption is reported with.
// Thread-safety: pure functions, apart from the FileSystem they are given.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/storage/file_system.h"

namespace phalanx::storage {

inline constexpr std::string_view kIdentityName = "IDENTITY";
inline constexpr std::string_view kTemporarySuffix = ".tmp";
inline constexpr std::string_view kDiscardedPrefix = "discarded-";

std::string join_path(const std::string& dir, std::string_view name);
std::string segment_name(std::uint64_t number);  // log-<16 digits>.wal
std::string snapshot_name(std::uint64_t seq);    // snapshot-<16 digits>.snap
// The number in a name, if the name is exactly what the functions above would produce.
std::optional<std::uint64_t> parse_segment_name(std::string_view name);
std::optional<std::uint64_t> parse_snapshot_name(std::string_view name);
std::optional<std::uint64_t> parse_discarded_name(std::string_view name);  // discarded-<n>

// The entries of a data directory that the store knows; others are left alone.
struct DataDirListing {
  std::map<std::uint64_t, std::string> segments;   // number -> name
  std::map<std::uint64_t, std::string> snapshots;  // seq -> name
  std::vector<std::string> temporaries;            // leftovers of interrupted writes
  bool has_identity = false;
};
Result<DataDirListing> list_data_dir(FileSystem& file_system, const std::string& dir);

// Writes a small file so that a crash leaves either the old one or the new one: a
// temporary file, synced, renamed into place, and the directory synced. Adds the syncs
// it issued to `syncs`.
Status write_file_atomically(FileSystem& file_system, const std::string& dir, std::string_view name,
                             ByteView data, std::uint64_t& syncs);

// "<path>: corrupt <what> at offset <offset> (<why>); the data directory cannot be
// trusted: move it aside or restart with --rejoin to recover by state transfer"
Error corruption_error(const std::string& path, std::string_view what, std::uint64_t offset,
                       std::string_view why);

}  // namespace phalanx::storage
