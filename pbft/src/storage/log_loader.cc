#include "log_loader.h"

#include <utility>
#include <vector>

#include "data_dir.h"
#include "segment_file.h"
#include "snapshot_file.h"

namespace phalanx::storage {

namespace {

// What loading found that it must change once everything checked out.
struct Changes {
  std::vector<std::pair<std::string, std::uint64_t>> truncations;  // path, new size
  std::vector<std::string> removals;
  std::vector<std::string> notices;
  bool write_identity = false;
};

std::string trim_newline(ByteView text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  return std::string(text);
}

Status check_identity(FileSystem& file_system, const std::string& dir,
                      const std::string& identity) {
  std::string path = join_path(dir, kIdentityName);
  auto stored = file_system.read_file(path);
  if (!stored) return stored.error();
  std::string found = trim_newline(stored.value());
  if (found != identity)
    return Error{path + ": this data directory belongs to '" + found + "', not to '" + identity +
                 "': point this replica at its own data directory"};
  return ok_status();
}

// Reads the newest snapshot into `loaded`; older ones are to go. Returns the number of the
// first segment that follows it (1 without a snapshot: the log starts at segment 1).
Result<std::uint64_t> read_newest_snapshot(FileSystem& file_system,
                                           const LogStorageOptions& options,
                                           const DataDirListing& listing, LoadedLog& loaded,
                                           Changes& changes) {
  if (listing.snapshots.empty()) return std::uint64_t{1};
  auto newest = std::prev(listing.snapshots.end());
  auto read = read_snapshot_file(file_system, join_path(options.dir, newest->second), newest->first,
                                 options.record_bytes_max);
  if (!read) return read.error();
  // DurableState's shape: the snapshot's records first in `records`, none in the snapshot.
  loaded.state.records = std::move(read.value().snapshot.records);
  read.value().snapshot.records.clear();
  loaded.state.snapshot = std::move(read.value().snapshot);
  loaded.snapshot_bytes = read.value().size_bytes;
  for (auto it = listing.snapshots.begin(); it != newest; ++it)
    changes.removals.push_back(join_path(options.dir, it->second));
  return read.value().first_segment;
}

// Reads the segments from `first_segment` on, in order, into `loaded`. Those below it were
// superseded by the snapshot (a crash kept them) and are to go.
Status read_segments(FileSystem& file_system, const LogStorageOptions& options,
                     const DataDirListing& listing, std::uint64_t first_segment, LoadedLog& loaded,
                     Changes& changes) {
  std::vector<std::pair<std::uint64_t, std::string>> segments;
  for (const auto& [number, name] : listing.segments) {
    if (number < first_segment)
      changes.removals.push_back(join_path(options.dir, name));
    else
      segments.emplace_back(number, name);
  }
  loaded.next_segment_number = first_segment;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& [number, name] = segments[i];
    std::string path = join_path(options.dir, name);
    if (number != loaded.next_segment_number)
      return Error{join_path(options.dir, segment_name(loaded.next_segment_number)) +
                   " is missing (the log goes on with " + name +
                   "); the data directory cannot be trusted: move it aside or restart with "
                   "--rejoin to recover by state transfer"};
    auto data = file_system.read_file(path);
    if (!data) return data.error();
    bool newest = i + 1 == segments.size();
    auto contents = read_segment(data.value(), path, number, newest, options.record_bytes_max);
    if (!contents) return contents.error();
    for (auto& record : contents.value().records) loaded.state.records.push_back(std::move(record));
    if (contents.value().torn_header) {
      changes.removals.push_back(path);
      loaded.truncated_bytes += data.value().size();
      changes.notices.push_back(path + ": torn segment header (" +
                                std::to_string(data.value().size()) + " bytes), removed the file");
      continue;  // its number is free again
    }
    loaded.open_segment = number;
    loaded.next_segment_number = number + 1;
    if (auto torn = contents.value().torn_offset) {
      std::uint64_t cut = data.value().size() - *torn;
      changes.truncations.emplace_back(path, *torn);
      loaded.truncated_bytes += cut;
      changes.notices.push_back(path + ": torn record at offset " + std::to_string(*torn) +
                                ", truncated " + std::to_string(cut) + " bytes");
    }
  }
  return ok_status();
}

Status apply(FileSystem& file_system, const LogStorageOptions& options, const Changes& changes,
             std::uint64_t& syncs) {
  for (const auto& [path, size] : changes.truncations) {
    if (auto truncated = file_system.truncate(path, size); !truncated) return truncated;
  }
  for (const std::string& path : changes.removals) {
    if (auto removed = file_system.remove(path); !removed) return removed;
  }
  if (!changes.removals.empty()) {
    if (auto synced = file_system.sync_dir(options.dir); !synced) return synced;
  }
  if (changes.write_identity) {
    if (auto written = write_file_atomically(file_system, options.dir, kIdentityName,
                                             options.identity + "\n", syncs);
        !written)
      return written;
  }
  if (options.on_notice) {
    for (const std::string& notice : changes.notices) options.on_notice(notice);
  }
  return ok_status();
}

}  // namespace

Result<LoadedLog> load_data_dir(FileSystem& file_system, const LogStorageOptions& options,
                                std::uint64_t& syncs) {
  LoadedLog loaded;
  Changes changes;
  changes.write_identity = !options.identity.empty();
  if (!file_system.exists(options.dir)) {
    // A new replica.
    if (auto created = file_system.create_dirs(options.dir); !created) return created.error();
    if (auto applied = apply(file_system, options, changes, syncs); !applied)
      return applied.error();
    return loaded;
  }
  auto listing = list_data_dir(file_system, options.dir);
  if (!listing) return listing.error();
  if (listing.value().has_identity && !options.identity.empty()) {
    changes.write_identity = false;
    if (auto checked = check_identity(file_system, options.dir, options.identity); !checked)
      return checked.error();
  }
  auto first_segment = read_newest_snapshot(file_system, options, listing.value(), loaded, changes);
  if (!first_segment) return first_segment.error();
  if (auto read = read_segments(file_system, options, listing.value(), first_segment.value(),
                                loaded, changes);
      !read)
    return read.error();
  for (const std::string& name : listing.value().temporaries)
    changes.removals.push_back(join_path(options.dir, name));

  // Everything checked out: now, and only now, change the directory.
  if (auto applied = apply(file_system, options, changes, syncs); !applied) return applied.error();
  return loaded;
}

}  // namespace phalanx::storage
