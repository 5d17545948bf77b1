// LogStorage: append and save_snapshot over a FileSystem, and load through log_loader.h
// (log_storage.h has the contract; record_format.h, segment_file.h and snapshot_file.h the
// byte formats).
//
// After a failed write or sync the store refuses further writes: after a failed fdatasync
// the kernel may have dropped the dirty pages, so what is on disk is unknown until a
// restart reads it back (the lesson of PostgreSQL's "fsyncgate").
#include "phalanx/storage/log_storage.h"

#include <algorithm>
#include <chrono>
#include <future>

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

  // Background snapshots (LogStorageOptions::background_snapshots): the one being written,
  // and the latest one waiting for it. Each already rotated the log when it was saved.
  struct Queued {
    pbft::Snapshot snapshot;
    std::uint64_t first_segment = 0;
  };
  struct Writing {
    pbft::Seq seq = 0;
    std::string name;
    std::uint64_t first_segment = 0;
    std::uint64_t syncs = 0;  // the writer's own count, added to the stats when it is done
    std::future<Result<std::uint64_t>> done;
  };
  std::optional<Writing> writing;
  std::optional<Queued> queued;

  ~Impl() {
    if (writing) writing->done.wait();  // a snapshot under way is finished, not torn
  }

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
  if (auto reaped = reap_snapshot(false); !reaped) return reaped;
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
  if (auto reaped = reap_snapshot(false); !reaped) return reaped;
  if (impl_->failure) return Error{*impl_->failure};
  if (auto sized = check_record_sizes(snapshot.records, options_.record_bytes_max); !sized)
    return sized;

  // The records after this snapshot go to a new segment, whose number the snapshot names:
  // load() then knows which segments it superseded without trusting the directory order.
  // (A snapshot written in the background rotates now too: what is appended meanwhile
  // must not be in a segment its completion deletes.)
  std::uint64_t first_segment = impl_->next_segment_number;
  if (!options_.background_snapshots) {
    auto written = write_snapshot(snapshot, first_segment, stats_.syncs);
    if (!written) return impl_->fail(written.error());
    impl_->segment.reset();
    return finish_snapshot(snapshot.seq, snapshot_name(snapshot.seq), first_segment,
                           written.value());
  }
  impl_->segment.reset();                                 // the next append opens first_segment
  impl_->queued = Impl::Queued{snapshot, first_segment};  // replaces an older one waiting
  return start_queued_snapshot();
}

// Writes the snapshot file: a temporary, synced, renamed into place, directory synced.
Result<std::uint64_t> LogStorage::write_snapshot(const pbft::Snapshot& snapshot,
                                                 std::uint64_t first_segment,
                                                 std::uint64_t& syncs) const {
  std::string path = join_path(options_.dir, snapshot_name(snapshot.seq));
  std::string temporary = path + std::string(kTemporarySuffix);
  if (fs_->exists(temporary)) {
    if (auto removed = fs_->remove(temporary); !removed) return removed.error();
  }
  auto written = write_snapshot_file(*fs_, temporary, snapshot, first_segment, syncs);
  if (!written) return written.error();
  if (auto renamed = fs_->rename(temporary, path); !renamed) return renamed.error();
  if (auto synced = fs_->sync_dir(options_.dir); !synced) return synced.error();
  return written.value();
}

// The snapshot is durable: what it superseded may go.
Status LogStorage::finish_snapshot(pbft::Seq seq, const std::string& name,
                                   std::uint64_t first_segment, std::uint64_t bytes) {
  impl_->snapshot_seq = seq;
  ++stats_.snapshots;
  stats_.snapshot_bytes = bytes;
  if (auto removed = remove_superseded(*fs_, options_.dir, name, first_segment); !removed)
    return impl_->fail(removed.error());
  return ok_status();
}

// Starts writing the queued snapshot on a thread of its own, unless one is being written.
Status LogStorage::start_queued_snapshot() {
  if (impl_->writing || !impl_->queued) return ok_status();
  Impl::Queued queued = std::move(*impl_->queued);
  impl_->queued.reset();
  impl_->writing.emplace(Impl::Writing{});
  Impl::Writing& writing = *impl_->writing;
  writing.seq = queued.snapshot.seq;
  writing.name = snapshot_name(queued.snapshot.seq);
  writing.first_segment = queued.first_segment;
  // The thread owns its copy of the snapshot (the state bytes are shared, immutable) and
  // its own sync count; it touches nothing else of this object.
  writing.done = std::async(
      std::launch::async,
      [this, snapshot = std::move(queued.snapshot), first_segment = queued.first_segment,
       syncs = &writing.syncs] { return write_snapshot(snapshot, first_segment, *syncs); });
  return ok_status();
}

// Collects a background snapshot that is done (or waits for it, with `wait`), then starts
// the queued one.
Status LogStorage::reap_snapshot(bool wait) {
  if (!impl_->writing) return ok_status();
  if (!wait && impl_->writing->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return ok_status();
  Impl::Writing writing = std::move(*impl_->writing);
  impl_->writing.reset();
  Result<std::uint64_t> written = writing.done.get();
  stats_.syncs += writing.syncs;
  if (!written) return impl_->fail(written.error());
  if (auto finished =
          finish_snapshot(writing.seq, writing.name, writing.first_segment, written.value());
      !finished)
    return finished;
  return start_queued_snapshot();
}

Status LogStorage::flush() {
  return reap_snapshot(true);
}

}  // namespace phalanx::storage
