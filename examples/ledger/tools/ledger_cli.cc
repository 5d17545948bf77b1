// phalanx-ledger: accounts, transfers and offline verification for a Phalanx ledger.
//
//   phalanx-ledger new-account --out FILE              writes a secret key, prints the account
//   phalanx-ledger genesis --chain-id ID --account ACCOUNT=BALANCE ... [--time MS] --out FILE
//   phalanx-ledger --config cluster.toml [--genesis FILE] [--client NAME]
//       transfer --from KEYFILE --to ACCOUNT --amount N [--nonce N]
//       balance ACCOUNT
//       history ACCOUNT [--limit N]
//   phalanx-ledger verify --genesis FILE --db LEDGER_DB [--db LEDGER_DB ...]
//
// ACCOUNT is a public key (64 hex characters), a file NAME.pub holding one (what
// new-account prints, saved) or a secret key file (its public key).
// transfer without --nonce asks the cluster for the account's last nonce first. Replies
// are printed only once f+1 replicas agree on them. verify replays each block store from
// the genesis (every hash, signature, nonce, state root and time; verify.h) and checks
// that the stores agree with one another.
//
// Exit codes: 0 done; 1 the transfer was rejected, or verify found a fault; 2 bad input;
// 3 no f+1 matching replies before the deadline.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "phalanx/crypto/key_file.h"
#include "phalanx/ledger/ledger_application.h"
#include "phalanx/ledger/verify.h"
#include "phalanx/node/cluster.h"

namespace {

using namespace phalanx;

int fail(int code, const std::string& message) {
  std::cerr << "phalanx-ledger: " << message << "\n";
  return code;
}

// A public key in hex, a .pub file holding one (new-account's output, saved), or a
// secret key file (its public key).
Result<crypto::PublicKey> parse_account(const std::string& text) {
  if (auto key = crypto::PublicKey::from_hex(text)) return *key;
  if (text.ends_with(".pub")) {
    std::ifstream file(text);
    std::string hex;
    if (!(file >> hex)) return Error{text + ": cannot read the public key file"};
    auto key = crypto::PublicKey::from_hex(hex);
    if (!key) return Error{text + ": not a public key (64 hex characters)"};
    return *key;
  }
  auto secret = crypto::read_secret_key_file(text);
  if (!secret.ok())
    return Error{"'" + text + "' is neither a public key (64 hex), nor a .pub file, nor a " +
                 "key file: " + secret.error().message};
  return secret.value().public_key();
}

// A connection to the cluster for one command.
struct Session {
  pbft::ClusterConfig config;
  ledger::Genesis genesis;
  std::unique_ptr<pbft::Client> client;
  int timeout_ms = 10'000;

  Result<std::string> call(const ledger::Operation& operation) {
    auto result = client->call(ledger::encode_operation(operation));
    if (!result.ok())
      return Error{result.error().message + " (" + std::to_string(timeout_ms) + " ms)"};
    return std::string(result.value());
  }
};

Result<Session> connect(const std::string& config_path, const std::string& genesis_path,
                        const std::string& client_name, int timeout_ms) {
  auto config = pbft::load_cluster_config(config_path);
  if (!config.ok()) return config.error();
  auto genesis = ledger::load_genesis(
      genesis_path.empty() ? config.value().resolve_path("genesis.toml") : genesis_path);
  if (!genesis.ok()) return genesis.error();
  if (config.value().clients.empty()) return Error{"no client in " + config_path};
  auto secret = pbft::load_client_key(
      config.value(), client_name.empty() ? config.value().clients[0].name : client_name);
  if (!secret.ok()) return secret.error();
  auto transport =
      node::client_transport(config.value(), secret.value(), node::LinkSecurity::kCurve);
  if (!transport.ok()) return transport.error();
  pbft::ClientSettings settings = node::client_settings(config.value());
  settings.timeout = std::chrono::milliseconds(timeout_ms);
  Session session{std::move(config).value(), std::move(genesis).value(), nullptr, timeout_ms};
  session.client = std::make_unique<pbft::Client>(settings, std::move(secret).value(),
                                                  std::move(transport).value());
  return session;
}

int new_account(const std::string& out) {
  auto key = crypto::SecretKey::generate();
  if (Status written = crypto::write_secret_key_file(out, key); !written.ok())
    return fail(2, written.error().message);
  std::cout << key.public_key().hex() << "\n";
  return 0;
}

int make_genesis(const std::string& chain_id, std::uint64_t time,
                 const std::vector<std::string>& accounts, const std::string& out) {
  ledger::Genesis genesis{chain_id, time, {}};
  for (const auto& entry : accounts) {
    auto equals = entry.rfind('=');
    if (equals == std::string::npos) return fail(2, "--account " + entry + ": ACCOUNT=BALANCE");
    auto key = parse_account(entry.substr(0, equals));
    if (!key.ok()) return fail(2, key.error().message);
    genesis.accounts[key.value()] = ledger::Account{std::stoull(entry.substr(equals + 1)), 0};
  }
  std::string text = ledger::format_genesis(genesis);
  if (auto parsed = ledger::parse_genesis(text, out); !parsed.ok())
    return fail(2, parsed.error().message);
  std::ofstream file(out);
  if (!(file << text)) return fail(2, "cannot write " + out);
  std::cout << "wrote " << out << " (chain '" << chain_id << "', " << genesis.accounts.size()
            << " accounts)\n";
  return 0;
}

int transfer(Session& session, const std::string& from_path, const std::string& to_text,
             ledger::Amount amount, std::optional<ledger::Nonce> nonce) {
  auto from = crypto::read_secret_key_file(from_path);
  if (!from.ok()) return fail(2, from.error().message);
  auto to = parse_account(to_text);
  if (!to.ok()) return fail(2, to.error().message);
  if (!nonce) {
    auto account = session.call(ledger::AccountQuery{from.value().public_key()});
    if (!account.ok()) return fail(3, account.error().message);
    std::uint64_t balance = 0, last = 0;
    if (std::sscanf(account.value().c_str(), "balance %lu nonce %lu", &balance, &last) != 2)
      return fail(3, "unexpected reply: " + account.value());
    nonce = last + 1;
  }
  auto signed_transfer =
      ledger::sign_transfer(from.value(), to.value(), amount, *nonce, session.genesis.chain_id);
  auto result = session.call(signed_transfer);
  if (!result.ok()) return fail(3, result.error().message);
  std::cout << result.value() << "\n";
  return result.value().starts_with("accepted") ? 0 : 1;
}

int verify(const std::string& genesis_path, const std::vector<std::string>& dbs) {
  auto genesis = ledger::load_genesis(genesis_path);
  if (!genesis.ok()) return fail(2, genesis.error().message);
  std::vector<std::vector<std::string>> hashes;
  int code = 0;
  for (const auto& path : dbs) {
    auto store = ledger::BlockStore::open(path, ledger::BlockStore::Mode::kReadOnly);
    if (!store.ok()) return fail(2, store.error().message);
    auto summary = ledger::verify_store(*store.value(), genesis.value());
    if (!summary.ok()) {
      std::cout << "FAIL " << summary.error().message << "\n";
      code = 1;
      continue;
    }
    const auto& s = summary.value();
    std::cout << "ok   " << path << ": height " << s.height << ", head "
              << s.head_hash.substr(0, 16) << ", state root " << s.state_root.short_hex() << ", "
              << s.transfers << " transfers, " << s.accounts << " accounts\n";
    hashes.push_back(store.value()->block_hashes().value());
  }
  if (code == 0 && dbs.size() > 1) {
    if (Status agreed = ledger::compare_heads(dbs, hashes); !agreed.ok()) {
      std::cout << "FAIL " << agreed.error().message << "\n";
      return 1;
    }
    std::cout << "ok   the " << dbs.size() << " chains agree (each a prefix of the longest)\n";
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Accounts, transfers and verification for a Phalanx ledger (examples/ledger)."};
  std::string config_path, genesis_path, client_name;
  int timeout_ms = 10'000;
  app.add_option("--config", config_path, "cluster file (transfer, balance, history)");
  app.add_option("--genesis", genesis_path,
                 "the chain's genesis file (default: genesis.toml beside the cluster file)");
  app.add_option("--client", client_name, "client name in the cluster file (default: the first)");
  app.add_option("--timeout-ms", timeout_ms, "deadline per request");
  app.require_subcommand(1);

  std::string out, chain_id, from, to, account;
  std::vector<std::string> accounts, dbs;
  std::uint64_t time = 0, amount = 0, nonce = 0;
  std::uint32_t limit = 20;
  auto* new_account_command = app.add_subcommand("new-account", "make an account key");
  new_account_command->add_option("--out", out, "secret key file to write")->required();
  auto* genesis_command = app.add_subcommand("genesis", "write a genesis file");
  genesis_command->add_option("--chain-id", chain_id, "the chain's id")->required();
  genesis_command->add_option("--account", accounts, "ACCOUNT=BALANCE (repeat)");
  genesis_command->add_option("--time", time, "block 0's time, unix ms");
  genesis_command->add_option("--out", out, "genesis file to write")->required();
  auto* transfer_command = app.add_subcommand("transfer", "sign and submit a transfer");
  transfer_command->add_option("--from", from, "the sending account's key file")->required();
  transfer_command->add_option("--to", to, "the receiving account")->required();
  transfer_command->add_option("--amount", amount, "how much")->required();
  auto* nonce_option =
      transfer_command->add_option("--nonce", nonce, "the transfer's nonce (default: the next)");
  auto* balance_command = app.add_subcommand("balance", "an account's balance and last nonce");
  balance_command->add_option("account", account)->required();
  auto* history_command = app.add_subcommand("history", "an account's latest transfers");
  history_command->add_option("account", account)->required();
  history_command->add_option("--limit", limit, "at most this many (1-100)");
  auto* verify_command = app.add_subcommand("verify", "check block stores offline");
  verify_command->add_option("--db", dbs, "a replica's ledger.db (repeat to compare)")->required();
  verify_command->add_option("--genesis", genesis_path, "the chain's genesis file")->required();
  CLI11_PARSE(app, argc, argv);

  if (new_account_command->parsed()) return new_account(out);
  if (genesis_command->parsed()) return make_genesis(chain_id, time, accounts, out);
  if (verify_command->parsed()) {
    return verify(genesis_path, dbs);
  }
  if (config_path.empty()) return fail(2, "--config is required for this command");
  auto session = connect(config_path, genesis_path, client_name, timeout_ms);
  if (!session.ok()) return fail(2, session.error().message);
  if (transfer_command->parsed())
    return transfer(session.value(), from, to, amount,
                    nonce_option->count() ? std::optional<ledger::Nonce>(nonce) : std::nullopt);
  auto key = parse_account(account);
  if (!key.ok()) return fail(2, key.error().message);
  ledger::Operation query = ledger::AccountQuery{key.value()};
  if (history_command->parsed()) query = ledger::HistoryQuery{key.value(), limit};
  auto result = session.value().call(query);
  if (!result.ok()) return fail(3, result.error().message);
  std::cout << result.value() << (result.value().ends_with('\n') ? "" : "\n");
  return result.value().starts_with("error") ? 2 : 0;
}
