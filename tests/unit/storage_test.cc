// The durable store (storage/log_storage.h, storage/storage.h) and the file systems under
// it (storage/file_system.h). Each test is named after the property of those headers it
// shows: what append() returned for survives, a torn tail is cut and anything else damaged
// is refused with the file and the offset, a snapshot replaces the log atomically.
#include "phalanx/storage/storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "phalanx/crypto/digest.h"
#include "phalanx/net/rng.h"
#include "phalanx/storage/file_system.h"
#include "phalanx/storage/log_storage.h"
#include "storage/record_format.h"
#include "storage/snapshot_file.h"

namespace phalanx::storage {
namespace {

using pbft::DurableRecord;
using pbft::DurableState;
using pbft::Snapshot;
using Type = DurableRecord::Type;
using CrashPolicy = SimFileSystem::CrashPolicy;

#define ASSERT_OK(expression)                             \
  do {                                                    \
    auto status_ = (expression);                          \
    ASSERT_TRUE(status_.ok()) << status_.error().message; \
  } while (false)

constexpr char kDir[] = "/data/replica-0";
constexpr char kIdentity[] = "cluster=test replica=0";
const std::string kFirstSegment = std::string(kDir) + "/log-0000000000000001.wal";
const std::string kSecondSegment = std::string(kDir) + "/log-0000000000000002.wal";

// ---- records, snapshots and their comparison ---------------------------------------------

Bytes pseudo_random_bytes(std::size_t size, std::uint64_t seed) {
  net::Rng rng(seed);
  Bytes out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = rng.next();
    for (std::size_t j = 0; j < 8 && i + j < size; ++j)
      out[i + j] = static_cast<char>(word >> (8 * j));
  }
  return out;
}

DurableRecord make_record(Type type, std::size_t size, std::uint64_t seed) {
  return {type, std::make_shared<const Bytes>(pseudo_random_bytes(size, seed))};
}

std::vector<Type> known_types() {
  std::vector<Type> types;
  for (int value = 0; value < 256; ++value)
    if (pbft::is_known_record_type(static_cast<std::uint8_t>(value)))
      types.push_back(static_cast<Type>(value));
  return types;
}

// Every record type, and sizes from empty to 1 MiB, around the framing's 16 bytes.
std::vector<DurableRecord> varied_records(std::uint64_t seed) {
  const std::vector<std::size_t> sizes{0, 1, 15, 16, 17, 255, 4096, 1u << 20};
  const std::vector<Type> types = known_types();
  std::vector<DurableRecord> records;
  for (std::size_t i = 0; i < std::max(sizes.size(), types.size()); ++i)
    records.push_back(make_record(types[i % types.size()], sizes[i % sizes.size()], seed + i));
  return records;
}

std::vector<DurableRecord> small_records(std::size_t count, std::uint64_t seed) {
  std::vector<DurableRecord> records;
  for (std::size_t i = 0; i < count; ++i)
    records.push_back(make_record(known_types()[i % known_types().size()], 10 + 7 * i, seed + i));
  return records;
}

std::vector<DurableRecord> concat(std::vector<DurableRecord> first,
                                  const std::vector<DurableRecord>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

void expect_records_equal(const std::vector<DurableRecord>& actual,
                          const std::vector<DurableRecord>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].type, expected[i].type) << "record " << i;
    ASSERT_TRUE(actual[i].bytes) << "record " << i;
    EXPECT_TRUE(*actual[i].bytes == *expected[i].bytes)
        << "record " << i << " differs (" << actual[i].bytes->size() << " bytes, expected "
        << expected[i].bytes->size() << ")";
  }
}

Snapshot make_snapshot(pbft::Seq seq, std::size_t state_bytes, std::vector<DurableRecord> records,
                       std::size_t proof_bytes = 100) {
  Snapshot snapshot;
  snapshot.seq = seq;
  snapshot.digest = crypto::blake2b("state at " + std::to_string(seq));
  snapshot.state = std::make_shared<const Bytes>(pseudo_random_bytes(state_bytes, seq));
  snapshot.proof = std::make_shared<const Bytes>(pseudo_random_bytes(proof_bytes, seq + 1000));
  snapshot.records = std::move(records);
  return snapshot;
}

void expect_snapshot_equal(const std::optional<Snapshot>& actual, const Snapshot& expected) {
  ASSERT_TRUE(actual.has_value());
  EXPECT_EQ(actual->seq, expected.seq);
  EXPECT_EQ(actual->digest, expected.digest);
  ASSERT_TRUE(actual->state && actual->proof);
  EXPECT_TRUE(*actual->state == *expected.state) << "the state differs";
  EXPECT_TRUE(*actual->proof == *expected.proof) << "the proof differs";
  EXPECT_TRUE(actual->records.empty()) << "load() moves a snapshot's records to the front";
}

// ---- storages and disks --------------------------------------------------------------------

LogStorageOptions options_for(const std::string& dir, std::vector<std::string>* notices = nullptr,
                              std::string identity = kIdentity) {
  LogStorageOptions options;
  options.dir = dir;
  options.identity = std::move(identity);
  if (notices != nullptr)
    options.on_notice = [notices](const std::string& notice) { notices->push_back(notice); };
  return options;
}

Result<DurableState> load_fresh(std::shared_ptr<FileSystem> file_system,
                                LogStorageOptions options) {
  LogStorage storage(std::move(file_system), std::move(options));
  return storage.load();
}

// Every file and its bytes: to show that a failed load() changed nothing.
std::map<std::string, Bytes> disk_image(SimFileSystem& disk) {
  std::map<std::string, Bytes> image;
  for (const std::string& path : disk.files()) image[path] = disk.read_file(path).value();
  return image;
}

// The offset of every record in a segment file, as the format defines it.
std::vector<std::uint64_t> record_offsets(ByteView data, std::uint64_t begin, std::uint64_t end) {
  std::vector<std::uint64_t> offsets;
  for (std::uint64_t offset = begin; offset < end;) {
    ParsedRecord record = parse_record(data.substr(0, end), offset, 64u << 20);
    PHALANX_ASSERT(record.outcome == ParsedRecord::Outcome::kOk, "a sound test log");
    offsets.push_back(offset);
    offset += record.size;
  }
  return offsets;
}

// The start of the record that holds byte `byte`, given the records' offsets.
std::uint64_t record_holding(const std::vector<std::uint64_t>& offsets, std::uint64_t byte) {
  auto after = std::upper_bound(offsets.begin(), offsets.end(), byte);
  PHALANX_ASSERT(after != offsets.begin(), "a byte inside a record");
  return *std::prev(after);
}

std::string at_offset(std::uint64_t offset) {
  return "at offset " + std::to_string(offset) + " ";
}

// A FileSystem decorator that counts operations and, once its budget is spent, fails every
// one of them as if the process had died there (leveldb's FaultInjectionTestEnv). It also
// counts the data and directory syncs it passes on.
class DyingFileSystem final : public FileSystem {
 public:
  explicit DyingFileSystem(std::shared_ptr<FileSystem> inner) : inner_(std::move(inner)) {}

  // The next `operations` operations succeed, every later one fails.
  void die_after(std::uint64_t operations) { budget_ = operations_ + operations; }
  std::uint64_t operations() const { return operations_; }
  std::uint64_t data_syncs() const { return data_syncs_; }
  std::uint64_t dir_syncs() const { return dir_syncs_; }

  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path) override {
    if (auto died = step(path)) return *died;
    auto file = inner_->open_append(path);
    if (!file) return file.error();
    return std::unique_ptr<AppendFile>(
        std::make_unique<File>(*this, path, std::move(file.value())));
  }
  Result<Bytes> read_file(const std::string& path) override {
    if (auto died = step(path)) return *died;
    return inner_->read_file(path);
  }
  Result<std::vector<std::string>> list(const std::string& dir) override {
    if (auto died = step(dir)) return *died;
    return inner_->list(dir);
  }
  bool exists(const std::string& path) override { return inner_->exists(path); }
  Status create_dirs(const std::string& dir) override {
    if (auto died = step(dir)) return *died;
    return inner_->create_dirs(dir);
  }
  Status rename(const std::string& from, const std::string& to) override {
    if (auto died = step(from)) return *died;
    return inner_->rename(from, to);
  }
  Status remove(const std::string& path) override {
    if (auto died = step(path)) return *died;
    return inner_->remove(path);
  }
  Status truncate(const std::string& path, std::uint64_t size) override {
    if (auto died = step(path)) return *died;
    return inner_->truncate(path, size);
  }
  Status sync_dir(const std::string& dir) override {
    if (auto died = step(dir)) return *died;
    ++dir_syncs_;
    return inner_->sync_dir(dir);
  }

 private:
  class File final : public AppendFile {
   public:
    File(DyingFileSystem& owner, std::string path, std::unique_ptr<AppendFile> inner)
        : owner_(owner), path_(std::move(path)), inner_(std::move(inner)) {}
    Status append(ByteView data) override {
      if (auto died = owner_.step(path_)) return *died;
      return inner_->append(data);
    }
    Status sync() override {
      if (auto died = owner_.step(path_)) return *died;
      ++owner_.data_syncs_;
      return inner_->sync();
    }
    std::uint64_t size() const override { return inner_->size(); }

   private:
    DyingFileSystem& owner_;
    std::string path_;
    std::unique_ptr<AppendFile> inner_;
  };

  std::optional<Error> step(const std::string& path) {
    if (budget_ && operations_ >= *budget_) return Error{path + ": the process died here"};
    ++operations_;
    return std::nullopt;
  }

  std::shared_ptr<FileSystem> inner_;
  std::optional<std::uint64_t> budget_;
  std::uint64_t operations_ = 0;
  std::uint64_t data_syncs_ = 0;
  std::uint64_t dir_syncs_ = 0;
};

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/phalanx-storage-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    PHALANX_ASSERT(made != nullptr, "mkdtemp failed");
    path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- round trips -----------------------------------------------------------------------------

// Appends in three batches, restarts, snapshots, appends, restarts: what comes back is what
// went in, in order, and the directory holds only what the last snapshot left.
void check_round_trip(const std::shared_ptr<FileSystem>& file_system, const std::string& dir) {
  const std::vector<DurableRecord> first = varied_records(1);
  {
    LogStorage storage(file_system, options_for(dir));
    auto loaded = storage.load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_TRUE(loaded.value().empty()) << "a missing directory loads empty";
    ASSERT_OK(storage.append({first.begin(), first.begin() + 1}));
    ASSERT_OK(storage.append({first.begin() + 1, first.begin() + 5}));
    ASSERT_OK(storage.append({first.begin() + 5, first.end()}));
  }
  const Snapshot snapshot = make_snapshot(50, 10'000, small_records(3, 100));
  const std::vector<DurableRecord> later{make_record(Type::kCommitted, 300, 7),
                                         make_record(Type::kSigned, 0, 8)};
  {
    LogStorage storage(file_system, options_for(dir));
    auto loaded = storage.load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_FALSE(loaded.value().snapshot);
    expect_records_equal(loaded.value().records, first);
    ASSERT_OK(storage.save_snapshot(snapshot));
    ASSERT_OK(storage.append(later));
  }
  auto loaded = load_fresh(file_system, options_for(dir));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_snapshot_equal(loaded.value().snapshot, snapshot);
  expect_records_equal(loaded.value().records, concat(snapshot.records, later));
  EXPECT_EQ(file_system->list(dir).value(),
            (std::vector<std::string>{"IDENTITY", "log-0000000000000002.wal",
                                      "snapshot-0000000000000050.snap"}))
      << "the snapshot superseded segment 1";
}

TEST(LogStorage, RecordsComeBackIdenticalAndInOrderOnASimulatedDisk) {
  check_round_trip(std::make_shared<SimFileSystem>(), kDir);
}

TEST(LogStorage, RecordsComeBackIdenticalAndInOrderOnARealDisk) {
  TempDir temp;
  check_round_trip(std::make_shared<PosixFileSystem>(), temp.path() + "/data");
}

TEST(LogStorage, SegmentsRotatePastTheLimitAndAreReadBackInOrder) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorageOptions options = options_for(kDir);
  options.segment_bytes_max = 1000;
  std::vector<DurableRecord> written;
  {
    LogStorage storage(disk, options);
    ASSERT_TRUE(storage.load().ok());
    for (std::uint64_t batch = 0; batch < 60; ++batch) {
      auto records = small_records(2, 100 * batch);
      ASSERT_OK(storage.append(records));
      written = concat(written, records);
    }
  }
  auto names = disk->list(kDir).value();
  std::size_t segments = std::count_if(
      names.begin(), names.end(), [](const std::string& name) { return name.ends_with(".wal"); });
  EXPECT_GT(segments, 2u);
  for (const std::string& path : disk->files()) {
    if (path.ends_with(".wal")) {
      EXPECT_LT(disk->synced_size(path), 1000u + 200u) << path << ": at most one append past";
    }
  }

  LogStorage storage(disk, options);
  auto loaded = storage.load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_records_equal(loaded.value().records, written);
  ASSERT_OK(storage.save_snapshot(make_snapshot(9, 100, {})));
  EXPECT_EQ(disk->list(kDir).value(),
            (std::vector<std::string>{"IDENTITY", "snapshot-0000000000000009.snap"}))
      << "every segment was superseded; the next one is created by the next append";
}

TEST(LogStorage, AMissingSegmentIsCorruption) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorageOptions options = options_for(kDir);
  options.segment_bytes_max = 100;
  {
    LogStorage storage(disk, options);
    ASSERT_TRUE(storage.load().ok());
    for (int batch = 0; batch < 3; ++batch) ASSERT_OK(storage.append(small_records(3, batch)));
  }
  ASSERT_OK(disk->remove(kSecondSegment));
  auto loaded = load_fresh(disk, options);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find(kSecondSegment + " is missing"), std::string::npos)
      << loaded.error().message;
}

TEST(LogStorage, ARecordAboveTheLimitIsRefusedBeforeAnythingIsWritten) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorageOptions options = options_for(kDir);
  options.record_bytes_max = 100;
  LogStorage storage(disk, options);
  ASSERT_TRUE(storage.load().ok());
  Status appended = storage.append({make_record(Type::kSigned, 101, 1)});
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find("exceeds record_bytes_max"), std::string::npos);
  EXPECT_FALSE(disk->exists(kFirstSegment));
  ASSERT_OK(storage.append({make_record(Type::kSigned, 100, 1)}));
}

// ---- group commit ---------------------------------------------------------------------------

TEST(LogStorageGroupCommit, OneAppendOfAHundredRecordsCostsOneDataSync) {
  auto disk = std::make_shared<DyingFileSystem>(std::make_shared<SimFileSystem>());
  LogStorage storage(disk, options_for(kDir));
  ASSERT_TRUE(storage.load().ok());
  ASSERT_OK(storage.append(small_records(1, 0)));  // creates the segment

  StorageStats before = storage.stats();
  std::uint64_t data_syncs = disk->data_syncs();
  std::uint64_t dir_syncs = disk->dir_syncs();
  auto hundred = small_records(100, 1);
  ASSERT_OK(storage.append(hundred));
  EXPECT_EQ(storage.stats().syncs - before.syncs, 1u);
  EXPECT_EQ(disk->data_syncs() - data_syncs, 1u);
  EXPECT_EQ(disk->dir_syncs() - dir_syncs, 0u);
  EXPECT_EQ(storage.stats().appends - before.appends, 1u);
  EXPECT_EQ(storage.stats().records - before.records, 100u);
  std::uint64_t framed = 0;
  for (const auto& record : hundred) framed += framed_size(record.bytes->size());
  EXPECT_EQ(storage.stats().bytes - before.bytes, framed);

  std::uint64_t operations = disk->operations();
  ASSERT_OK(storage.append({}));
  EXPECT_EQ(disk->operations(), operations) << "an empty append neither writes nor syncs";
  EXPECT_EQ(storage.stats().syncs - before.syncs, 1u);
  EXPECT_EQ(storage.stats().appends - before.appends, 1u);
}

// ---- torn tails and lost writes -----------------------------------------------------------------

TEST(LogStorageTornTail, EveryPrefixOfTheLastRecordLoadsWithTheRecordsBeforeIt) {
  auto source = std::make_shared<SimFileSystem>();
  const auto earlier = small_records(3, 10);
  const DurableRecord last = make_record(Type::kCommitted, 150, 20);
  {
    LogStorage storage(source, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(earlier));
    ASSERT_OK(storage.append({last}));
  }
  const Bytes full = source->read_file(kFirstSegment).value();
  const std::uint64_t last_bytes = framed_size(last.bytes->size());
  const std::uint64_t last_offset = full.size() - last_bytes;
  const DurableRecord after = make_record(Type::kSigned, 40, 30);

  for (std::uint64_t kept = 0; kept <= last_bytes; ++kept) {
    SCOPED_TRACE("kept " + std::to_string(kept) + " bytes of the last record");
    // The disk as a crash left it: the last record's write cut after `kept` bytes.
    auto disk = std::make_shared<SimFileSystem>();
    ASSERT_OK(disk->create_dirs(kDir));
    auto file = disk->open_append(kFirstSegment);
    ASSERT_OK(file.value()->append(ByteView(full).substr(0, last_offset + kept)));
    ASSERT_OK(file.value()->sync());

    std::vector<std::string> notices;
    LogStorage storage(disk, options_for(kDir, &notices));
    auto loaded = storage.load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    std::vector<DurableRecord> expected = kept == last_bytes ? concat(earlier, {last}) : earlier;
    expect_records_equal(loaded.value().records, expected);
    if (kept == 0 || kept == last_bytes) {
      EXPECT_TRUE(notices.empty());
      EXPECT_EQ(storage.stats().truncated_bytes, 0u);
    } else {
      EXPECT_EQ(notices, std::vector<std::string>{kFirstSegment + ": torn record at offset " +
                                                  std::to_string(last_offset) + ", truncated " +
                                                  std::to_string(kept) + " bytes"});
      EXPECT_EQ(storage.stats().truncated_bytes, kept);
      EXPECT_EQ(disk->synced_size(kFirstSegment), last_offset) << "cut on disk";
    }
    ASSERT_OK(storage.append({after}));
    auto reloaded = load_fresh(disk, options_for(kDir));
    ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
    expect_records_equal(reloaded.value().records, concat(expected, {after}));
  }
}

TEST(LogStorageTornTail, APartlyWrittenHeaderOfANewSegmentIsRemoved) {
  auto source = std::make_shared<SimFileSystem>();
  const auto earlier = small_records(3, 10);
  {
    LogStorage storage(source, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(earlier));
  }
  const Bytes header = encode_segment_header(2);
  for (std::size_t kept = 0; kept < header.size(); ++kept) {
    SCOPED_TRACE("kept " + std::to_string(kept) + " bytes of the header");
    auto disk = std::make_shared<SimFileSystem>();
    ASSERT_OK(disk->create_dirs(kDir));
    for (const auto& [path, bytes] :
         std::map<std::string, Bytes>{{kFirstSegment, source->read_file(kFirstSegment).value()},
                                      {kSecondSegment, header.substr(0, kept)}}) {
      auto file = disk->open_append(path);
      ASSERT_OK(file.value()->append(bytes));
      ASSERT_OK(file.value()->sync());
    }
    std::vector<std::string> notices;
    LogStorage storage(disk, options_for(kDir, &notices));
    auto loaded = storage.load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    expect_records_equal(loaded.value().records, earlier);
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find(kSecondSegment + ": torn segment header"), std::string::npos);
    EXPECT_FALSE(disk->exists(kSecondSegment));
    const auto after = small_records(2, 50);
    ASSERT_OK(storage.append(after));
    auto reloaded = load_fresh(disk, options_for(kDir));
    ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
    expect_records_equal(reloaded.value().records, concat(earlier, after));
  }
}

// A failing sync, then a power cut that keeps a random prefix of what the failed append
// wrote (maybe inside a record, maybe inside a new segment's header): every seed loads the
// synced records and whole records of the failed batch only.
TEST(LogStorageTornTail, ACrashAfterAFailedSyncAlwaysLoadsTheSyncedRecords) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto disk = std::make_shared<SimFileSystem>();
    net::Rng rng(seed);
    LogStorageOptions options = options_for(kDir);
    options.segment_bytes_max = 300;
    std::vector<DurableRecord> synced;
    LogStorage storage(disk, options);
    ASSERT_TRUE(storage.load().ok());
    for (std::uint64_t batch = 0; batch < rng.uniform(1, 4); ++batch) {
      auto records = small_records(rng.uniform(1, 4), seed * 100 + batch * 10);
      ASSERT_OK(storage.append(records));
      synced = concat(synced, records);
    }
    const auto failed = small_records(rng.uniform(1, 4), seed * 100 + 99);
    disk->fail_next_syncs(1);
    ASSERT_FALSE(storage.append(failed).ok());
    disk->crash(CrashPolicy::kKeepPrefix, rng);

    LogStorage restarted(disk, options);
    auto loaded = restarted.load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    const auto& records = loaded.value().records;
    ASSERT_GE(records.size(), synced.size());
    ASSERT_LE(records.size(), synced.size() + failed.size());
    std::vector<DurableRecord> expected = synced;
    expected.insert(expected.end(), failed.begin(),
                    failed.begin() + static_cast<std::ptrdiff_t>(records.size() - synced.size()));
    expect_records_equal(records, expected);
    ASSERT_OK(restarted.append(small_records(1, 7)));
    auto reloaded = load_fresh(disk, options);
    ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
    EXPECT_EQ(reloaded.value().records.size(), expected.size() + 1);
  }
}

TEST(LogStorageDropUnsynced, RecordsWhoseSyncNeverHappenedAreGoneAndSyncedOnesStay) {
  auto disk = std::make_shared<SimFileSystem>();
  const auto synced = varied_records(1);
  {
    LogStorage storage(disk, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(synced));
    disk->fail_next_syncs(1);
    ASSERT_FALSE(storage.append(small_records(5, 2)).ok());
  }
  net::Rng rng(1);
  disk->crash(CrashPolicy::kDropUnsynced, rng);
  std::vector<std::string> notices;
  auto loaded = load_fresh(disk, options_for(kDir, &notices));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_records_equal(loaded.value().records, synced);
  EXPECT_TRUE(notices.empty()) << "nothing torn: the unsynced bytes are simply gone";
}

TEST(LogStorageFailedSync, AppendReportsTheIoErrorAndRefusesLaterWritesUntilReloaded) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorage storage(disk, options_for(kDir));
  ASSERT_TRUE(storage.load().ok());
  ASSERT_OK(storage.append(small_records(2, 1)));
  disk->fail_next_syncs(1);
  Status failed = storage.append(small_records(2, 2));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("Input/output error"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find(kFirstSegment), std::string::npos);
  Status later = storage.append(small_records(1, 3));
  ASSERT_FALSE(later.ok()) << "after a failed fdatasync the file's contents are unknown";
  EXPECT_FALSE(storage.save_snapshot(make_snapshot(5, 10, {})).ok());

  auto reloaded = storage.load();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  ASSERT_OK(storage.append(small_records(1, 4)));
}

// ---- damage: every flipped bit is found, named and left alone -------------------------------

// Flips every bit of `path` in [bit_begin, bit_end) one at a time: load() must refuse with
// the file and the offset `expected_offset(byte)` and leave the disk as it was.
template <typename ExpectedOffset>
void expect_every_flip_refused(const std::shared_ptr<SimFileSystem>& disk, const std::string& path,
                               std::uint64_t bit_begin, std::uint64_t bit_end,
                               ExpectedOffset expected_offset) {
  for (std::uint64_t bit = bit_begin; bit < bit_end; ++bit) {
    disk->flip_bit(path, bit);
    const auto before = disk_image(*disk);
    auto loaded = load_fresh(disk, options_for(kDir));
    const std::uint64_t offset = expected_offset(bit / 8);
    if (loaded.ok()) {
      ADD_FAILURE() << path << ": a flip of bit " << bit << " went unnoticed";
    } else {
      const std::string& message = loaded.error().message;
      EXPECT_EQ(message.rfind(path + ": corrupt ", 0), 0u) << "bit " << bit << ": " << message;
      EXPECT_NE(message.find(at_offset(offset)), std::string::npos)
          << "bit " << bit << ", expected offset " << offset << ": " << message;
      EXPECT_NE(message.find("--rejoin"), std::string::npos) << message;
    }
    EXPECT_TRUE(disk_image(*disk) == before) << "bit " << bit << ": load() changed the disk";
    disk->flip_bit(path, bit);
  }
}

TEST(LogStorageBitFlips, AFlipAnywhereButInTheNewestRecordIsReportedWithFileAndOffset) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorageOptions options = options_for(kDir);
  options.segment_bytes_max = 150;
  {
    LogStorage storage(disk, options);
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(small_records(3, 1)));
    ASSERT_OK(storage.append(small_records(2, 2)));
    ASSERT_OK(storage.append(small_records(3, 3)));  // a new segment: the first is full
  }
  ASSERT_TRUE(disk->exists(kSecondSegment));
  for (const std::string& path : {kFirstSegment, kSecondSegment}) {
    SCOPED_TRACE(path);
    const Bytes data = disk->read_file(path).value();
    const auto offsets = record_offsets(data, kSegmentHeaderBytes, data.size());
    // In the newest segment, a flip in the very last record looks like a torn write.
    const std::uint64_t end = path == kSecondSegment ? offsets.back() : data.size();
    expect_every_flip_refused(disk, path, 0, 8 * end, [&](std::uint64_t byte) {
      return byte < kSegmentHeaderBytes ? 0 : record_holding(offsets, byte);
    });
  }
}

// The same on larger records, for a seeded sample of bits: the scan for a valid record
// after a damaged one must cross whole payloads.
TEST(LogStorageBitFlips, ASampleOfFlipsInALogOfLargerRecordsIsReportedWithFileAndOffset) {
  auto disk = std::make_shared<SimFileSystem>();
  {
    LogStorage storage(disk, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    for (std::uint64_t batch = 0; batch < 4; ++batch) {
      ASSERT_OK(storage.append({make_record(Type::kPrePrepare, 60'000 + batch, batch),
                                make_record(Type::kCommitted, 300, 10 + batch)}));
    }
  }
  const Bytes data = disk->read_file(kFirstSegment).value();
  const auto offsets = record_offsets(data, kSegmentHeaderBytes, data.size());
  net::Rng rng(2024);
  for (int sample = 0; sample < 500; ++sample) {
    std::uint64_t bit = rng.uniform(0, 8 * offsets.back() - 1);
    std::uint64_t byte = bit / 8;
    std::uint64_t offset = byte < kSegmentHeaderBytes ? 0 : record_holding(offsets, byte);
    expect_every_flip_refused(disk, kFirstSegment, bit, bit + 1,
                              [offset](std::uint64_t) { return offset; });
  }
}

TEST(LogStorageBitFlips, AnyFlipInTheSnapshotIsReportedWithFileAndOffset) {
  auto disk = std::make_shared<SimFileSystem>();
  const Snapshot snapshot = make_snapshot(10, 64, small_records(3, 5), 32);
  {
    LogStorage storage(disk, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.save_snapshot(snapshot));
  }
  const std::string path = std::string(kDir) + "/snapshot-0000000000000010.snap";
  const Bytes data = disk->read_file(path).value();
  const std::uint64_t records_offset = kSnapshotHeaderBytes + 64 + 32;
  const std::uint64_t trailer_offset = data.size() - kSnapshotTrailerBytes;
  const auto offsets = record_offsets(data, records_offset, trailer_offset);
  ASSERT_EQ(offsets.size(), 3u);
  expect_every_flip_refused(disk, path, 0, 8 * data.size(), [&](std::uint64_t byte) {
    if (byte < kSnapshotHeaderBytes) return std::uint64_t{0};
    if (byte >= records_offset && byte < trailer_offset) return record_holding(offsets, byte);
    return std::uint64_t{kSnapshotHeaderBytes};  // state, proof, or the file checksum
  });
}

// ---- snapshots ---------------------------------------------------------------------------------

// Kills the process after every number of file operations that save_snapshot() performs,
// then cuts the power: what loads is the old state or the new one, whole.
TEST(LogStorageSnapshot, ACrashAtAnyPointLeavesEitherTheOldOrTheNewState) {
  const Snapshot old_snapshot = make_snapshot(10, 500, small_records(2, 1));
  const auto appended = small_records(4, 2);
  const Snapshot new_snapshot = make_snapshot(20, 700, small_records(3, 3));
  const std::vector<DurableRecord> old_records = concat(old_snapshot.records, appended);

  for (CrashPolicy policy : {CrashPolicy::kDropUnsynced, CrashPolicy::kKeepAll}) {
    bool saw_old = false;
    bool saw_new = false;
    for (std::uint64_t survived = 0;; ++survived) {
      SCOPED_TRACE("the process died after " + std::to_string(survived) + " operations");
      auto sim = std::make_shared<SimFileSystem>();
      auto dying = std::make_shared<DyingFileSystem>(sim);
      LogStorage storage(dying, options_for(kDir));
      ASSERT_TRUE(storage.load().ok());
      ASSERT_OK(storage.save_snapshot(old_snapshot));
      ASSERT_OK(storage.append({appended.begin(), appended.begin() + 2}));
      ASSERT_OK(storage.append({appended.begin() + 2, appended.end()}));
      dying->die_after(survived);
      Status saved = storage.save_snapshot(new_snapshot);
      net::Rng rng(survived);
      sim->crash(policy, rng);

      LogStorage restarted(sim, options_for(kDir));
      auto loaded = restarted.load();
      ASSERT_TRUE(loaded.ok()) << loaded.error().message;
      ASSERT_TRUE(loaded.value().snapshot);
      if (loaded.value().snapshot->seq == new_snapshot.seq) {
        saw_new = true;
        expect_snapshot_equal(loaded.value().snapshot, new_snapshot);
        expect_records_equal(loaded.value().records, new_snapshot.records);
      } else {
        saw_old = true;
        EXPECT_FALSE(saved.ok()) << "a saved snapshot must survive";
        expect_snapshot_equal(loaded.value().snapshot, old_snapshot);
        expect_records_equal(loaded.value().records, old_records);
      }
      // Life goes on after the restart.
      const auto after = small_records(1, 9);
      ASSERT_OK(restarted.append(after));
      auto reloaded = load_fresh(sim, options_for(kDir));
      ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
      EXPECT_EQ(reloaded.value().records.size(), loaded.value().records.size() + 1);
      if (saved.ok()) {  // the process outlived the whole save_snapshot()
        EXPECT_GE(survived, 10u) << "open, write, sync, rename, sync_dir, list, remove...";
        break;
      }
    }
    EXPECT_TRUE(saw_old);
    EXPECT_TRUE(saw_new);
  }
}

TEST(LogStorageSnapshot, ANewerSnapshotReplacesTheOlderOneAndItsLog) {
  auto disk = std::make_shared<SimFileSystem>();
  LogStorage storage(disk, options_for(kDir));
  ASSERT_TRUE(storage.load().ok());
  ASSERT_OK(storage.append(small_records(3, 1)));
  ASSERT_OK(storage.save_snapshot(make_snapshot(5, 100, small_records(1, 2))));
  ASSERT_OK(storage.append(small_records(3, 3)));
  const Snapshot latest = make_snapshot(9, 100, small_records(2, 4));
  ASSERT_OK(storage.save_snapshot(latest));
  EXPECT_EQ(storage.stats().snapshots, 2u);
  EXPECT_EQ(storage.stats().snapshot_bytes,
            disk->synced_size(std::string(kDir) + "/snapshot-0000000000000009.snap"));
  EXPECT_EQ(disk->list(kDir).value(),
            (std::vector<std::string>{"IDENTITY", "snapshot-0000000000000009.snap"}));
  auto loaded = load_fresh(disk, options_for(kDir));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_snapshot_equal(loaded.value().snapshot, latest);
  expect_records_equal(loaded.value().records, latest.records);
}

TEST(LogStorageSnapshot, A64MiBSnapshotRoundTripsThroughARealDisk) {
  TempDir temp;
  const std::string dir = temp.path() + "/data";
  auto disk = std::make_shared<PosixFileSystem>();
  const Snapshot snapshot = make_snapshot(1000, 64u << 20, small_records(10, 1));
  using Clock = std::chrono::steady_clock;
  LogStorage storage(disk, options_for(dir));
  ASSERT_TRUE(storage.load().ok());
  auto write_start = Clock::now();
  ASSERT_OK(storage.save_snapshot(snapshot));
  auto write_end = Clock::now();
  auto loaded = load_fresh(disk, options_for(dir));
  auto read_end = Clock::now();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_snapshot_equal(loaded.value().snapshot, snapshot);
  expect_records_equal(loaded.value().records, snapshot.records);

  auto mib_per_second = [](Clock::duration elapsed) {
    double seconds = std::chrono::duration<double>(elapsed).count();
    return 64.0 / std::max(seconds, 1e-9);
  };
  std::printf("[ storage  ] 64 MiB snapshot: write %.0f MiB/s (with fdatasync), read %.0f MiB/s\n",
              mib_per_second(write_end - write_start), mib_per_second(read_end - write_end));
}

// Background snapshots (the node's mode): save_snapshot returns at once; what is appended
// while the file is written goes to the new segment; a second and third snapshot saved
// meanwhile wait, the latest replacing the earlier, and the result loads the same as if
// everything had been written in line.
TEST(LogStorageSnapshot, BackgroundSnapshotsLoadAsIfWrittenInLine) {
  TempDir temp;
  const std::string dir = temp.path() + "/data";
  auto disk = std::make_shared<PosixFileSystem>();
  LogStorageOptions options = options_for(dir);
  options.background_snapshots = true;
  const Snapshot first = make_snapshot(100, 8u << 20, small_records(3, 1));
  const Snapshot second = make_snapshot(200, 1024, small_records(4, 2));
  const Snapshot third = make_snapshot(300, 2048, small_records(5, 3));
  const auto after = small_records(6, 4);
  {
    LogStorage storage(disk, options);
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(small_records(7, 5)));
    ASSERT_OK(storage.save_snapshot(first));
    ASSERT_OK(storage.append(small_records(2, 6)));
    ASSERT_OK(storage.save_snapshot(second));  // waits for the first
    ASSERT_OK(storage.save_snapshot(third));   // replaces the second
    ASSERT_OK(storage.append(after));
    ASSERT_OK(storage.flush());
  }  // the destructor would also wait
  auto loaded = load_fresh(disk, options_for(dir));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  expect_snapshot_equal(loaded.value().snapshot, third);
  std::vector<DurableRecord> expected = third.records;
  expected.insert(expected.end(), after.begin(), after.end());
  expect_records_equal(loaded.value().records, expected);
}

// ---- identity and discarding -------------------------------------------------------------------

TEST(LogStorageIdentity, AnotherReplicasDirectoryIsRefusedNamingBothIdentities) {
  auto disk = std::make_shared<SimFileSystem>();
  {
    LogStorage storage(disk, options_for(kDir));
    ASSERT_TRUE(storage.load().ok());
    ASSERT_OK(storage.append(small_records(2, 1)));
  }
  EXPECT_EQ(disk->read_file(std::string(kDir) + "/IDENTITY").value(),
            std::string(kIdentity) + "\n");
  const auto before = disk_image(*disk);
  auto loaded = load_fresh(disk, options_for(kDir, nullptr, "cluster=test replica=3"));
  ASSERT_FALSE(loaded.ok());
  const std::string& message = loaded.error().message;
  EXPECT_NE(message.find(kIdentity), std::string::npos) << message;
  EXPECT_NE(message.find("cluster=test replica=3"), std::string::npos) << message;
  EXPECT_NE(message.find(std::string(kDir) + "/IDENTITY"), std::string::npos) << message;
  EXPECT_TRUE(disk_image(*disk) == before);
}

TEST(LogStorageDiscardState, MovesEverythingAsideAndTheNextLoadIsEmpty) {
  auto disk = std::make_shared<SimFileSystem>();
  auto missing = discard_state(*disk, kDir);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.value(), "") << "nothing to discard: nothing created";
  EXPECT_FALSE(disk->exists(kDir));

  for (int round = 1; round <= 2; ++round) {
    {
      LogStorage storage(disk, options_for(kDir));
      auto loaded = storage.load();
      ASSERT_TRUE(loaded.ok()) << loaded.error().message;
      EXPECT_TRUE(loaded.value().empty()) << "round " << round;
      ASSERT_OK(storage.save_snapshot(make_snapshot(4, 10, {})));
      ASSERT_OK(storage.append(small_records(2, 1)));
    }
    auto discarded = discard_state(*disk, kDir);
    ASSERT_TRUE(discarded.ok()) << discarded.error().message;
    const std::string expected = std::string(kDir) + "/discarded-" + std::to_string(round);
    EXPECT_EQ(discarded.value(), expected);
    EXPECT_EQ(disk->list(expected).value(),
              (std::vector<std::string>{"IDENTITY", "log-0000000000000001.wal",
                                        "snapshot-0000000000000004.snap"}));
  }
  EXPECT_EQ(disk->list(kDir).value(), (std::vector<std::string>{"discarded-1", "discarded-2"}));
  auto loaded = load_fresh(disk, options_for(kDir));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_TRUE(loaded.value().empty());
}

// ---- the file systems
// ----------------------------------------------------------------------------

TEST(SimFileSystem, ACrashKeepsTheSyncedBytesAndWhatThePolicySays) {
  const Bytes synced = "synced:";
  const Bytes unsynced = "not synced yet";
  auto crashed_disk = [&](CrashPolicy policy, std::uint64_t seed) {
    SimFileSystem disk;
    EXPECT_TRUE(disk.create_dirs("/d").ok());
    auto file = disk.open_append("/d/f");
    EXPECT_TRUE(file.value()->append(synced).ok());
    EXPECT_TRUE(file.value()->sync().ok());
    EXPECT_TRUE(file.value()->append(unsynced).ok());
    EXPECT_EQ(disk.read_file("/d/f").value(), synced + unsynced) << "the page cache shows all";
    EXPECT_EQ(disk.synced_size("/d/f"), synced.size());
    net::Rng rng(seed);
    disk.crash(policy, rng);
    Status dead = file.value()->append("more");
    EXPECT_FALSE(dead.ok());
    if (!dead.ok()) {
      EXPECT_NE(dead.error().message.find("crashed"), std::string::npos);
    }
    EXPECT_FALSE(file.value()->sync().ok());
    return disk.read_file("/d/f").value();
  };
  EXPECT_EQ(crashed_disk(CrashPolicy::kDropUnsynced, 1), synced);
  EXPECT_EQ(crashed_disk(CrashPolicy::kKeepAll, 1), synced + unsynced);
  std::set<std::size_t> kept_sizes;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Bytes kept = crashed_disk(CrashPolicy::kKeepPrefix, seed);
    EXPECT_EQ(kept, crashed_disk(CrashPolicy::kKeepPrefix, seed)) << "the seed decides";
    EXPECT_EQ((synced + unsynced).rfind(kept, 0), 0u) << "a prefix";
    kept_sizes.insert(kept.size());
  }
  EXPECT_GT(kept_sizes.size(), 5u) << "the prefix varies with the seed";
}

TEST(SimFileSystem, TruncateRenameAndRemoveBehaveLikeADisk) {
  SimFileSystem disk;
  ASSERT_OK(disk.create_dirs("/a/b"));
  auto file = disk.open_append("/a/b/f");
  ASSERT_OK(file.value()->append("0123456789"));
  ASSERT_OK(file.value()->sync());
  ASSERT_OK(file.value()->append("abcdef"));
  ASSERT_OK(disk.truncate("/a/b/f", 12));
  EXPECT_EQ(disk.read_file("/a/b/f").value(), "0123456789ab");
  ASSERT_OK(disk.truncate("/a/b/f", 4));
  EXPECT_EQ(disk.read_file("/a/b/f").value(), "0123");
  EXPECT_EQ(disk.synced_size("/a/b/f"), 4u);
  disk.flip_bit("/a/b/f", 8);  // bit 0 of byte 1
  EXPECT_EQ(disk.read_file("/a/b/f").value(), "0023");

  EXPECT_FALSE(disk.open_append("/nowhere/f").ok()) << "the directory must exist";
  ASSERT_OK(disk.rename("/a/b/f", "/a/g"));
  ASSERT_OK(file.value()->append("!"));
  EXPECT_EQ(disk.read_file("/a/g").value(), "0023!") << "an open file follows its rename";
  ASSERT_OK(disk.rename("/a", "/c"));
  EXPECT_EQ(disk.files(), std::vector<std::string>{"/c/g"});
  EXPECT_EQ(disk.list("/c").value(), (std::vector<std::string>{"b", "g"}));
  EXPECT_FALSE(disk.remove("/c").ok()) << "not empty";
  ASSERT_OK(disk.remove("/c/g"));
  ASSERT_OK(disk.remove("/c/b"));
  ASSERT_OK(disk.remove("/c"));
  EXPECT_FALSE(disk.exists("/c"));
  Result<Bytes> missing = disk.read_file("/c/g");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/c/g"), std::string::npos);
}

TEST(PosixFileSystem, FilesArePrivateAndErrorsNameThePathAndTheReason) {
  TempDir temp;
  PosixFileSystem disk;
  const std::string dir = temp.path() + "/x/y";
  ASSERT_OK(disk.create_dirs(dir));
  ASSERT_OK(disk.create_dirs(dir));  // mkdir -p: an existing directory is fine
  auto file = disk.open_append(dir + "/f");
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_OK(file.value()->append("hello"));
  ASSERT_OK(file.value()->sync());
  EXPECT_EQ(file.value()->size(), 5u);
  struct stat info;
  ASSERT_EQ(::stat((dir + "/f").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);

  auto reopened = disk.open_append(dir + "/f");
  EXPECT_EQ(reopened.value()->size(), 5u) << "appends at the end";
  ASSERT_OK(reopened.value()->append(" world"));
  EXPECT_EQ(disk.read_file(dir + "/f").value(), "hello world");
  ASSERT_OK(disk.truncate(dir + "/f", 5));
  ASSERT_OK(disk.rename(dir + "/f", dir + "/g"));
  ASSERT_OK(disk.sync_dir(dir));
  EXPECT_EQ(disk.list(dir).value(), std::vector<std::string>{"g"});
  EXPECT_EQ(disk.read_file(dir + "/g").value(), "hello");
  ASSERT_OK(disk.remove(dir + "/g"));
  EXPECT_FALSE(disk.exists(dir + "/g"));

  Result<Bytes> missing = disk.read_file(dir + "/g");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(dir + "/g"), std::string::npos);
  EXPECT_NE(missing.error().message.find("No such file or directory"), std::string::npos);
}

// ---- MemoryStorage ------------------------------------------------------------------------------

TEST(MemoryStorage, LoadsInTheSameShapeAsLogStorageAndForgetsOnWipe) {
  MemoryStorage memory;
  LogStorage log(std::make_shared<SimFileSystem>(), options_for(kDir));
  ASSERT_TRUE(memory.load().value().empty());
  ASSERT_TRUE(log.load().ok());
  const auto before = small_records(3, 1);
  const Snapshot snapshot = make_snapshot(7, 100, small_records(2, 2));
  const auto after = small_records(2, 3);
  for (Storage* storage : std::initializer_list<Storage*>{&memory, &log}) {
    ASSERT_OK(storage->append(before));
    ASSERT_OK(storage->append({}));
    ASSERT_OK(storage->save_snapshot(snapshot));
    ASSERT_OK(storage->append(after));
  }
  auto from_memory = memory.load();
  auto from_log = log.load();
  ASSERT_TRUE(from_memory.ok() && from_log.ok());
  expect_snapshot_equal(from_memory.value().snapshot, snapshot);
  expect_records_equal(from_memory.value().records, from_log.value().records);
  expect_records_equal(from_memory.value().records, concat(snapshot.records, after));
  EXPECT_EQ(memory.stats().appends, 2u);
  EXPECT_EQ(memory.stats().records, 5u);
  EXPECT_EQ(memory.stats().snapshots, 1u);
  memory.wipe();
  EXPECT_TRUE(memory.load().value().empty());
}

}  // namespace
}  // namespace phalanx::storage
