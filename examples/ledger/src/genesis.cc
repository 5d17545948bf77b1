#include "phalanx/ledger/genesis.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "phalanx/pbft/toml_file.h"

namespace phalanx::ledger {
namespace {

constexpr std::size_t kGenesisBytesMax = 16 * 1024 * 1024;
constexpr std::array<std::string_view, 3> kTopKeys = {"chain_id", "time", "accounts"};
constexpr std::array<std::string_view, 2> kAccountKeys = {"key", "balance"};

std::size_t line_of(const toml::node& node) {
  return node.source().begin.line;
}

void check_keys(const toml::table& table, std::span<const std::string_view> known,
                std::string_view where, pbft::FileProblems& problems) {
  for (const auto& [key, value] : table) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string text = std::string(where) + "unknown key '" + std::string(key.str()) + "'";
    if (auto near = pbft::closest_word(key.str(), known); !near.empty())
      text += " (did you mean '" + std::string(near) + "'?)";
    problems.add(key.source().begin.line, text);
  }
}

void read_account(const toml::node& node, std::size_t index, Genesis& genesis,
                  pbft::FileProblems& problems) {
  std::string where = "accounts[" + std::to_string(index) + "]: ";
  const auto* table = node.as_table();
  if (!table) return problems.add(line_of(node), where + "must be a table");
  check_keys(*table, kAccountKeys, where, problems);
  auto key_text = (*table)["key"].value_exact<std::string>();
  auto balance = (*table)["balance"].value_exact<std::int64_t>();
  auto key = key_text ? crypto::PublicKey::from_hex(*key_text) : std::nullopt;
  if (!key) return problems.add(line_of(node), where + "key must be 64 hex characters");
  if (!balance || *balance < 0)
    return problems.add(line_of(node), where + "balance must be a non-negative integer");
  if (genesis.accounts.count(*key))
    return problems.add(line_of(node), where + "account " + key->short_hex() + " listed twice");
  genesis.accounts[*key] = Account{static_cast<Amount>(*balance), 0};
}

}  // namespace

Result<Genesis> parse_genesis(std::string_view text, std::string_view source_name) {
  auto parsed = pbft::parse_toml_file(text, source_name, kGenesisBytesMax);
  if (!parsed.ok()) return parsed.error();
  const toml::table& root = parsed.value();
  pbft::FileProblems problems(source_name);
  check_keys(root, kTopKeys, "", problems);
  Genesis genesis;
  if (auto chain_id = root["chain_id"].value_exact<std::string>(); chain_id && !chain_id->empty())
    genesis.chain_id = *chain_id;
  else
    problems.add(0, "chain_id must be a non-empty string");
  if (root.contains("time")) {
    auto time = root["time"].value_exact<std::int64_t>();
    if (time && *time >= 0)
      genesis.time = static_cast<pbft::UnixMillis>(*time);
    else
      problems.add(line_of(*root.get("time")), "time must be a non-negative integer (unix ms)");
  }
  if (const auto* accounts = root["accounts"].as_array()) {
    for (std::size_t i = 0; i < accounts->size(); ++i)
      read_account(*accounts->get(i), i, genesis, problems);
  } else if (root.contains("accounts")) {
    problems.add(line_of(*root.get("accounts")), "accounts must be an array of tables");
  }
  if (!problems.empty()) return Error{problems.joined()};
  return genesis;
}

Result<Genesis> load_genesis(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Error{path + ": cannot read the genesis file"};
  std::stringstream text;
  text << file.rdbuf();
  return parse_genesis(text.str(), path);
}

std::string format_genesis(const Genesis& genesis) {
  std::ostringstream out;
  out << "# Genesis of a Phalanx ledger (examples/ledger). Every replica and client of the\n"
      << "# chain uses this same file.\n"
      << "chain_id = \"" << genesis.chain_id << "\"\n"
      << "time = " << genesis.time << "\n";
  for (const auto& [key, account] : genesis.accounts)
    out << "\n[[accounts]]\nkey = \"" << key.hex() << "\"\nbalance = " << account.balance << "\n";
  return out.str();
}

}  // namespace phalanx::ledger
