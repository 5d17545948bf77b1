// LogStorage: append and save_snapshot over a FileSystem, and load through log_loader.h
// (log_storage.h has the contract; record_format.h, segment_file.h and snapshot_file.h the
// byte formats).
//
// After a failed write or sync the store refuses further writes: after a failed fdatasync
// the kernel may have dropped the dirty pages, so what is on disk is unknown until a
// restart reads it back (the lesson of PostgreSQL's "fsyncgate").
#include "phalanx/storage/log_storage.h"

#include <algorithm>

#include "data_dir.h"
#include "log_loader.h"
#include "record_format.h"
#include "snapshot_file.h"

namespace phalanx::storage {

struct LogStorage::Impl {
  bool loaded = false;
  std::optional<std::string> failure;   // why writes are refused, after a failed one
  std::unique_ptr<AppendFile> segment;  // the segment appends go to; none before the first
  std::uint64_t next_segment_number = 1;
  std::optional<pbft::Seq> snapshot_seq;  // of the latest durable snapshot

  // Refuses every later write, and passes the error on.
  Status fail(const Error& error) {
    failure = error.message +
              " (an earlier write failed: restart to read back what is durable before "
              "writing again)";
    return error;
  }
};

namespace {

Status check_record_sizes(const std::vector<pbft::DurableRecord>& records,
                          std::uint64_t record_bytes_max) {
  for (const auto& record : records) {
    std::uint64_t size = record.bytes ? record.bytes->size() : 0;
    if (size > record_bytes_max)
      return Error{"a " + std::string(pbft::to_string(record.type)) + " record of " +
                   std::to_string(size) + " bytes exceeds record_bytes_max (" +
                   std::to_string(record_bytes_max) + ")"};
  }
  return ok_status();
}

// Removes what the snapshot `kept` superseded: the other snapshots, the segments below
// `first_segment`, and leftovers of interrupted writes.
Status remove_superseded(FileSystem& file_system, const std::string& dir, const std::string& kept,
                         std::uint64_t first_segment) {
  auto listing = list_data_dir(file_system, dir);
  if (!listing) return listing.error();
  // Older snapshots go before the segments they name: a crash in between must not leave
  // a snapshot whose segments are gone.
  std::vector<std::string> removals;
  for (const auto& [seq, name] : listing.value().snapshots)
    if (name != kept) removals.push_back(name);
  for (const auto& [number, name] : listing.value().segments)
    if (number < first_segment) removals.push_back(name);
  for (const std::string& name : listing.value().temporaries) removals.push_back(name);
  for (const std::string& name : removals) {
    if (auto removed = file_system.remove(join_path(dir, name)); !removed) return removed;
  }
  if (removals.empty()) return ok_status();
  return file_system.sync_dir(dir);
}

}  // namespace

LogStorage::LogStorage(std::shared_ptr<FileSystem> file_system, LogStorageOptions options)
    : fs_(std::move(file_system)), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  PHALANX_ASSERT(fs_ != nullptr, "LogStorage needs a file system");
  PHALANX_ASSERT(!options_.dir.empty(), "LogStorage needs a directory");
  PHALANX_ASSERT(options_.record_bytes_max <= kRecordBytesLimit,
                 "record_bytes_max above what a record's u32 length holds");
  PHALANX_ASSERT(options_.segment_bytes_max > 0, "segment_bytes_max must be positive");
}

LogStorage::~LogStorage() = default;

Result<pbft::DurableState> LogStorage::load() {
  impl_ = std::make_unique<Impl>();
  auto loaded = load_data_dir(*fs_, options_, stats_.syncs);
  if (!loaded) return loaded.error();
  stats_.truncated_bytes += loaded.value().truncated_bytes;
  if (loaded.value().state.snapshot) {
    impl_->snapshot_seq = loaded.value().state.snapshot->seq;
    stats_.snapshot_bytes = loaded.value().snapshot_bytes;
  }
  impl_->next_segment_number = loaded.value().next_segment_number;
  if (auto number = loaded.value().open_segment) {
    auto opened = fs_->open_append(join_path(options_.dir, segment_name(*number)));
    if (!opened) return opened.error();
    impl_->segment = std::move(opened.value());
  }
  impl_->loaded = true;
  return std::move(loaded.value().state);
}

Status LogStorage::append(const std::vector<pbft::DurableRecord>& records) {
  PHALANX_ASSERT(impl_->loaded, "LogStorage::append before a successful load()");
  if (records.empty()) return ok_status();
  if (impl_->failure) return Error{*impl_->failure};
  if (auto sized = check_record_sizes(records, options_.record_bytes_max); !sized) return sized;

  // Every segment but the open one is synced whole (each append syncs), so rotating only
  // needs the new file to be created, and its directory entry made durable below.
  bool new_segment = !impl_->segment || impl_->segment->size() >= options_.segment_bytes_max;
  Bytes buffer;
  if (new_segment) {
    impl_->segment.reset();
    std::string path = join_path(options_.dir, segment_name(impl_->next_segment_number));
    auto opened = fs_->open_append(path);
    if (!opened) return impl_->fail(opened.error());
    if (opened.value()->size() != 0)
      return impl_->fail(Error{path + ": a new segment already exists"});
    impl_->segment = std::move(opened.value());
    ++impl_->next_segment_number;
    buffer = encode_segment_header(impl_->next_segment_number - 1);
  }
  std::uint64_t header_bytes = buffer.size();
  std::uint64_t framed_bytes = 0;
  for (const auto& record : records)
    framed_bytes += framed_size(record.bytes ? record.bytes->size() : 0);
  buffer.reserve(header_bytes + framed_bytes);
  for (const auto& record : records)
    append_record(buffer, record.type, record.bytes ? ByteView(*record.bytes) : ByteView());

  // Group commit: one write and one sync for the whole batch.
  if (auto written = impl_->segment->append(buffer); !written) return impl_->fail(written.error());
  ++stats_.syncs;
  if (auto synced = impl_->segment->sync(); !synced) return impl_->fail(synced.error());
  if (new_segment) {
    if (auto synced = fs_->sync_dir(options_.dir); !synced) return impl_->fail(synced.error());
  }
  ++stats_.appends;
  stats_.records += records.size();
  stats_.bytes += framed_bytes;
  return ok_status();
}

Status LogStorage::save_snapshot(const pbft::Snapshot& snapshot) {
  PHALANX_ASSERT(impl_->loaded, "LogStorage::save_snapshot before a successful load()");
  PHALANX_ASSERT(!impl_->snapshot_seq || snapshot.seq >= *impl_->snapshot_seq,
                 "save_snapshot: a snapshot older than the saved one");
  if (impl_->failure) return Error{*impl_->failure};
  if (auto sized = check_record_sizes(snapshot.records, options_.record_bytes_max); !sized)
    return sized;

  const std::string& dir = options_.dir;
  // The records after this snapshot go to a new segment, whose number the snapshot names:
  // load() then knows which segments it superseded without trusting the directory order.
  std::uint64_t first_segment = impl_->next_segment_number;
  std::string name = snapshot_name(snapshot.seq);
  std::string path = join_path(dir, name);
  std::string temporary = path + std::string(kTemporarySuffix);
  if (fs_->exists(temporary)) {
    if (auto removed = fs_->remove(temporary); !removed) return impl_->fail(removed.error());
  }
  auto written = write_snapshot_file(*fs_, temporary, snapshot, first_segment, stats_.syncs);
  if (!written) return impl_->fail(written.error());
  if (auto renamed = fs_->rename(temporary, path); !renamed) return impl_->fail(renamed.error());
  if (auto synced = fs_->sync_dir(dir); !synced) return impl_->fail(synced.error());
  // The snapshot is durable. The next append creates segment first_segment; what the
  // snapshot superseded may go.
  impl_->segment.reset();
  impl_->snapshot_seq = snapshot.seq;
  ++stats_.snapshots;
  stats_.snapshot_bytes = written.value();

  if (auto removed = remove_superseded(*fs_, dir, name, first_segment); !removed)
    return impl_->fail(removed.error());
  return ok_status();
}

}  // namespace phalanx::storage
