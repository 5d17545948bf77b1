// PosixFileSystem: the FileSystem of a real disk. Files are created with mode 0600 and
// directories with 0700 (a replica's records are its own); every error names the path and
// the system's reason (strerror).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "phalanx/storage/file_system.h"

namespace phalanx::storage {

namespace {

Error system_error(const std::string& path, const char* operation, int error_number) {
  return Error{path + ": " + operation + ": " + std::strerror(error_number)};
}

// Closes a descriptor on every path out of a function.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

class PosixAppendFile final : public AppendFile {
 public:
  PosixAppendFile(std::string path, int fd, std::uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}

  Status append(ByteView data) override {
    while (!data.empty()) {
      ssize_t written = ::write(fd_.get(), data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return system_error(path_, "write", errno);
      }
      data.remove_prefix(static_cast<std::size_t>(written));
      size_ += static_cast<std::uint64_t>(written);
    }
    return ok_status();
  }

  Status sync() override {
    if (::fdatasync(fd_.get()) != 0) return system_error(path_, "fdatasync", errno);
    return ok_status();
  }

  std::uint64_t size() const override { return size_; }

 private:
  std::string path_;
  Descriptor fd_;
  std::uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<AppendFile>> PosixFileSystem::open_append(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return system_error(path, "open", errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error_number = errno;
    ::close(fd);
    return system_error(path, "fstat", error_number);
  }
  return std::unique_ptr<AppendFile>(
      std::make_unique<PosixAppendFile>(path, fd, static_cast<std::uint64_t>(info.st_size)));
}

Result<Bytes> PosixFileSystem::read_file(const std::string& path) {
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return system_error(path, "open", errno);
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) return system_error(path, "fstat", errno);
  Bytes data;
  // Room to find the end of the file without reallocating a large one.
  data.reserve(static_cast<std::size_t>(info.st_size) + 4096);
  data.resize(static_cast<std::size_t>(info.st_size));
  std::size_t filled = 0;
  // Reads until end of file, so a file that grew since fstat is read whole too.
  for (;;) {
    if (filled == data.size()) data.resize(data.size() + 4096);
    ssize_t got = ::read(fd.get(), data.data() + filled, data.size() - filled);
    if (got < 0) {
      if (errno == EINTR) continue;
      return system_error(path, "read", errno);
    }
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  data.resize(filled);
  return data;
}

Result<std::vector<std::string>> PosixFileSystem::list(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return system_error(dir, "opendir", errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
    errno = 0;
  }
  int error_number = errno;
  ::closedir(handle);
  if (error_number != 0) return system_error(dir, "readdir", error_number);
  std::sort(names.begin(), names.end());
  return names;
}

bool PosixFileSystem::exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// A directory it creates is made durable in its parent (fsync of the parent), so that a
// power cut cannot take a data directory away after records were synced into it.
Status PosixFileSystem::create_dirs(const std::string& dir) {
  if (dir.empty()) return Error{"create_dirs: empty path"};
  // Each prefix ending before a '/', then the whole path.
  for (std::size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    std::string prefix = dir.substr(0, end);
    if (::mkdir(prefix.c_str(), 0700) == 0) {
      std::size_t slash = prefix.find_last_of('/');
      std::string parent = slash == std::string::npos ? "." : prefix.substr(0, slash + 1);
      if (auto synced = sync_dir(parent); !synced) return synced;
    } else if (errno != EEXIST) {
      return system_error(prefix, "mkdir", errno);
    }
    if (end == std::string::npos) break;
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) return system_error(dir, "stat", errno);
  if (!S_ISDIR(info.st_mode)) return Error{dir + ": exists and is not a directory"};
  return ok_status();
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return system_error(from, ("rename to " + to).c_str(), errno);
  return ok_status();
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::remove(path.c_str()) != 0) return system_error(path, "remove", errno);
  return ok_status();
}

// Durable before it returns (fsync), so that a cut-off torn tail cannot come back.
Status PosixFileSystem::truncate(const std::string& path, std::uint64_t size) {
  Descriptor fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return system_error(path, "open", errno);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0)
    return system_error(path, "ftruncate", errno);
  if (::fsync(fd.get()) != 0) return system_error(path, "fsync", errno);
  return ok_status();
}

Status PosixFileSystem::sync_dir(const std::string& dir) {
  Descriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return system_error(dir, "open", errno);
  if (::fsync(fd.get()) != 0) return system_error(dir, "fsync", errno);
  return ok_status();
}

}  // namespace phalanx::storage
