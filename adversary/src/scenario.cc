// Reading scenario files (docs/adversary.md): TOML syntax and types, every rule, and all
// the problems of a file at once, each with its line. The rules that need the whole file
// (overlapping crashes, more than f faulty replicas) are in check_schedule and
// check_expectation, after everything was read.
#include "phalanx/adversary/scenario.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/pbft/config.h"
#include "scenario_internal.h"

namespace phalanx::adversary {

namespace {

using scenario_detail::fault_kinds;
using scenario_detail::Lines;
using scenario_detail::Problems;

constexpr pbft::Instant kMs = pbft::kMillisecond;

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}
std::size_t line_of(const toml::key& key) {
  return key.source().begin.line;
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string text;
  for (std::string_view word : words) text += (text.empty() ? "" : ", ") + std::string(word);
  return text;
}

// "unknown key 'x' (did you mean 'y'?)", or the known keys when none is close.
std::string unknown_key(std::string_view key, const std::vector<std::string_view>& known) {
  // A unit left out ("until" for "until_ms") is as near as a typo.
  std::string_view best = pbft::closest_word(key, known, /*prefix_is_near=*/true);
  std::string text = "unknown key '" + std::string(key) + "'";
  if (!best.empty()) return text + " (did you mean '" + std::string(best) + "'?)";
  return text + " (known keys: " + joined(known) + ")";
}

class Reader {
 public:
  Reader(Problems& problems, Scenario& scenario) : problems_(problems), scenario_(scenario) {}

  void read(const toml::table& root) {
    static const std::vector<std::string_view> kTopKeys = {
        "name", "description", "seeds", "cluster", "network", "byzantine", "fault", "expect"};
    check_keys(root, "top level", kTopKeys);
    scenario_.name = required_string(root, "name", "top level", 0);
    scenario_.description = required_string(root, "description", "top level", 0);
    if (const toml::node* node = root.get("seeds"))
      if (auto seeds = integer(*node, "seeds", 1, kScenarioSeedsMax)) scenario_.seeds = *seeds;
    // The cluster first: the other tables name its replicas, clients and twins.
    if (const toml::table* cluster = table_at(root, "cluster")) {
      read_cluster(*cluster);
    } else if (!root.contains("cluster")) {
      problems_.add(0, "missing [cluster] (at least: replicas = 4)");
    }
    if (const toml::table* network = table_at(root, "network"))
      read_link(*network, "[network]", scenario_.network, true);
    for_each_table(root, "byzantine", [&](const toml::table& table, std::size_t position) {
      read_byzantine(table, position);
    });
    for_each_table(root, "fault", [&](const toml::table& table, std::size_t position) {
      read_fault(table, position);
    });
    if (const toml::table* expect = table_at(root, "expect")) {
      read_expect(*expect);
    } else if (!root.contains("expect")) {
      problems_.add(0, "missing [expect] (at least: outcome = \"safe\" or \"violation\")");
    }
  }

  bool cluster_known() const { return cluster_known_; }

 private:
  // --- values ----------------------------------------------------------------------------

  void check_keys(const toml::table& table, std::string_view where,
                  const std::vector<std::string_view>& known) {
    for (auto&& [key, node] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end())
        problems_.add(line_of(key), std::string(where) + ": " + unknown_key(key.str(), known));
    }
  }

  const toml::table* table_at(const toml::table& parent, std::string_view key) {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (const toml::table* table = node->as_table()) return table;
    problems_.add(line_of(*node),
                  std::string(key) + " must be a table ([" + std::string(key) + "])");
    return nullptr;
  }

  template <typename Read>
  void for_each_table(const toml::table& root, std::string_view key, Read read) {
    const toml::node* node = root.get(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      problems_.add(line_of(*node),
                    std::string(key) + " must be written as [[" + std::string(key) + "]] tables");
      return;
    }
    std::size_t position = 0;
    for (const toml::node& element : *array) read(*element.as_table(), ++position);
  }

  std::string required_string(const toml::table& table, std::string_view key,
                              std::string_view where, std::size_t line) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      problems_.add(line, std::string(where) + ": missing " + std::string(key));
      return {};
    }
    auto value = node->value_exact<std::string>();
    if (!value) {
      problems_.add(line_of(*node), std::string(key) + " must be a string");
      return {};
    }
    if (value->empty()) problems_.add(line_of(*node), std::string(key) + " is empty");
    return *value;
  }

  std::optional<std::int64_t> integer(const toml::node& node, std::string_view what,
                                      std::int64_t min, std::uint64_t max) {
    auto value = node.value_exact<std::int64_t>();
    if (!value) {
      problems_.add(line_of(node), std::string(what) + " must be an integer");
      return std::nullopt;
    }
    if (*value < min || static_cast<std::uint64_t>(*value) > max) {
      problems_.add(line_of(node), std::string(what) + " = " + std::to_string(*value) +
                                       " is out of range " + std::to_string(min) + ".." +
                                       std::to_string(max));
      return std::nullopt;
    }
    return value;
  }

  std::optional<double> number(const toml::node& node, std::string_view what, double min,
                               double max) {
    std::optional<double> value;
    if (auto whole = node.value_exact<std::int64_t>()) value = static_cast<double>(*whole);
    if (auto real = node.value_exact<double>()) value = *real;
    if (!value) {
      problems_.add(line_of(node), std::string(what) + " must be a number");
      return std::nullopt;
    }
    if (!(*value >= min && *value <= max)) {
      problems_.add(line_of(node), std::string(what) + " = " + number_text(*value) +
                                       " is out of range " + number_text(min) + ".." +
                                       number_text(max));
      return std::nullopt;
    }
    return value;
  }

  std::optional<pbft::Instant> milliseconds(const toml::node& node, std::string_view what) {
    auto value = integer(node, what, 0, kScenarioTimeLimitSMax * 1000);
    if (!value) return std::nullopt;
    return static_cast<pbft::Instant>(*value) * kMs;
  }

  std::optional<pbft::ReplicaId> replica_id(const toml::node& node, std::string_view what) {
    auto value = node.value_exact<std::int64_t>();
    if (!value) {
      problems_.add(line_of(node), std::string(what) + " must be a replica id (an integer)");
      return std::nullopt;
    }
    if (!cluster_known_) return std::nullopt;  // the cluster's problem is reported already
    if (*value < 0 || *value >= scenario_.replicas) {
      problems_.add(line_of(node),
                    std::string(what) + " = " + std::to_string(*value) +
                        " is not a replica: with " + std::to_string(scenario_.replicas) +
                        " replicas the ids are 0.." + std::to_string(scenario_.replicas - 1));
      return std::nullopt;
    }
    return static_cast<pbft::ReplicaId>(*value);
  }

  // A replica id, "client:K" or "twin:R".
  std::optional<NodeRef> node_ref(const toml::node& node, std::string_view what) {
    if (node.is_integer()) {
      auto id = replica_id(node, what);
      if (!id) return std::nullopt;
      return NodeRef{NodeRef::Kind::kReplica, *id};
    }
    auto text = node.value_exact<std::string>();
    auto bad = [&](const std::string& why) {
      problems_.add(line_of(node), std::string(what) + ": " + why);
      return std::nullopt;
    };
    if (!text) return bad("a node is a replica id, \"client:K\" or \"twin:R\"");
    std::size_t colon = text->find(':');
    std::string prefix = text->substr(0, colon);
    std::string digits = colon == std::string::npos ? "" : text->substr(colon + 1);
    if ((prefix != "client" && prefix != "twin") || digits.empty() || digits.size() > 6 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("'" + *text + "' is not a node (a replica id, \"client:K\" or \"twin:R\")");
    if (!cluster_known_) return std::nullopt;
    auto index = static_cast<std::uint32_t>(std::stoul(digits));
    if (prefix == "client") {
      if (index >= scenario_.clients)
        return bad("'" + *text + "': there are " + std::to_string(scenario_.clients) +
                   " clients (client:0..client:" + std::to_string(scenario_.clients - 1) + ")");
      return NodeRef{NodeRef::Kind::kClient, index};
    }
    if (scenario_.twins.count(index) == 0)
      return bad("'" + *text + "': replica " + std::to_string(index) +
                 " has no twin (list it in [cluster] twins)");
    return NodeRef{NodeRef::Kind::kTwin, index};
  }

  std::vector<pbft::ReplicaId> replica_list(const toml::node& node, std::string_view what) {
    std::vector<pbft::ReplicaId> ids;
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      problems_.add(line_of(node), std::string(what) + " must be an array of replica ids");
      return ids;
    }
    for (const toml::node& element : *array) {
      auto id = replica_id(element, what);
      if (!id) continue;
      if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
        problems_.add(line_of(element),
                      std::string(what) + " names replica " + std::to_string(*id) + " twice");
        continue;
      }
      ids.push_back(*id);
    }
    return ids;
  }

  // --- tables ----------------------------------------------------------------------------

  void read_cluster(const toml::table& cluster) {
    static const std::vector<std::string_view> kKeys = {
        "replicas",      "clients",      "requests_per_client",
        "think_time_ms", "time_limit_s", "settle_s",
        "storage",       "twins",        "options",
        "client_options"};
    check_keys(cluster, "[cluster]", kKeys);
    std::size_t line = line_of(cluster);
    if (const toml::node* node = cluster.get("replicas")) {
      if (auto n =
              integer(*node, "[cluster] replicas", kScenarioReplicasMin, kScenarioReplicasMax)) {
        if ((*n - 1) % 3 != 0) {
          problems_.add(line_of(*node), "[cluster] replicas = " + std::to_string(*n) +
                                            ", but PBFT needs n = 3f+1 (4, 7, 10, ...)");
        } else {
          scenario_.replicas = static_cast<std::uint32_t>(*n);
          cluster_known_ = true;
        }
      }
    } else {
      problems_.add(line, "[cluster]: missing replicas (n = 3f+1: 4, 7, 10, ...)");
    }
    if (const toml::node* node = cluster.get("clients")) {
      if (auto value = integer(*node, "[cluster] clients", 1, kScenarioClientsMax))
        scenario_.clients = static_cast<std::uint32_t>(*value);
      else
        cluster_known_ = false;  // client names cannot be checked
    }
    if (const toml::node* node = cluster.get("requests_per_client"))
      if (auto value =
              integer(*node, "[cluster] requests_per_client", 1, kScenarioRequestsPerClientMax))
        scenario_.requests_per_client = static_cast<std::uint32_t>(*value);
    if (const toml::node* node = cluster.get("think_time_ms"))
      if (auto value = integer(*node, "[cluster] think_time_ms", 0, kScenarioThinkMsMax))
        scenario_.think_time = static_cast<pbft::Instant>(*value) * kMs;
    if (const toml::node* node = cluster.get("time_limit_s")) {
      if (auto value = integer(*node, "[cluster] time_limit_s", 1, kScenarioTimeLimitSMax))
        scenario_.time_limit = static_cast<pbft::Instant>(*value) * pbft::kSecond;
      else
        time_limit_known_ = false;
    }
    if (const toml::node* node = cluster.get("settle_s"))
      if (auto value = integer(*node, "[cluster] settle_s", 0, kScenarioTimeLimitSMax))
        scenario_.settle_time = static_cast<pbft::Instant>(*value) * pbft::kSecond;
    if (const toml::node* node = cluster.get("storage")) {
      auto text = node->value_exact<std::string>();
      if (text && *text == "memory") {
        scenario_.storage = SimClusterOptions::Storage::kMemory;
      } else if (text && *text == "log") {
        scenario_.storage = SimClusterOptions::Storage::kLog;
      } else {
        problems_.add(line_of(*node), "[cluster] storage must be \"memory\" or \"log\"");
      }
    }
    if (const toml::node* node = cluster.get("twins")) {
      for (pbft::ReplicaId id : replica_list(*node, "[cluster] twins")) scenario_.twins.insert(id);
    }
    if (const toml::table* options = table_at(cluster, "options")) {
      options_line_ = line_of(*options);
      read_options(*options, "[cluster.options]", pbft::replica_option_keys(),
                   [&](std::string_view key, std::int64_t value) {
                     return pbft::set_replica_option(scenario_.replica_options, key, value);
                   });
    }
    if (const toml::table* options = table_at(cluster, "client_options")) {
      client_options_line_ = line_of(*options);
      read_options(*options, "[cluster.client_options]", pbft::client_option_keys(),
                   [&](std::string_view key, std::int64_t value) {
                     return pbft::set_client_option(scenario_.client_options, key, value);
                   });
    }
    for (const std::string& problem : pbft::replica_option_rule_problems(scenario_.replica_options))
      problems_.add(options_line_, "[cluster.options] " + problem);
    for (const std::string& problem : pbft::client_option_rule_problems(scenario_.client_options))
      problems_.add(client_options_line_, "[cluster.client_options] " + problem);
  }

  template <typename Set>
  void read_options(const toml::table& table, std::string_view where,
                    const std::vector<std::string_view>& known, Set set) {
    for (auto&& [key, node] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        problems_.add(line_of(key), std::string(where) + ": " + unknown_key(key.str(), known));
        continue;
      }
      auto value = node.template value_exact<std::int64_t>();
      if (!value) {
        problems_.add(line_of(node),
                      std::string(where) + " " + std::string(key.str()) + " must be an integer");
        continue;
      }
      if (auto problem = set(key.str(), *value))
        problems_.add(line_of(node), std::string(where) + " " + *problem);
    }
  }

  // [network], or a link fault's overrides of it (`base`: every key optional either way).
  void read_link(const toml::table& table, std::string_view where, net::LinkRule& rule,
                 bool whole_table) {
    if (whole_table) check_keys(table, where, {"latency_ms", "drop", "duplicate"});
    if (const toml::node* node = table.get("latency_ms")) {
      std::string what = std::string(where) + " latency_ms";
      std::optional<std::int64_t> min, max;
      if (const toml::array* range = node->as_array()) {
        if (range->size() != 2) {
          problems_.add(line_of(*node), what + " must be one number or [min, max]");
        } else {
          min = integer(*range->get(0), what, 0, kScenarioLatencyMsMax);
          max = integer(*range->get(1), what, 0, kScenarioLatencyMsMax);
          if (min && max && *min > *max) {
            problems_.add(line_of(*node), what + " = [" + std::to_string(*min) + ", " +
                                              std::to_string(*max) + "]: min is above max");
            min.reset();
          }
        }
      } else {
        min = max = integer(*node, what, 0, kScenarioLatencyMsMax);
      }
      if (min && max) {
        rule.latency_min_ns = static_cast<std::uint64_t>(*min) * kMs;
        rule.latency_max_ns = static_cast<std::uint64_t>(*max) * kMs;
      }
    }
    if (const toml::node* node = table.get("drop"))
      if (auto value = number(*node, std::string(where) + " drop", 0, 1))
        rule.drop_probability = *value;
    if (const toml::node* node = table.get("duplicate"))
      if (auto value = number(*node, std::string(where) + " duplicate", 0, 1))
        rule.duplicate_probability = *value;
  }

  // A parameter value as text: strings as they are, numbers and booleans as written,
  // arrays of those joined by commas ([2, 3] -> "2,3").
  std::optional<std::string> param_text(const toml::node& node, std::string_view what,
                                        bool in_array = false) {
    if (auto text = node.value_exact<std::string>()) return *text;
    if (auto whole = node.value_exact<std::int64_t>()) return std::to_string(*whole);
    if (auto flag = node.value_exact<bool>()) return std::string(*flag ? "true" : "false");
    if (auto real = node.value_exact<double>()) return number_text(*real);
    if (const toml::array* array = node.as_array(); array != nullptr && !in_array) {
      std::string text;
      for (const toml::node& element : *array) {
        auto part = param_text(element, what, true);
        if (!part) return std::nullopt;
        text += (text.empty() ? "" : ",") + *part;
      }
      return text;
    }
    problems_.add(line_of(node),
                  std::string(what) + " must be a string, number, boolean or an array of those");
    return std::nullopt;
  }

  void read_byzantine(const toml::table& table, std::size_t position) {
    std::string where = "[[byzantine]] #" + std::to_string(position);
    check_keys(table, where, {"replica", "behaviour", "params"});
    ByzantineReplica byzantine;
    byzantine.line = line_of(table);
    bool complete = true;
    bool replica_known = false;  // only then does it count among the faulty replicas
    if (const toml::node* node = table.get("replica")) {
      if (auto id = replica_id(*node, where + ": replica")) {
        replica_known = true;
        byzantine.replica = *id;
        where = "[[byzantine]] replica " + std::to_string(*id);
        for (const ByzantineReplica& other : scenario_.byzantine) {
          if (other.replica == *id)
            problems_.add(line_of(*node), where + " is also Byzantine at line " +
                                              std::to_string(other.line) +
                                              " (one behaviour per replica)");
        }
      } else {
        complete = false;
      }
    } else {
      problems_.add(byzantine.line, where + ": missing replica");
      complete = false;
    }
    const toml::node* behaviour = table.get("behaviour");
    if (behaviour == nullptr) {
      problems_.add(byzantine.line,
                    where + ": missing behaviour (known: " + joined(behaviour_names()) + ")");
      complete = false;
    } else if (auto name = behaviour->value_exact<std::string>()) {
      byzantine.behaviour = *name;
    } else {
      problems_.add(line_of(*behaviour), where + ": behaviour must be a string");
      complete = false;
    }
    std::size_t params_line = byzantine.line;
    if (const toml::table* params = table_at(table, "params")) {
      params_line = line_of(*params);
      for (auto&& [key, node] : *params) {
        auto text = param_text(node, where + ": params." + std::string(key.str()));
        if (text)
          byzantine.params[std::string(key.str())] = *text;
        else
          complete = false;
      }
    }
    if (complete) {
      // The behaviour itself says whether it knows the name and its parameters.
      BehaviourContext context{byzantine.replica,
                               scenario_.replicas,
                               "scenario",
                               crypto::SecretKey::derive_for_testing("replica", byzantine.replica),
                               1,
                               byzantine.params};
      auto made = make_behaviour(byzantine.behaviour, std::move(context));
      if (!made.ok()) {
        auto names = behaviour_names();
        bool known = std::find(names.begin(), names.end(), byzantine.behaviour) != names.end();
        problems_.add(known ? params_line : line_of(*behaviour),
                      where + ": " + made.error().message);
      }
    }
    if (replica_known) scenario_.byzantine.push_back(std::move(byzantine));
  }

  void read_fault(const toml::table& table, std::size_t position) {
    Fault fault;
    fault.line = line_of(table);
    std::string where = "[[fault]] #" + std::to_string(position);
    const toml::node* kind_node = table.get("kind");
    auto kind_name = kind_node ? kind_node->value_exact<std::string>() : std::nullopt;
    const auto& kinds = fault_kinds();
    auto info = std::find_if(kinds.begin(), kinds.end(),
                             [&](const auto& candidate) { return kind_name == candidate.name; });
    if (info == kinds.end()) {
      std::vector<std::string_view> names;
      for (const auto& candidate : kinds) names.push_back(candidate.name);
      if (kind_node == nullptr)
        problems_.add(fault.line, where + ": missing kind (one of: " + joined(names) + ")");
      else
        problems_.add(line_of(*kind_node), where + ": unknown kind '" + kind_name.value_or("") +
                                               "' (one of: " + joined(names) + ")");
      return;
    }
    fault.kind = info->kind;
    where += " (" + std::string(info->name) + ")";
    std::vector<std::string_view> keys = {"kind", "at_ms"};
    keys.insert(keys.end(), info->keys.begin(), info->keys.end());
    for (auto&& [key, node] : table) {
      std::string_view name = key.str();  // a lambda may not capture a structured binding
      if (std::find(keys.begin(), keys.end(), name) != keys.end()) continue;
      bool elsewhere = std::any_of(kinds.begin(), kinds.end(), [&](const auto& other) {
        return std::find(other.keys.begin(), other.keys.end(), name) != other.keys.end();
      });
      if (elsewhere)
        problems_.add(line_of(key), where + ": '" + std::string(key.str()) +
                                        "' does not apply to " + std::string(info->name) +
                                        " (it takes: " + joined(keys) + ")");
      else
        problems_.add(line_of(key), where + ": " + unknown_key(key.str(), keys));
    }
    bool complete = true;
    if (const toml::node* node = table.get("at_ms")) {
      if (auto at = milliseconds(*node, where + " at_ms"))
        fault.at = *at;
      else
        complete = false;
    } else {
      problems_.add(fault.line, where + ": missing at_ms");
      complete = false;
    }
    for (std::string_view required : info->required) {
      if (!table.contains(required)) {
        problems_.add(fault.line, where + ": missing " + std::string(required));
        complete = false;
      }
    }
    for (std::string_view end_key : {"until_ms", "restart_ms"}) {
      const toml::node* node = table.get(end_key);
      if (node == nullptr || std::find(keys.begin(), keys.end(), end_key) == keys.end()) continue;
      auto end = milliseconds(*node, where + " " + std::string(end_key));
      if (!end) {
        complete = false;
      } else if (table.contains("at_ms") && *end <= fault.at) {
        problems_.add(line_of(*node),
                      where + ": " + std::string(end_key) + " = " + std::to_string(*end / kMs) +
                          " must come after at_ms = " + std::to_string(fault.at / kMs));
        complete = false;
      } else {
        fault.end = *end;
      }
    }
    complete = read_fault_fields(table, where, fault) && complete;
    if (complete && time_limit_known_) {
      if (fault.last_instant() >= scenario_.time_limit)
        problems_.add(fault.line, where + ": it " + (fault.end ? "ends" : "happens") + " at " +
                                      std::to_string(fault.last_instant() / kMs) +
                                      " ms, not before the time limit (" +
                                      std::to_string(scenario_.time_limit / pbft::kSecond) +
                                      " s): raise time_limit_s or leave the end out");
    }
    if (complete) scenario_.faults.push_back(std::move(fault));
  }

  // The fields of one kind of fault; false when one of them has a problem.
  bool read_fault_fields(const toml::table& table, const std::string& where, Fault& fault) {
    std::size_t before = problem_count();
    auto node_of = [&](std::string_view key) -> std::optional<NodeRef> {
      const toml::node* node = table.get(key);
      if (node == nullptr) return std::nullopt;
      return node_ref(*node, where + " " + std::string(key));
    };
    switch (fault.kind) {
      case Fault::Kind::kPartition: {
        const toml::array* groups = table.get("groups") ? table.get("groups")->as_array() : nullptr;
        if (groups == nullptr || groups->empty()) {
          if (table.contains("groups"))
            problems_.add(
                line_of(*table.get("groups")),
                where + ": groups must be an array of arrays of nodes, e.g. [[0, 1], [2, 3]]");
          return false;
        }
        std::map<NodeRef, std::size_t> group_of;
        for (const toml::node& element : *groups) {
          const toml::array* group = element.as_array();
          if (group == nullptr || group->empty()) {
            problems_.add(line_of(element), where + ": each group is a non-empty array of nodes");
            continue;
          }
          fault.groups.emplace_back();
          for (const toml::node& member : *group) {
            auto node = node_ref(member, where + " groups");
            if (!node) continue;
            if (!group_of.emplace(*node, fault.groups.size()).second) {
              problems_.add(line_of(member),
                            where + ": node " + to_string(*node) + " is in two groups");
              continue;
            }
            fault.groups.back().push_back(*node);
          }
        }
        break;
      }
      case Fault::Kind::kIsolate:
      case Fault::Kind::kClockRate:
      case Fault::Kind::kClockJump:
        if (auto node = node_of("node")) fault.node = *node;
        if (const toml::node* node = table.get("rate"))
          if (auto rate = number(*node, where + " rate", 0.02, 50)) fault.rate = *rate;
        if (const toml::node* node = table.get("by_ms")) {
          if (auto by = milliseconds(*node, where + " by_ms"); by && *by == 0)
            problems_.add(line_of(*node),
                          where + ": by_ms must be at least 1 (clocks jump forward)");
          else if (by)
            fault.by = *by;
        }
        break;
      case Fault::Kind::kCut:
        if (auto from = node_of("from")) fault.node = *from;
        if (auto to = node_of("to")) fault.to = *to;
        if (table.contains("from") && table.contains("to") && fault.node == fault.to &&
            problem_count() == before)
          problems_.add(fault.line, where + ": from and to are the same node");
        break;
      case Fault::Kind::kLink: {
        if (!table.contains("drop") && !table.contains("duplicate") &&
            !table.contains("latency_ms")) {
          problems_.add(fault.line, where + ": give at least one of drop, duplicate, latency_ms");
          return false;
        }
        fault.link = scenario_.network;
        read_link(table, where, fault.link, false);
        if (const toml::node* node = table.get("between")) {
          const toml::array* pair = node->as_array();
          if (pair == nullptr || pair->size() != 2) {
            problems_.add(line_of(*node), where + ": between must be [node, node]");
            return false;
          }
          auto a = node_ref(*pair->get(0), where + " between");
          auto b = node_ref(*pair->get(1), where + " between");
          if (a && b && *a == *b)
            problems_.add(line_of(*node), where + ": between one node and itself");
          if (a && b) fault.between = std::pair{*a, *b};
        }
        break;
      }
      case Fault::Kind::kCrash:
      case Fault::Kind::kPause:
      case Fault::Kind::kRejoin:
      case Fault::Kind::kAmnesia:
        if (const toml::node* node = table.get("replica"))
          if (auto id = replica_id(*node, where + " replica")) fault.replica = *id;
        break;
      case Fault::Kind::kHeal:
        break;
    }
    return problem_count() == before;
  }

  void read_expect(const toml::table& expect) {
    check_keys(expect, "[expect]",
               {"outcome", "properties", "liveness_bound_ms", "caught", "violation_seeds_min"});
    Expectation& expectation = scenario_.expect;
    std::size_t line = line_of(expect);
    lines_.outcome = line;
    if (const toml::node* node = expect.get("outcome")) {
      lines_.outcome = line_of(*node);
      auto text = node->value_exact<std::string>();
      if (text && *text == "safe") {
        expectation.outcome = Expectation::Outcome::kSafe;
      } else if (text && *text == "violation") {
        expectation.outcome = Expectation::Outcome::kViolation;
      } else {
        problems_.add(line_of(*node), "[expect] outcome must be \"safe\" or \"violation\"");
      }
    } else {
      problems_.add(line, "[expect]: missing outcome (\"safe\" or \"violation\")");
    }
    const bool violation = expectation.outcome == Expectation::Outcome::kViolation;
    for (std::size_t i = 0; i < kScenarioPropertyCount; ++i)
      expectation.properties.insert(static_cast<ScenarioProperty>(i));
    if (const toml::node* node = expect.get("properties")) {
      expectation.properties.clear();
      const toml::array* names = node->as_array();
      if (names == nullptr) {
        problems_.add(line_of(*node),
                      "[expect] properties must be an array such as [\"S1\", \"L1\"]");
      } else {
        for (const toml::node& element : *names) {
          auto name = element.value_exact<std::string>();
          auto property = name ? scenario_property(*name) : std::nullopt;
          if (!property)
            problems_.add(line_of(element), "[expect] properties: '" + name.value_or("?") +
                                                "' is not one of S1, S2, S3, S4, S5, L1");
          else
            expectation.properties.insert(*property);
        }
        if (names->empty())
          problems_.add(line_of(*node),
                        violation ? "[expect] properties: list the properties that may fail"
                                  : "[expect] properties: no property to check");
      }
    }
    if (const toml::node* node = expect.get("liveness_bound_ms")) {
      if (auto bound =
              integer(*node, "[expect] liveness_bound_ms", 1, kScenarioTimeLimitSMax * 1000))
        expectation.liveness_bound = static_cast<pbft::Instant>(*bound) * kMs;
      if (!expectation.in_scope(ScenarioProperty::kL1))
        problems_.add(line_of(*node),
                      "[expect] liveness_bound_ms is given, but L1 is not among the properties");
    }
    if (const toml::node* node = expect.get("caught")) {
      lines_.caught = line_of(*node);
      for (pbft::ReplicaId id : replica_list(*node, "[expect] caught"))
        expectation.caught.insert(id);
      if (!expectation.in_scope(ScenarioProperty::kS5))
        problems_.add(line_of(*node),
                      "[expect] caught is given, but S5 is not among the properties");
    }
    if (const toml::node* node = expect.get("violation_seeds_min")) {
      if (!violation)
        problems_.add(line_of(*node),
                      "[expect] violation_seeds_min applies to outcome = \"violation\" only");
      else if (auto fraction = number(*node, "[expect] violation_seeds_min", 0, 1);
               fraction && *fraction == 0)
        problems_.add(line_of(*node), "[expect] violation_seeds_min must be above 0");
      else if (fraction)
        expectation.violation_seeds_min = *fraction;
    }
  }

  std::size_t problem_count() const { return problems_.size(); }

 public:
  const Lines& lines() const { return lines_; }

 private:
  Problems& problems_;
  Scenario& scenario_;
  Lines lines_;
  bool cluster_known_ = false;  // replicas (and clients) read without a problem
  bool time_limit_known_ = true;
  std::size_t options_line_ = 0;
  std::size_t client_options_line_ = 0;
};

}  // namespace

Result<Scenario> parse_scenario(std::string_view text, std::string_view source_name) {
  auto parsed = pbft::parse_toml_file(text, source_name, kScenarioFileBytesMax);
  if (!parsed.ok()) return parsed.error();
  const toml::table& root = parsed.value();
  Problems problems(source_name);
  Scenario scenario;
  scenario.source = std::string(source_name);
  Reader reader(problems, scenario);
  reader.read(root);
  if (reader.cluster_known()) {
    scenario_detail::check_schedule(scenario, problems);
    scenario_detail::check_expectation(scenario, reader.lines(), problems);
  }
  if (!problems.empty()) return Error{problems.joined()};
  return scenario;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    return Error{path + ": is a directory, not a scenario file"};
  std::ifstream file(path, std::ios::binary);
  if (!file) return Error{path + ": cannot open scenario file: " + std::strerror(errno)};
  std::string text;
  text.resize(kScenarioFileBytesMax + 1);
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) return Error{path + ": cannot read scenario file: " + std::strerror(errno)};
  text.resize(static_cast<std::size_t>(file.gcount()));
  return parse_scenario(text, path);
}

}  // namespace phalanx::adversary
