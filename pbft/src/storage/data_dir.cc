#include "data_dir.h"

#include <cinttypes>
#include <cstdio>

namespace phalanx::storage {

namespace {

constexpr std::string_view kSegmentPrefix = "log-";
constexpr std::string_view kSegmentSuffix = ".wal";
constexpr std::string_view kSnapshotPrefix = "snapshot-";
constexpr std::string_view kSnapshotSuffix = ".snap";

std::string numbered_name(std::string_view prefix, std::uint64_t number, std::string_view suffix) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%016" PRIu64, number);
  return std::string(prefix) + digits + std::string(suffix);
}

// The decimal number between `prefix` and `suffix`, at most 20 digits and no overflow.
std::optional<std::uint64_t> parse_number(std::string_view name, std::string_view prefix,
                                          std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

std::string join_path(const std::string& dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return dir + std::string(name);
  return dir + "/" + std::string(name);
}

std::string segment_name(std::uint64_t number) {
  return numbered_name(kSegmentPrefix, number, kSegmentSuffix);
}

std::string snapshot_name(std::uint64_t seq) {
  return numbered_name(kSnapshotPrefix, seq, kSnapshotSuffix);
}

std::optional<std::uint64_t> parse_segment_name(std::string_view name) {
  auto number = parse_number(name, kSegmentPrefix, kSegmentSuffix);
  if (!number || segment_name(*number) != name) return std::nullopt;
  return number;
}

std::optional<std::uint64_t> parse_snapshot_name(std::string_view name) {
  auto seq = parse_number(name, kSnapshotPrefix, kSnapshotSuffix);
  if (!seq || snapshot_name(*seq) != name) return std::nullopt;
  return seq;
}

std::optional<std::uint64_t> parse_discarded_name(std::string_view name) {
  auto number = parse_number(name, kDiscardedPrefix, "");
  if (!number || kDiscardedPrefix.size() + std::to_string(*number).size() != name.size())
    return std::nullopt;
  return number;
}

Result<DataDirListing> list_data_dir(FileSystem& file_system, const std::string& dir) {
  auto names = file_system.list(dir);
  if (!names) return names.error();
  DataDirListing listing;
  for (const std::string& name : names.value()) {
    if (auto number = parse_segment_name(name)) {
      listing.segments.emplace(*number, name);
    } else if (auto seq = parse_snapshot_name(name)) {
      listing.snapshots.emplace(*seq, name);
    } else if (name.ends_with(kTemporarySuffix)) {
      listing.temporaries.push_back(name);
    } else if (name == kIdentityName) {
      listing.has_identity = true;
    }
  }
  return listing;
}

Status write_file_atomically(FileSystem& file_system, const std::string& dir, std::string_view name,
                             ByteView data, std::uint64_t& syncs) {
  std::string path = join_path(dir, name);
  std::string temporary = path + std::string(kTemporarySuffix);
  // open_append appends: a leftover of an earlier attempt must go first.
  if (file_system.exists(temporary)) {
    if (auto removed = file_system.remove(temporary); !removed) return removed;
  }
  auto file = file_system.open_append(temporary);
  if (!file) return file.error();
  if (auto written = file.value()->append(data); !written) return written;
  ++syncs;
  if (auto synced = file.value()->sync(); !synced) return synced;
  if (auto renamed = file_system.rename(temporary, path); !renamed) return renamed;
  return file_system.sync_dir(dir);
}

Error corruption_error(const std::string& path, std::string_view what, std::uint64_t offset,
                       std::string_view why) {
  return Error{path + ": corrupt " + std::string(what) + " at offset " + std::to_string(offset) +
               " (" + std::string(why) +
               "); the data directory cannot be trusted: move it aside or restart with "
               "--rejoin to recover by state transfer"};
}

}  // namespace phalanx::storage
