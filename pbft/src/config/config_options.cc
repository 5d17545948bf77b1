// The [options] and [client_options] keys one at a time, and the rules between them, for
// the cluster file's validator and for other files that embed the same keys.
#include <algorithm>

#include "config_internal.h"
#include "phalanx/pbft/config.h"
#include "phalanx/pbft/limits.h"

namespace phalanx::pbft {

namespace {

template <typename Options>
std::optional<std::string> set_option(std::span<const config_detail::OptionField<Options>> fields,
                                      Options& options, std::string_view key, std::int64_t value) {
  auto field = std::find_if(fields.begin(), fields.end(),
                            [&](const auto& candidate) { return candidate.key == key; });
  if (field == fields.end()) return "unknown option '" + std::string(key) + "'";
  if (value < 0 || static_cast<std::uint64_t>(value) < field->min ||
      static_cast<std::uint64_t>(value) > field->max) {
    return std::string(key) + " = " + std::to_string(value) + " is out of range " +
           std::to_string(field->min) + ".." + std::to_string(field->max);
  }
  field->set(options, static_cast<std::uint64_t>(value) * field->scale);
  return std::nullopt;
}

template <typename Options>
std::vector<std::string_view> keys_of(std::span<const config_detail::OptionField<Options>> fields) {
  std::vector<std::string_view> keys;
  for (const auto& field : fields) keys.push_back(field.key);
  return keys;
}

}  // namespace

std::optional<std::string> set_replica_option(ReplicaOptions& options, std::string_view key,
                                              std::int64_t value) {
  return set_option(config_detail::replica_option_fields(), options, key, value);
}

std::optional<std::string> set_client_option(ClientOptions& options, std::string_view key,
                                             std::int64_t value) {
  return set_option(config_detail::client_option_fields(), options, key, value);
}

std::vector<std::string_view> replica_option_keys() {
  return keys_of(config_detail::replica_option_fields());
}

std::vector<std::string_view> client_option_keys() {
  return keys_of(config_detail::client_option_fields());
}

std::vector<std::string> replica_option_rule_problems(const ReplicaOptions& options) {
  std::vector<std::string> problems;
  if (options.view_timeout_floor > options.view_timeout_initial ||
      options.view_timeout_initial > options.view_timeout_ceiling) {
    problems.push_back(
        "view timeouts must satisfy view_timeout_floor_ms <= view_timeout_initial_ms <= "
        "view_timeout_ceiling_ms");
  }
  // A VIEW-CHANGE carries one prepared certificate per slot of the log window; the
  // window must fit what a receiver accepts.
  std::uint64_t window = options.checkpoint_interval * options.window_checkpoints;
  if (options.checkpoint_interval <= (1u << 20) && options.window_checkpoints <= 64 &&
      window > WireLimits{}.prepared_certificates_max) {
    problems.push_back("checkpoint_interval * window_checkpoints = " + std::to_string(window) +
                       " exceeds the log window limit " +
                       std::to_string(WireLimits{}.prepared_certificates_max));
  }
  return problems;
}

std::vector<std::string> client_option_rule_problems(const ClientOptions& options) {
  if (options.retry_timeout > options.retry_timeout_max)
    return {"retry_timeout_ms must not exceed retry_timeout_max_ms"};
  return {};
}

}  // namespace phalanx::pbft
