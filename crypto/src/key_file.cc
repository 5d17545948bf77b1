#include "phalanx/crypto/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace phalanx::crypto {

namespace {
std::string errno_text() { return std::strerror(errno); }

// Writes all of `data`, retrying short writes and EINTR.
bool write_all(int fd, const std::string& data) {
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

Status write_secret_key_file(const std::string& path, const SecretKey& key, Overwrite overwrite) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite == Overwrite::kYes ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Error{path + ": already exists; refusing to overwrite a key file"};
    return Error{path + ": cannot create key file: " + errno_text()};
  }
  // O_CREAT's mode does not apply to an existing file we truncate: set it explicitly.
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return Error{path + ": cannot set mode 0600: " + errno_text()};
  }
  Seed seed = seed_of(key);
  std::string line = to_hex(as_bytes(seed.array())) + "\n";
  bool ok = write_all(fd, line) && ::fsync(fd) == 0;
  sodium_memzero(line.data(), line.size());
  ::close(fd);
  if (!ok) return Error{path + ": cannot write key file: " + errno_text()};
  return ok_status();
}

Result<SecretKey> read_secret_key_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Error{path + ": key file does not exist"};
    return Error{path + ": cannot open key file: " + errno_text()};
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return Error{path + ": cannot stat key file: " + errno_text()};
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Error{path + ": key file has mode " + mode +
                 ", others may read it; run: chmod 600 " + path};
  }
  // A key file is one line of 64 hex characters; read a little more to detect extra bytes.
  char buffer[130];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n < 0) return Error{path + ": cannot read key file: " + errno_text()};
  std::string text(buffer, static_cast<std::size_t>(n));
  sodium_memzero(buffer, sizeof buffer);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() != 2 * Seed::kSize) {
    sodium_memzero(text.data(), text.size());
    return Error{path + ": key file holds " + std::to_string(text.size()) +
                 " characters, expected 64 hex characters"};
  }
  auto bytes = from_hex(text);
  sodium_memzero(text.data(), text.size());
  if (!bytes) return Error{path + ": key file is not hex"};
  std::array<std::uint8_t, Seed::kSize> array;
  std::memcpy(array.data(), bytes->data(), array.size());
  sodium_memzero(bytes->data(), bytes->size());
  Seed seed(array);
  sodium_memzero(array.data(), array.size());
  return SecretKey::from_seed(seed);
}

}  // namespace phalanx::crypto
