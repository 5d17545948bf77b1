// Reading the cluster file: TOML syntax and types here, the rules in config_validate.cc.
// The reader keeps going after a problem so that one run reports all of them.
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config_internal.h"
#include "phalanx/pbft/config.h"

namespace phalanx::pbft {

namespace {

using config_detail::ClientDraft;
using config_detail::Draft;
using config_detail::FieldLines;
using config_detail::Problems;
using config_detail::ReplicaDraft;

constexpr std::array<std::string_view, 5> kTopKeys = {"cluster_id", "replica", "client", "options",
                                                      "client_options"};
constexpr std::array<std::string_view, 5> kReplicaKeys = {"id", "endpoint", "metrics_port",
                                                          "public_key", "key_file"};
constexpr std::array<std::string_view, 3> kClientKeys = {"name", "public_key", "key_file"};

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}
std::size_t line_of(const toml::key& key) {
  return key.source().begin.line;
}

std::string unknown_key(std::string_view where, std::string_view key,
                        std::span<const std::string_view> known) {
  std::string text = std::string(where) + ": unknown key '" + std::string(key) + "'";
  std::string_view suggestion = closest_word(key, known);
  if (!suggestion.empty()) {
    text += " (did you mean '" + std::string(suggestion) + "'?)";
  } else {
    text += " (known keys:";
    for (std::string_view name : known) text += " " + std::string(name);
    text += ")";
  }
  return text;
}

std::optional<std::string> read_string(const toml::node& node, std::string_view what,
                                       Problems& problems) {
  if (auto value = node.value_exact<std::string>()) return *value;
  problems.add(line_of(node), std::string(what) + " must be a string");
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(const toml::node& node, std::string_view what,
                                         Problems& problems) {
  if (auto value = node.value_exact<std::int64_t>()) return *value;
  problems.add(line_of(node), std::string(what) + " must be an integer");
  return std::nullopt;
}

std::optional<crypto::PublicKey> read_public_key(const toml::node& node, std::string_view who,
                                                 Problems& problems) {
  auto text = read_string(node, std::string(who) + ": public_key", problems);
  if (!text) return std::nullopt;
  auto key = crypto::PublicKey::from_hex(*text);
  if (!key) {
    problems.add(line_of(node), std::string(who) + ": public_key '" + *text + "' is not " +
                                    std::to_string(2 * crypto::PublicKey::kSize) +
                                    " hex characters");
  }
  return key;
}

ReplicaDraft read_replica(const toml::table& table, std::size_t position, Problems& problems) {
  ReplicaDraft replica;
  replica.position = position;
  replica.lines.entry = line_of(table);
  for (auto&& [key, node] : table) replica.lines.fields[std::string(key.str())] = line_of(node);

  // The id first, so that every later problem can say "replica <id>".
  if (const toml::node* node = table.get("id")) {
    if (auto id = read_integer(*node, config_detail::label(replica) + ": id", problems)) {
      if (*id < 0 || static_cast<std::uint64_t>(*id) >= kClusterReplicasMax) {
        problems.add(line_of(*node), config_detail::label(replica) + ": id " + std::to_string(*id) +
                                         " is out of range 0.." +
                                         std::to_string(kClusterReplicasMax - 1));
      } else {
        replica.entry.id = static_cast<ReplicaId>(*id);
        replica.has_id = true;
      }
    }
  }
  std::string who = config_detail::label(replica);
  for (auto&& [key, node] : table) {
    std::string_view name = key.str();
    if (name == "id") continue;
    if (name == "endpoint") {
      if (auto text = read_string(node, who + ": endpoint", problems)) {
        replica.entry.endpoint = *text;
        replica.has_endpoint = true;
      }
    } else if (name == "metrics_port") {
      if (auto port = read_integer(node, who + ": metrics_port", problems)) {
        if (*port < 1 || *port > 65535) {
          problems.add(line_of(node), who + ": metrics_port " + std::to_string(*port) +
                                          " is out of range 1..65535");
        } else {
          replica.entry.metrics_port = static_cast<std::uint16_t>(*port);
        }
      }
    } else if (name == "public_key") {
      if (auto public_key = read_public_key(node, who, problems)) {
        replica.entry.public_key = *public_key;
        replica.has_public_key = true;
      }
    } else if (name == "key_file") {
      if (auto text = read_string(node, who + ": key_file", problems)) {
        replica.entry.key_file = *text;
        replica.has_key_file = true;
      }
    } else {
      problems.add(line_of(key), unknown_key(who, name, kReplicaKeys));
    }
  }
  for (std::string_view required : {"id", "endpoint", "public_key", "key_file"}) {
    if (!table.contains(required)) {
      problems.add(replica.lines.entry, who + ": missing " + std::string(required));
    }
  }
  return replica;
}

ClientDraft read_client(const toml::table& table, std::size_t position, Problems& problems) {
  ClientDraft client;
  client.position = position;
  client.lines.entry = line_of(table);
  for (auto&& [key, node] : table) client.lines.fields[std::string(key.str())] = line_of(node);
  if (const toml::node* node = table.get("name")) {
    if (auto name = read_string(*node, config_detail::label(client) + ": name", problems)) {
      client.entry.name = *name;
      client.has_name = true;
    }
  }
  std::string who = config_detail::label(client);
  for (auto&& [key, node] : table) {
    std::string_view name = key.str();
    if (name == "name") continue;
    if (name == "public_key") {
      if (auto public_key = read_public_key(node, who, problems)) {
        client.entry.public_key = *public_key;
        client.has_public_key = true;
      }
    } else if (name == "key_file") {
      if (auto text = read_string(node, who + ": key_file", problems)) {
        client.entry.key_file = *text;
      }
    } else {
      problems.add(line_of(key), unknown_key(who, name, kClientKeys));
    }
  }
  for (std::string_view required : {"name", "public_key"}) {
    if (!table.contains(required)) {
      problems.add(client.lines.entry, who + ": missing " + std::string(required));
    }
  }
  return client;
}

template <typename Options>
void read_options(const toml::table& table, std::string_view table_name,
                  std::span<const config_detail::OptionField<Options>> fields, Options& options,
                  FieldLines& lines, Problems& problems) {
  std::vector<std::string_view> known;
  for (const auto& field : fields) known.push_back(field.key);
  std::string where = "[" + std::string(table_name) + "]";
  for (auto&& [key, node] : table) {
    std::string_view name = key.str();
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const auto& candidate) { return candidate.key == name; });
    if (field == fields.end()) {
      problems.add(line_of(key), unknown_key(where, name, known));
      continue;
    }
    lines.fields[std::string(table_name) + "." + std::string(name)] = line_of(node);
    auto value = read_integer(node, where + " " + std::string(name), problems);
    if (!value) continue;
    if (*value < 0 || static_cast<std::uint64_t>(*value) < field->min ||
        static_cast<std::uint64_t>(*value) > field->max) {
      problems.add(line_of(node), where + " " + std::string(name) + " = " + std::to_string(*value) +
                                      " is out of range " + std::to_string(field->min) + ".." +
                                      std::to_string(field->max));
      continue;
    }
    field->set(options, static_cast<std::uint64_t>(*value) * field->scale);
  }
}

// Reads an array of tables such as [[replica]], calling `read` on each.
template <typename Read>
void read_array_of_tables(const toml::node& node, std::string_view name, Problems& problems,
                          Read read) {
  const toml::array* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    problems.add(line_of(node),
                 std::string(name) + " must be written as [[" + std::string(name) + "]] tables");
    return;
  }
  std::size_t position = 0;
  for (const toml::node& element : *array) read(*element.as_table(), ++position);
}

void read_top_level(const toml::table& root, Draft& draft, Problems& problems) {
  for (auto&& [key, node] : root) {
    std::string_view name = key.str();
    draft.lines.fields[std::string(name)] = line_of(node);
    if (name == "cluster_id") {
      if (auto text = read_string(node, "cluster_id", problems)) {
        draft.cluster_id = *text;
        draft.has_cluster_id = true;
      }
    } else if (name == "replica") {
      read_array_of_tables(node, "replica", problems, [&](const toml::table& table, auto n) {
        draft.replicas.push_back(read_replica(table, n, problems));
      });
    } else if (name == "client") {
      read_array_of_tables(node, "client", problems, [&](const toml::table& table, auto n) {
        draft.clients.push_back(read_client(table, n, problems));
      });
    } else if (name == "options" || name == "client_options") {
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        problems.add(line_of(node),
                     std::string(name) + " must be a table ([" + std::string(name) + "])");
      } else if (name == "options") {
        read_options(*table, name, config_detail::replica_option_fields(), draft.replica_options,
                     draft.lines, problems);
      } else {
        read_options(*table, name, config_detail::client_option_fields(), draft.client_options,
                     draft.lines, problems);
      }
    } else {
      problems.add(line_of(key), unknown_key("top level", name, kTopKeys));
    }
  }
  if (!root.contains("cluster_id")) problems.add(0, "missing cluster_id");
}

}  // namespace

Verifier ClusterConfig::verifier() const {
  Verifier verifier;
  verifier.cluster_id = cluster_id;
  for (const ReplicaEntry& replica : replicas) verifier.replica_keys.push_back(replica.public_key);
  return verifier;
}

std::string ClusterConfig::resolve_path(const std::string& path) const {
  if (base_dir.empty() || path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(base_dir) / path).string();
}

const ClientEntry* ClusterConfig::find_client(std::string_view name) const {
  for (const ClientEntry& client : clients) {
    if (client.name == name) return &client;
  }
  return nullptr;
}

Result<ClusterConfig> parse_cluster_config(std::string_view text, std::string_view source_name,
                                           std::string_view base_dir) {
  auto parsed = parse_toml_file(text, source_name, kClusterFileBytesMax);
  if (!parsed.ok()) return parsed.error();
  const toml::table& root = parsed.value();
  Problems problems(source_name);
  Draft draft;
  read_top_level(root, draft, problems);
  config_detail::validate(draft, problems);
  if (!problems.empty()) return Error{problems.joined()};

  ClusterConfig config;
  config.cluster_id = draft.cluster_id;
  config.base_dir = std::string(base_dir);
  config.replica_options = draft.replica_options;
  config.client_options = draft.client_options;
  for (ReplicaDraft& replica : draft.replicas) config.replicas.push_back(std::move(replica.entry));
  std::sort(config.replicas.begin(), config.replicas.end(),
            [](const ReplicaEntry& a, const ReplicaEntry& b) { return a.id < b.id; });
  for (ClientDraft& client : draft.clients) config.clients.push_back(std::move(client.entry));
  return config;
}

Result<ClusterConfig> load_cluster_config(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Error{path + ": is a directory, not a cluster file"};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{path + ": cannot open cluster file: " + std::strerror(errno)};
  std::string text;
  text.resize(kClusterFileBytesMax + 1);
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) return Error{path + ": cannot read cluster file: " + std::strerror(errno)};
  text.resize(static_cast<std::size_t>(file.gcount()));
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  return parse_cluster_config(text, path, base_dir);
}

}  // namespace phalanx::pbft
