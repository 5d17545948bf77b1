// The rules a cluster config must satisfy, whether it was read from a file or built in
// code (config.h lists them). Each broken rule is one line naming the entry and value.
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>

#include "config_internal.h"
#include "phalanx/crypto/curve.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/pbft/limits.h"

namespace phalanx::pbft::config_detail {

namespace {

#define PHALANX_OPTION(Options, field, key, scale, min, max)                                    \
  OptionField<Options> {                                                                        \
    key, scale, min, max, [](const Options& o) { return static_cast<std::uint64_t>(o.field); }, \
        [](Options& o, std::uint64_t v) { o.field = static_cast<decltype(o.field)>(v); }        \
  }

constexpr std::uint64_t kOne = 1;
constexpr std::uint64_t kMs = kMillisecond;
constexpr std::uint64_t kHourMs = 3'600'000;

const std::array<OptionField<ReplicaOptions>, 21> kReplicaFields = {
    PHALANX_OPTION(ReplicaOptions, checkpoint_interval, "checkpoint_interval", kOne, 1, 1 << 20),
    PHALANX_OPTION(ReplicaOptions, window_checkpoints, "window_checkpoints", kOne, 2, 64),
    PHALANX_OPTION(ReplicaOptions, batch_requests_max, "batch_requests_max", kOne, 1,
                   WireLimits{}.batch_requests_max),
    PHALANX_OPTION(ReplicaOptions, batch_delay_max, "batch_delay_max_ms", kMs, 0, 10'000),
    PHALANX_OPTION(ReplicaOptions, pipeline_batches_max, "pipeline_batches_max", kOne, 0, 4096),
    PHALANX_OPTION(ReplicaOptions, status_interval, "status_interval_ms", kMs, 1, 60'000),
    PHALANX_OPTION(ReplicaOptions, retransmit_slots_max, "retransmit_slots_max", kOne, 1, 4096),
    PHALANX_OPTION(ReplicaOptions, state_fetch_timeout, "state_fetch_timeout_ms", kMs, 1, kHourMs),
    PHALANX_OPTION(ReplicaOptions, state_chunk_bytes, "state_chunk_bytes", kOne, 1024,
                   WireLimits{}.chunk_bytes_max),
    PHALANX_OPTION(ReplicaOptions, state_chunks_in_flight, "state_chunks_in_flight", kOne, 1, 1024),
    PHALANX_OPTION(ReplicaOptions, pending_requests_max, "pending_requests_max", kOne, 1,
                   10'000'000),
    PHALANX_OPTION(ReplicaOptions, client_table_max, "client_table_max", kOne, 1, 100'000'000),
    PHALANX_OPTION(ReplicaOptions, view_timeout_initial, "view_timeout_initial_ms", kMs, 1,
                   kHourMs),
    PHALANX_OPTION(ReplicaOptions, view_timeout_floor, "view_timeout_floor_ms", kMs, 1, kHourMs),
    PHALANX_OPTION(ReplicaOptions, view_timeout_ceiling, "view_timeout_ceiling_ms", kMs, 1,
                   kHourMs),
    PHALANX_OPTION(ReplicaOptions, slow_primary_factor, "slow_primary_factor", kOne, 0, 1000),
    PHALANX_OPTION(ReplicaOptions, slow_primary_samples, "slow_primary_samples", kOne, 1,
                   1'000'000),
    PHALANX_OPTION(ReplicaOptions, slow_primary_delay_min, "slow_primary_delay_min_ms", kMs, 0,
                   kHourMs),
    PHALANX_OPTION(ReplicaOptions, request_relay_delay, "request_relay_delay_ms", kMs, 0, kHourMs),
    PHALANX_OPTION(ReplicaOptions, batch_time_skew_max, "batch_time_skew_max_ms", kMs, 0, kHourMs),
    PHALANX_OPTION(ReplicaOptions, accept_mac_clients, "accept_mac_clients", kOne, 0, 1),
};

const std::array<OptionField<ClientOptions>, 3> kClientFields = {
    PHALANX_OPTION(ClientOptions, retry_timeout, "retry_timeout_ms", kMs, 1, kHourMs),
    PHALANX_OPTION(ClientOptions, retry_timeout_max, "retry_timeout_max_ms", kMs, 1, kHourMs),
    PHALANX_OPTION(ClientOptions, mac_authenticators, "mac_authenticators", kOne, 0, 1),
};

#undef PHALANX_OPTION

// "replica 0 (line 6)": an entry as another problem refers to it.
template <typename Entry>
std::string at_line(const Entry& entry, std::string_view field) {
  std::size_t line = entry.lines.of(field);
  if (line == 0) return label(entry);
  return label(entry) + " (line " + std::to_string(line) + ")";
}

bool printable_without_spaces(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f;
  });
}

// "tcp://HOST:PORT" gives HOST and PORT; "ipc://PATH" gives PATH and no port.
struct Endpoint {
  std::string host;
  std::uint32_t port = 0;
};
std::optional<Endpoint> parse_endpoint(std::string_view text) {
  if (text.starts_with("ipc://")) {
    if (text.size() == 6 || !printable_without_spaces(text)) return std::nullopt;
    return Endpoint{std::string(text), 0};
  }
  if (!text.starts_with("tcp://")) return std::nullopt;
  std::string_view rest = text.substr(6);
  std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (!printable_without_spaces(host) || port.empty() || port.size() > 5) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return Endpoint{std::string(host), value};
}

template <typename Options>
void check_option_bounds(std::span<const OptionField<Options>> fields, const Options& options,
                         std::string_view table, const FieldLines& lines, Problems& problems) {
  for (const auto& field : fields) {
    std::uint64_t value = field.get(options);
    std::string name = std::string(table) + "." + std::string(field.key);
    std::size_t line = lines.of(name);
    if (value % field.scale != 0) {
      problems.add(line, "[" + std::string(table) + "] " + std::string(field.key) +
                             " is not a whole number of milliseconds");
      continue;
    }
    value /= field.scale;
    if (value < field.min || value > field.max) {
      problems.add(line, "[" + std::string(table) + "] " + std::string(field.key) + " = " +
                             std::to_string(value) + " is out of range " +
                             std::to_string(field.min) + ".." + std::to_string(field.max));
    }
  }
}

void check_options(const Draft& draft, Problems& problems) {
  check_option_bounds(replica_option_fields(), draft.replica_options, "options", draft.lines,
                      problems);
  check_option_bounds(client_option_fields(), draft.client_options, "client_options", draft.lines,
                      problems);
  for (const std::string& problem : replica_option_rule_problems(draft.replica_options))
    problems.add(draft.lines.of("options"), "[options] " + problem);
  for (const std::string& problem : client_option_rule_problems(draft.client_options))
    problems.add(draft.lines.of("client_options"), "[client_options] " + problem);
}

void check_replica_ids(const Draft& draft, Problems& problems) {
  std::size_t n = draft.replicas.size();
  std::map<ReplicaId, const ReplicaDraft*> first_with_id;
  for (const ReplicaDraft& replica : draft.replicas) {
    if (!replica.has_id) continue;
    ReplicaId id = replica.entry.id;
    if (id >= n) {
      problems.add(replica.lines.of("id"), label(replica) + ": id " + std::to_string(id) +
                                               " is out of range: with " + std::to_string(n) +
                                               " replicas the ids are 0.." + std::to_string(n - 1));
    }
    auto [it, inserted] = first_with_id.emplace(id, &replica);
    if (!inserted) {
      std::size_t other_line = it->second->lines.of("id");
      problems.add(replica.lines.of("id"), "[[replica]] #" + std::to_string(replica.position) +
                                               ": id " + std::to_string(id) +
                                               " is also used by the [[replica]] at line " +
                                               std::to_string(other_line));
    }
  }
  bool all_have_ids = std::all_of(draft.replicas.begin(), draft.replicas.end(),
                                  [](const ReplicaDraft& replica) { return replica.has_id; });
  if (!all_have_ids) return;
  for (ReplicaId id = 0; id < n; ++id) {
    if (!first_with_id.contains(id)) {
      problems.add(0, "no replica has id " + std::to_string(id) + " (ids must be 0.." +
                          std::to_string(n - 1) + ")");
    }
  }
}

void check_replicas(const Draft& draft, Problems& problems) {
  std::size_t n = draft.replicas.size();
  if (n == 0) {
    problems.add(0, "no [[replica]] entries (PBFT needs n = 3f+1 replicas, f >= 1)");
  } else if (n < 4 || (n - 1) % 3 != 0) {
    problems.add(
        0, std::to_string(n) + " replicas, but PBFT needs n = 3f+1 with f >= 1 (4, 7, 10, ...)");
  } else if (n > kClusterReplicasMax) {
    problems.add(0, std::to_string(n) + " replicas, more than the limit of " +
                        std::to_string(kClusterReplicasMax));
  }
  check_replica_ids(draft, problems);

  std::map<std::string, const ReplicaDraft*> endpoint_owner;
  // (host, port) -> "replica 0 endpoint", to catch a metrics port that collides.
  std::map<std::pair<std::string, std::uint32_t>, std::string> port_owner;
  for (const ReplicaDraft& replica : draft.replicas) {
    if (!replica.has_endpoint) continue;
    const std::string& endpoint = replica.entry.endpoint;
    auto parsed = parse_endpoint(endpoint);
    if (!parsed) {
      problems.add(replica.lines.of("endpoint"),
                   label(replica) + ": endpoint '" + endpoint +
                       "' is not tcp://HOST:PORT (port 1-65535) or ipc://PATH");
      continue;
    }
    auto [it, inserted] = endpoint_owner.emplace(endpoint, &replica);
    if (!inserted) {
      problems.add(replica.lines.of("endpoint"), label(replica) + ": endpoint " + endpoint +
                                                     " is also used by " +
                                                     at_line(*it->second, "endpoint"));
      continue;
    }
    if (parsed->port != 0) {
      port_owner.emplace(std::pair{parsed->host, parsed->port},
                         "the endpoint of " + at_line(replica, "endpoint"));
    }
  }
  for (const ReplicaDraft& replica : draft.replicas) {
    if (!replica.entry.metrics_port) continue;
    std::uint32_t port = *replica.entry.metrics_port;
    if (port == 0) {
      problems.add(replica.lines.of("metrics_port"),
                   label(replica) + ": metrics_port must be 1..65535");
      continue;
    }
    auto parsed = replica.has_endpoint ? parse_endpoint(replica.entry.endpoint) : std::nullopt;
    if (!parsed || parsed->port == 0) continue;  // no host to collide on
    auto [it, inserted] = port_owner.emplace(
        std::pair{parsed->host, port}, "the metrics_port of " + at_line(replica, "metrics_port"));
    if (!inserted) {
      problems.add(replica.lines.of("metrics_port"),
                   label(replica) + ": metrics_port " + std::to_string(port) + " on " +
                       parsed->host + " is also used by " + it->second);
    }
  }
  for (const ReplicaDraft& replica : draft.replicas) {
    if (replica.has_key_file && replica.entry.key_file.empty()) {
      problems.add(replica.lines.of("key_file"), label(replica) + ": key_file is empty");
    }
  }
}

void check_keys_and_names(const Draft& draft, Problems& problems) {
  std::map<crypto::PublicKey, std::string> key_owner;
  auto check_key = [&](const crypto::PublicKey& key, const std::string& who, std::size_t line,
                       std::string owner) {
    auto [it, inserted] = key_owner.emplace(key, std::move(owner));
    if (!inserted) {
      problems.add(
          line, who + ": public_key " + key.short_hex() + "... is also the key of " + it->second);
    }
  };
  for (const ReplicaDraft& replica : draft.replicas) {
    if (replica.has_public_key) {
      check_key(replica.entry.public_key, label(replica), replica.lines.of("public_key"),
                at_line(replica, "public_key"));
      // Links (CurveZMQ) and MAC clients use the key's X25519 counterpart.
      if (!crypto::curve_public_key(replica.entry.public_key))
        problems.add(replica.lines.of("public_key"),
                     label(replica) + ": public_key " + replica.entry.public_key.short_hex() +
                         "... is not a usable Ed25519 public key (it has no X25519 counterpart)");
    }
  }
  if (draft.clients.size() > kClusterClientsMax) {
    problems.add(0, std::to_string(draft.clients.size()) +
                        " [[client]] entries, more than the limit of " +
                        std::to_string(kClusterClientsMax));
  }
  std::map<std::string, const ClientDraft*> name_owner;
  for (const ClientDraft& client : draft.clients) {
    if (client.has_name) {
      const std::string& name = client.entry.name;
      if (name.empty() || name.size() > 64 || !printable_without_spaces(name)) {
        problems.add(client.lines.of("name"),
                     label(client) + ": name must be 1..64 printable characters without spaces");
      } else if (auto [it, inserted] = name_owner.emplace(name, &client); !inserted) {
        problems.add(client.lines.of("name"), "[[client]] #" + std::to_string(client.position) +
                                                  ": name '" + name +
                                                  "' is also used by the [[client]] at line " +
                                                  std::to_string(it->second->lines.of("name")));
      }
    }
    if (client.has_public_key) {
      check_key(client.entry.public_key, label(client), client.lines.of("public_key"),
                at_line(client, "public_key"));
    }
  }
}

}  // namespace

std::span<const OptionField<ReplicaOptions>> replica_option_fields() {
  return kReplicaFields;
}
std::span<const OptionField<ClientOptions>> client_option_fields() {
  return kClientFields;
}

std::string label(const ReplicaDraft& replica) {
  if (replica.has_id) return "replica " + std::to_string(replica.entry.id);
  return "[[replica]] #" + std::to_string(replica.position);
}

std::string label(const ClientDraft& client) {
  if (client.has_name && !client.entry.name.empty()) return "client '" + client.entry.name + "'";
  return "[[client]] #" + std::to_string(client.position);
}

void validate(const Draft& draft, Problems& problems) {
  if (draft.has_cluster_id) {
    const std::string& id = draft.cluster_id;
    std::size_t line = draft.lines.of("cluster_id");
    if (id.empty()) {
      problems.add(line, "cluster_id is empty");
    } else if (id.size() > crypto::kClusterIdMax) {
      problems.add(line, "cluster_id is " + std::to_string(id.size()) + " bytes, more than " +
                             std::to_string(crypto::kClusterIdMax));
    } else if (!printable_without_spaces(id)) {
      problems.add(line, "cluster_id must be printable ASCII without spaces");
    }
  }
  check_replicas(draft, problems);
  check_keys_and_names(draft, problems);
  check_options(draft, problems);
}

Draft draft_of(const ClusterConfig& config) {
  Draft draft;
  draft.cluster_id = config.cluster_id;
  draft.has_cluster_id = true;
  draft.replica_options = config.replica_options;
  draft.client_options = config.client_options;
  std::size_t position = 0;
  for (const ReplicaEntry& entry : config.replicas) {
    ReplicaDraft replica;
    replica.entry = entry;
    replica.position = ++position;
    replica.has_id = replica.has_endpoint = replica.has_public_key = replica.has_key_file = true;
    draft.replicas.push_back(std::move(replica));
  }
  position = 0;
  for (const ClientEntry& entry : config.clients) {
    ClientDraft client;
    client.entry = entry;
    client.position = ++position;
    client.has_name = client.has_public_key = true;
    draft.clients.push_back(std::move(client));
  }
  return draft;
}

}  // namespace phalanx::pbft::config_detail

namespace phalanx::pbft {

std::vector<std::string> validate_cluster_config(const ClusterConfig& config) {
  config_detail::Problems problems("cluster config");
  config_detail::validate(config_detail::draft_of(config), problems);
  std::vector<std::string> lines = problems.lines();
  // Replicas built in code must also be stored in id order (index = id).
  for (std::size_t index = 0; index < config.replicas.size(); ++index) {
    if (config.replicas[index].id != index) {
      lines.push_back("cluster config: replicas[" + std::to_string(index) + "] has id " +
                      std::to_string(config.replicas[index].id) + "; replicas must be in id order");
      break;
    }
  }
  return lines;
}

}  // namespace phalanx::pbft
