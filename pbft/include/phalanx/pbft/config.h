#pragma once
// The cluster file: who the replicas are, where they listen, which keys they sign with,
// and the options every replica of the cluster runs with. One TOML file, written by
// phalanx-keygen and edited by people (the format is in docs/config.md).
//
// Contract:
// - load_cluster_config() either returns a configuration that satisfies every rule below,
//   or an Error listing ALL the problems it found, one line each, each starting with
//   "<path>:<line>:" when the problem has a place in the file. Nothing is ignored: an
//   unknown key anywhere is an error, so that a typo cannot silently leave a default.
// - Rules: cluster_id is 1..crypto::kClusterIdMax bytes of printable ASCII without spaces;
//   n = 3f+1 replicas with f >= 1 and n <= kClusterReplicasMax; replica ids are exactly
//   0..n-1; endpoints are distinct; every public key is 64 hex characters and no key is
//   listed twice; client names are distinct; [options] values are within their bounds.
// - Key files are not read at load time (a machine holds only its own key):
//   check_key_file_matches() and load_replica_key() do that for one replica.
// - Paths of key files are kept as written; resolve_path() interprets a relative one
//   against the directory of the cluster file.
//
// This is an operating-error boundary (DESIGN.md): every failure is a returned Error a
// person can act on, never an assertion.
// Thread-safety: ClusterConfig is a value; the functions touch only the files they name.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/base/result.h"
#include "phalanx/crypto/key_file.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/options.h"
#include "phalanx/pbft/types.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::pbft {

// Limits on what a cluster file may describe (STYLE.md 8).
inline constexpr std::size_t kClusterReplicasMax = 100;    // f <= 33
inline constexpr std::size_t kClusterClientsMax = 10'000;  // listed clients (any key may ask)
inline constexpr std::size_t kClusterFileBytesMax = 4u << 20;

struct ReplicaEntry {
  ReplicaId id = 0;
  std::string endpoint;                       // ZeroMQ endpoint, "tcp://host:port"
  std::optional<std::uint16_t> metrics_port;  // HTTP metrics, on the endpoint's host
  crypto::PublicKey public_key;
  std::string key_file;  // as written; see ClusterConfig::resolve_path
};

struct ClientEntry {
  std::string name;
  crypto::PublicKey public_key;
  std::string key_file;  // as written, may be empty: a client may be known by its key only
};

struct ClusterConfig {
  std::string cluster_id;
  std::vector<ReplicaEntry> replicas;  // index = replica id
  std::vector<ClientEntry> clients;
  ReplicaOptions replica_options;
  ClientOptions client_options;
  // Directory of the file the config was loaded from; relative key paths start there.
  // Empty: the current directory.
  std::string base_dir;

  Quorums quorums() const { return Quorums{static_cast<std::uint32_t>(replicas.size())}; }
  // The edge's view of the cluster: its id and the replicas' keys, default wire limits.
  Verifier verifier() const;
  // `path` unchanged when absolute or when base_dir is empty, else base_dir/path.
  std::string resolve_path(const std::string& path) const;
  const ClientEntry* find_client(std::string_view name) const;
};

// Reads, parses and validates a cluster file; base_dir becomes the file's directory.
Result<ClusterConfig> load_cluster_config(const std::string& path);

// The same from text already in memory. `source_name` prefixes the problems
// ("cluster.toml:12: ..."); `base_dir` is stored as the config's base_dir.
Result<ClusterConfig> parse_cluster_config(std::string_view text, std::string_view source_name,
                                           std::string_view base_dir = {});

// Every problem of a config value, one line each; empty when it is valid. The loader
// applies it after parsing; writers apply it before writing.
std::vector<std::string> validate_cluster_config(const ClusterConfig& config);

// Writes `config` as a cluster file that load_cluster_config reads back equal (options
// equal to their defaults are left out). Refuses an existing file unless overwrite is
// kYes; writes a temporary file, syncs it and renames it over `path`.
Status write_cluster_config(const ClusterConfig& config, const std::string& path,
                            crypto::Overwrite overwrite = crypto::Overwrite::kNo);

// The keys of [options] and [client_options] one at a time, for other files that embed
// them (the adversary's scenario files): sets `key` to `value`, in the unit the file
// uses (milliseconds for keys ending in _ms), or returns why it cannot (an unknown key,
// a value out of range), as "KEY = VALUE is out of range MIN..MAX".
std::optional<std::string> set_replica_option(ReplicaOptions& options, std::string_view key,
                                              std::int64_t value);
std::optional<std::string> set_client_option(ClientOptions& options, std::string_view key,
                                             std::int64_t value);
std::vector<std::string_view> replica_option_keys();
std::vector<std::string_view> client_option_keys();
// The rules that tie options together (view timeouts in order, the log window within
// what a VIEW-CHANGE may carry, retry timeouts in order), one line each; empty when
// they hold.
std::vector<std::string> replica_option_rule_problems(const ReplicaOptions& options);
std::vector<std::string> client_option_rule_problems(const ClientOptions& options);

// Reads replica `id`'s key file and checks it is private (mode 0600) and holds the key
// the config lists for that replica.
Result<crypto::SecretKey> load_replica_key(const ClusterConfig& config, ReplicaId id);
Status check_key_file_matches(const ClusterConfig& config, ReplicaId id);

// The same for a listed client, by name.
Result<crypto::SecretKey> load_client_key(const ClusterConfig& config, std::string_view name);

}  // namespace phalanx::pbft
