#pragma once
// storage::FileSystem: the few file operations the durable store needs, behind an
// interface (leveldb's Env), so that the same store runs on a real disk
// (PosixFileSystem) and on a simulated one that loses unsynced writes, tears the last
// write and flips bits (SimFileSystem), and so the simulator crashes it at every point.
//
// Paths are plain strings; directories are created with create_dirs(). Every operation
// returns an Error naming the path and the system's reason.
// Thread-safety: a FileSystem may be shared by threads; one AppendFile is used by one.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "phalanx/base/bytes.h"
#include "phalanx/base/result.h"
#include "phalanx/net/rng.h"

namespace phalanx::storage {

// A file open for appending. Bytes appended are durable only once sync() returned.
class AppendFile {
 public:
  virtual ~AppendFile() = default;
  virtual Status append(ByteView data) = 0;
  virtual Status sync() = 0;               // fdatasync: data and the size needed to read it
  virtual std::uint64_t size() const = 0;  // bytes in the file, synced or not
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Creates the file if it does not exist; appends at its end.
  virtual Result<std::unique_ptr<AppendFile>> open_append(const std::string& path) = 0;
  virtual Result<Bytes> read_file(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted; an Error if it does not exist.
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual Status create_dirs(const std::string& dir) = 0;  // mkdir -p
  // Atomically replaces `to` (the usual write-temporary-then-rename).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;  // a file, or an empty directory
  virtual Status truncate(const std::string& path, std::uint64_t size) = 0;
  // Makes renames, creations and removals in `dir` durable.
  virtual Status sync_dir(const std::string& dir) = 0;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path) override;
  Result<Bytes> read_file(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Status create_dirs(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status sync_dir(const std::string& dir) override;
};

// A disk in memory, for the simulator and tests. It keeps, per file, the bytes that were
// synced and the bytes appended since. crash() is a power cut: what was not synced is
// lost, or partly kept (a prefix, maybe ending inside a record: a torn write), as the
// policy says. Directory operations (create, rename, remove) are durable at once, as on
// a journalling file system after sync_dir (the store always calls it); so is truncate().
// The AppendFiles it opens must not outlive it. After crash(), those opened before it
// return an Error ("file system crashed") instead of writing: their process died.
// Thread-safety: none.
class SimFileSystem final : public FileSystem {
 public:
  enum class CrashPolicy {
    kDropUnsynced,  // every unsynced byte is lost
    kKeepPrefix,    // a random prefix of the unsynced bytes survives (may tear a record)
    kKeepAll,       // the kernel happened to write everything
  };

  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path) override;
  Result<Bytes> read_file(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool exists(const std::string& path) override;
  Status create_dirs(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status sync_dir(const std::string& dir) override;

  // A power cut. Open AppendFiles must not be used afterwards (their process died).
  void crash(CrashPolicy policy, net::Rng& rng);
  // Flips one bit of a file's synced bytes (media corruption). Precondition: the file
  // exists and bit_offset < 8 * its synced size.
  void flip_bit(const std::string& path, std::uint64_t bit_offset);
  // Wipes every file and directory under `dir` (a lost disk); `dir` itself stays.
  void wipe(const std::string& dir);
  // The synced size of a file (0 if it does not exist).
  std::uint64_t synced_size(const std::string& path) const;
  std::vector<std::string> files() const;  // every file path, sorted
  // Makes the next `count` sync() calls fail with an I/O error (disk failure tests).
  void fail_next_syncs(std::uint32_t count) { failing_syncs_ = count; }

  struct File;  // defined in sim_file_system.cc

 private:
  std::map<std::string, std::shared_ptr<File>> files_;
  std::set<std::string> dirs_;
  std::uint32_t failing_syncs_ = 0;
};

}  // namespace phalanx::storage
