// SimFileSystem: a disk in memory that forgets, tears and flips what a real one may
// (file_system.h). Deterministic: the only randomness is the Rng that crash() is given.
#include <algorithm>

#include "phalanx/base/assert.h"
#include "phalanx/storage/file_system.h"

namespace phalanx::storage {

struct SimFileSystem::File {
  Bytes synced;          // survives a crash
  Bytes unsynced;        // appended since the last sync: lost, or partly kept, by a crash
  bool crashed = false;  // the power was cut while this file was open: its handles are dead

  std::uint64_t size() const { return synced.size() + unsynced.size(); }
  // Whether the next sync() is one of those fail_next_syncs() asked to fail.
  static bool take_failing_sync(SimFileSystem& file_system) {
    if (file_system.failing_syncs_ == 0) return false;
    --file_system.failing_syncs_;
    return true;
  }
};

namespace {

std::string normalize(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// "" for a name in the current directory, "/" for one at the root.
std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string child_prefix(const std::string& dir) {
  if (dir.empty() || dir.back() == '/') return dir;
  return dir + "/";
}

bool is_under(const std::string& path, const std::string& dir) {
  std::string prefix = child_prefix(dir);
  return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0;
}

Error no_such(const std::string& path, const char* operation) {
  return Error{path + ": " + operation + ": No such file or directory (simulated)"};
}

class SimAppendFile final : public AppendFile {
 public:
  SimAppendFile(SimFileSystem& file_system, std::string path,
                std::shared_ptr<SimFileSystem::File> file)
      : file_system_(file_system), path_(std::move(path)), file_(std::move(file)) {}

  Status append(ByteView data) override {
    if (file_->crashed) return crashed_error();
    file_->unsynced.append(data);
    return ok_status();
  }

  Status sync() override {
    if (file_->crashed) return crashed_error();
    if (SimFileSystem::File::take_failing_sync(file_system_))
      return Error{path_ + ": fdatasync: Input/output error (simulated disk failure)"};
    file_->synced.append(file_->unsynced);
    file_->unsynced.clear();
    return ok_status();
  }

  std::uint64_t size() const override { return file_->size(); }

 private:
  Error crashed_error() const {
    return Error{path_ + ": file system crashed: this file was open in a process that died"};
  }

  SimFileSystem& file_system_;
  std::string path_;
  std::shared_ptr<SimFileSystem::File> file_;
};

}  // namespace

Result<std::unique_ptr<AppendFile>> SimFileSystem::open_append(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  if (dirs_.count(path) != 0) return Error{path + ": open: Is a directory (simulated)"};
  std::string parent = parent_of(path);
  if (!parent.empty() && parent != "/" && dirs_.count(parent) == 0) return no_such(path, "open");
  auto& file = files_[path];
  if (!file) file = std::make_shared<File>();
  return std::unique_ptr<AppendFile>(std::make_unique<SimAppendFile>(*this, path, file));
}

Result<Bytes> SimFileSystem::read_file(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  auto found = files_.find(path);
  if (found == files_.end()) return no_such(path, "open");
  // What the page cache shows: synced or not.
  return found->second->synced + found->second->unsynced;
}

Result<std::vector<std::string>> SimFileSystem::list(const std::string& raw_dir) {
  std::string dir = normalize(raw_dir);
  if (!dir.empty() && dir != "/" && dirs_.count(dir) == 0) return no_such(dir, "opendir");
  std::set<std::string> names;
  for (const auto& [path, file] : files_)
    if (parent_of(path) == dir) names.insert(path.substr(child_prefix(dir).size()));
  for (const auto& path : dirs_)
    if (parent_of(path) == dir) names.insert(path.substr(child_prefix(dir).size()));
  return std::vector<std::string>(names.begin(), names.end());
}

bool SimFileSystem::exists(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  return files_.count(path) != 0 || dirs_.count(path) != 0 || path == "/";
}

Status SimFileSystem::create_dirs(const std::string& raw_dir) {
  std::string dir = normalize(raw_dir);
  if (dir.empty()) return Error{"create_dirs: empty path"};
  for (std::string prefix = dir; !prefix.empty() && prefix != "/"; prefix = parent_of(prefix)) {
    if (files_.count(prefix) != 0) return Error{prefix + ": exists and is not a directory"};
    dirs_.insert(prefix);
  }
  return ok_status();
}

Status SimFileSystem::rename(const std::string& raw_from, const std::string& raw_to) {
  std::string from = normalize(raw_from);
  std::string to = normalize(raw_to);
  std::string to_parent = parent_of(to);
  if (!to_parent.empty() && to_parent != "/" && dirs_.count(to_parent) == 0)
    return no_such(to, "rename");
  if (auto found = files_.find(from); found != files_.end()) {
    if (dirs_.count(to) != 0) return Error{to + ": rename: Is a directory (simulated)"};
    std::shared_ptr<File> file = found->second;  // open handles keep writing to it, as in POSIX
    files_.erase(found);
    files_[to] = std::move(file);
    return ok_status();
  }
  if (dirs_.count(from) == 0) return no_such(from, "rename");
  if (exists(to)) return Error{to + ": rename: File exists (simulated)"};
  if (is_under(to, from)) return Error{to + ": rename: Invalid argument (simulated)"};
  std::map<std::string, std::shared_ptr<File>> moved_files;
  for (auto it = files_.begin(); it != files_.end();) {
    if (!is_under(it->first, from)) {
      ++it;
      continue;
    }
    moved_files[to + it->first.substr(from.size())] = std::move(it->second);
    it = files_.erase(it);
  }
  files_.merge(moved_files);
  std::set<std::string> moved_dirs{to};
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    if (*it != from && !is_under(*it, from)) {
      ++it;
      continue;
    }
    if (*it != from) moved_dirs.insert(to + it->substr(from.size()));
    it = dirs_.erase(it);
  }
  dirs_.merge(moved_dirs);
  return ok_status();
}

Status SimFileSystem::remove(const std::string& raw_path) {
  std::string path = normalize(raw_path);
  if (files_.erase(path) != 0) return ok_status();
  if (dirs_.count(path) == 0) return no_such(path, "remove");
  auto children = list(path);
  if (!children.value().empty()) return Error{path + ": remove: Directory not empty (simulated)"};
  dirs_.erase(path);
  return ok_status();
}

Status SimFileSystem::truncate(const std::string& raw_path, std::uint64_t size) {
  std::string path = normalize(raw_path);
  auto found = files_.find(path);
  if (found == files_.end()) return no_such(path, "truncate");
  File& file = *found->second;
  if (size <= file.synced.size()) {
    file.synced.resize(size);
    file.unsynced.clear();
  } else {
    file.unsynced.resize(size - file.synced.size());  // zeros when it grows, as ftruncate
  }
  return ok_status();
}

Status SimFileSystem::sync_dir(const std::string& raw_dir) {
  std::string dir = normalize(raw_dir);
  if (!dir.empty() && dir != "/" && dirs_.count(dir) == 0) return no_such(dir, "open");
  return ok_status();  // directory operations are durable at once here
}

void SimFileSystem::crash(CrashPolicy policy, net::Rng& rng) {
  for (auto& [path, file] : files_) {
    auto survivor = std::make_shared<File>();
    survivor->synced = std::move(file->synced);
    std::uint64_t kept = 0;
    switch (policy) {
      case CrashPolicy::kDropUnsynced:
        break;
      case CrashPolicy::kKeepPrefix:
        if (!file->unsynced.empty()) kept = rng.uniform(0, file->unsynced.size());
        break;
      case CrashPolicy::kKeepAll:
        kept = file->unsynced.size();
        break;
    }
    survivor->synced.append(file->unsynced, 0, kept);
    file->unsynced.clear();
    file->crashed = true;
    file = std::move(survivor);
  }
}

void SimFileSystem::flip_bit(const std::string& raw_path, std::uint64_t bit_offset) {
  auto found = files_.find(normalize(raw_path));
  PHALANX_ASSERT(found != files_.end(), "flip_bit: no such file");
  Bytes& synced = found->second->synced;
  PHALANX_ASSERT(bit_offset < 8 * synced.size(), "flip_bit: beyond the synced bytes");
  synced[bit_offset / 8] = static_cast<char>(synced[bit_offset / 8] ^ (1 << (bit_offset % 8)));
}

void SimFileSystem::wipe(const std::string& raw_dir) {
  std::string dir = normalize(raw_dir);
  std::erase_if(files_, [&](const auto& entry) { return is_under(entry.first, dir); });
  std::erase_if(dirs_, [&](const auto& path) { return is_under(path, dir); });
}

std::uint64_t SimFileSystem::synced_size(const std::string& raw_path) const {
  auto found = files_.find(normalize(raw_path));
  return found == files_.end() ? 0 : found->second->synced.size();
}

std::vector<std::string> SimFileSystem::files() const {
  std::vector<std::string> paths;
  for (const auto& [path, file] : files_) paths.push_back(path);
  return paths;
}

}  // namespace phalanx::storage
