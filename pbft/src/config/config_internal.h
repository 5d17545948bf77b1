#pragma once
// Shared by the cluster file's reader, validator and writer: the [options] tables as
// data, and a config as parsed (with the line of every field, so that a problem found
// after parsing can still name its line).

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phalanx/pbft/config.h"
#include "phalanx/pbft/toml_file.h"

namespace phalanx::pbft::config_detail {

// One tunable of [options] or [client_options]: its key in the file, the factor from
// the file's unit to the struct's (1, or kMillisecond for keys ending in _ms) and the
// bounds of the value as written in the file.
template <typename Options>
struct OptionField {
  std::string_view key;
  std::uint64_t scale;
  std::uint64_t min;
  std::uint64_t max;
  std::uint64_t (*get)(const Options&);
  void (*set)(Options&, std::uint64_t);
};

std::span<const OptionField<ReplicaOptions>> replica_option_fields();
std::span<const OptionField<ClientOptions>> client_option_fields();

// Where things were in the file; 0 = unknown (the config was built in code).
struct FieldLines {
  std::size_t entry = 0;  // the [[replica]] / [[client]] header
  std::map<std::string, std::size_t, std::less<>> fields;
  std::size_t of(std::string_view field) const {
    auto it = fields.find(field);
    return it == fields.end() ? entry : it->second;
  }
};

struct ReplicaDraft {
  ReplicaEntry entry;
  FieldLines lines;
  std::size_t position = 0;  // 1-based order in the file
  bool has_id = false;
  bool has_endpoint = false;
  bool has_public_key = false;
  bool has_key_file = false;
};

struct ClientDraft {
  ClientEntry entry;
  FieldLines lines;
  std::size_t position = 0;
  bool has_name = false;
  bool has_public_key = false;
};

struct Draft {
  std::string cluster_id;
  bool has_cluster_id = false;
  FieldLines lines;  // top-level keys and the tables' option keys ("options.x")
  std::vector<ReplicaDraft> replicas;
  std::vector<ClientDraft> clients;
  ReplicaOptions replica_options;
  ClientOptions client_options;
};

using Problems = FileProblems;

// Every rule that is not about the file's syntax or types (see config.h).
void validate(const Draft& draft, Problems& problems);

Draft draft_of(const ClusterConfig& config);

// "replica 2", or "[[replica]] #3" while its id is unknown.
std::string label(const ReplicaDraft& replica);
std::string label(const ClientDraft& client);

}  // namespace phalanx::pbft::config_detail
