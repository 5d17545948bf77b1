// Writing the cluster file, and reading the key files it names.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "config_internal.h"
#include "phalanx/pbft/config.h"

namespace phalanx::pbft {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", byte);
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <typename Options>
std::string options_text(std::string_view table,
                         std::span<const config_detail::OptionField<Options>> fields,
                         const Options& options) {
  const Options defaults;
  std::string body;
  for (const auto& field : fields) {
    std::uint64_t value = field.get(options);
    if (value == field.get(defaults)) continue;
    body += std::string(field.key) + " = " + std::to_string(value / field.scale) + "\n";
  }
  if (body.empty()) return "";
  return "\n[" + std::string(table) + "]\n" + body;
}

std::string cluster_text(const ClusterConfig& config) {
  std::string text =
      "# Phalanx cluster file. Fields: docs/config.md. Key files are relative to this\n"
      "# file's directory and must stay private (mode 0600).\n"
      "cluster_id = " +
      toml_string(config.cluster_id) + "\n";
  for (const ReplicaEntry& replica : config.replicas) {
    text += "\n[[replica]]\n";
    text += "id = " + std::to_string(replica.id) + "\n";
    text += "endpoint = " + toml_string(replica.endpoint) + "\n";
    if (replica.metrics_port) {
      text += "metrics_port = " + std::to_string(*replica.metrics_port) + "\n";
    }
    text += "public_key = " + toml_string(replica.public_key.hex()) + "\n";
    text += "key_file = " + toml_string(replica.key_file) + "\n";
  }
  for (const ClientEntry& client : config.clients) {
    text += "\n[[client]]\n";
    text += "name = " + toml_string(client.name) + "\n";
    text += "public_key = " + toml_string(client.public_key.hex()) + "\n";
    if (!client.key_file.empty()) text += "key_file = " + toml_string(client.key_file) + "\n";
  }
  text += options_text("options", config_detail::replica_option_fields(), config.replica_options);
  text +=
      options_text("client_options", config_detail::client_option_fields(), config.client_options);
  return text;
}

Status write_file_durably(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{temporary + ": cannot create: " + errno_text()};
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string reason = errno_text();
      ::close(fd);
      ::unlink(temporary.c_str());
      return Error{temporary + ": cannot write: " + reason};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string reason = errno_text();
    ::close(fd);
    ::unlink(temporary.c_str());
    return Error{temporary + ": cannot sync: " + reason};
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string reason = errno_text();
    ::unlink(temporary.c_str());
    return Error{path + ": cannot rename " + temporary + " to it: " + reason};
  }
  // The rename itself is durable only once the directory is synced.
  std::string directory = std::filesystem::path(path).parent_path().string();
  int directory_fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_CLOEXEC);
  if (directory_fd >= 0) {
    ::fsync(directory_fd);
    ::close(directory_fd);
  }
  return ok_status();
}

Result<crypto::SecretKey> load_matching_key(const ClusterConfig& config, const std::string& who,
                                            const std::string& key_file,
                                            const crypto::PublicKey& listed) {
  if (key_file.empty()) return Error{who + ": the cluster file lists no key_file"};
  std::string path = config.resolve_path(key_file);
  auto key = crypto::read_secret_key_file(path);
  if (!key.ok()) return key.error();
  if (key.value().public_key() != listed) {
    return Error{path + ": holds the key " + key.value().public_key().short_hex() +
                 "..., but the cluster file lists " + listed.short_hex() + "... for " + who};
  }
  return key;
}

}  // namespace

Status write_cluster_config(const ClusterConfig& config, const std::string& path,
                            crypto::Overwrite overwrite) {
  std::vector<std::string> problems = validate_cluster_config(config);
  if (!problems.empty()) {
    std::string text = path + ": refusing to write an invalid cluster config:";
    for (const std::string& problem : problems) text += "\n  " + problem;
    return Error{text};
  }
  struct stat info {};
  if (overwrite == crypto::Overwrite::kNo && ::lstat(path.c_str(), &info) == 0) {
    return Error{path + ": already exists (use --force to overwrite)"};
  }
  return write_file_durably(path, cluster_text(config));
}

Result<crypto::SecretKey> load_replica_key(const ClusterConfig& config, ReplicaId id) {
  if (id >= config.replicas.size()) {
    return Error{"replica " + std::to_string(id) + ": not in the cluster file (it has " +
                 std::to_string(config.replicas.size()) + " replicas)"};
  }
  const ReplicaEntry& replica = config.replicas[id];
  return load_matching_key(config, "replica " + std::to_string(id), replica.key_file,
                           replica.public_key);
}

Status check_key_file_matches(const ClusterConfig& config, ReplicaId id) {
  auto key = load_replica_key(config, id);
  if (!key.ok()) return key.error();
  return ok_status();
}

Result<crypto::SecretKey> load_client_key(const ClusterConfig& config, std::string_view name) {
  const ClientEntry* client = config.find_client(name);
  if (client == nullptr) {
    return Error{"client '" + std::string(name) + "': not in the cluster file"};
  }
  return load_matching_key(config, "client '" + client->name + "'", client->key_file,
                           client->public_key);
}

}  // namespace phalanx::pbft
