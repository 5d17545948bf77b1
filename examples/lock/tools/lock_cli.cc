// phalanx-lock: the command-line client of the Phalanx lock service (README.md here).
//
//   phalanx-lock --config cluster.toml [--client NAME] [--timeout-ms T] acquire NAME --lease-ms N
//   phalanx-lock --config cluster.toml release NAME --token T
//   phalanx-lock --config cluster.toml renew NAME --token T --lease-ms N
//   phalanx-lock --config cluster.toml status NAME
//   phalanx-lock --config cluster.toml whoami
//
// Prints one line, the reply f+1 replicas agreed on (reply.h, describe()): e.g.
// "granted token 7 until 2027-01-15T08:00:01.234Z" or "held by 1a2b3c4d with token 7 until
// ...". The owner of a lock is the key this client signs with; whoami prints it (the
// client signs with the first key it derives from its key file, see node/client.h).
//
// Exit codes: 0 done (granted, renewed, released, or status answered), 1 refused (held by
// someone, not the holder, stale token, ...), 2 bad arguments or configuration, 3 no f+1
// matching replies before the deadline (or transport failure).
#include <CLI/CLI.hpp>
#include <iostream>

#include "phalanx/lock/operation.h"
#include "phalanx/lock/reply.h"
#include "phalanx/node/cluster.h"

namespace {

using namespace phalanx;

int fail(int code, const std::string& message) {
  std::cerr << "phalanx-lock: " << message << "\n";
  return code;
}

struct Arguments {
  std::string config_path;
  std::string client_name;
  int timeout_ms = 10'000;
  bool plaintext = false;
  std::string name;
  std::uint64_t lease_ms = 0;
  lock::Token token = 0;
};

// The key of client `name` (empty: the first) in the cluster file.
Result<crypto::SecretKey> client_key(const pbft::ClusterConfig& config, const Arguments& args) {
  if (config.clients.empty()) return Error{"no client in " + args.config_path};
  return pbft::load_client_key(
      config, args.client_name.empty() ? config.clients[0].name : args.client_name);
}

// Whether the reply means the client got what it asked for (exit code 0).
bool succeeded(lock::Outcome outcome, bool is_status) {
  switch (outcome) {
    case lock::Outcome::kGranted:
    case lock::Outcome::kRenewed:
    case lock::Outcome::kReleased:
    case lock::Outcome::kFree:
      return true;
    case lock::Outcome::kHeld:
      return is_status;
    default:
      return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Client of the Phalanx lock service (examples/lock)."};
  Arguments args;
  app.add_option("--config", args.config_path, "cluster file")->required();
  app.add_option("--client", args.client_name,
                 "client name in the cluster file (default: the first)");
  app.add_option("--timeout-ms", args.timeout_ms, "deadline of the request");
  app.add_flag("--plaintext", args.plaintext, "no CurveZMQ (when the replicas run --plaintext)");
  app.require_subcommand(1);
  auto* acquire =
      app.add_subcommand("acquire", "take lock NAME for a lease of N ms of agreed time");
  acquire->add_option("name", args.name)->required();
  acquire->add_option("--lease-ms", args.lease_ms, "lease length")->required();
  auto* release = app.add_subcommand("release", "give lock NAME back (its holder, with its token)");
  release->add_option("name", args.name)->required();
  release->add_option("--token", args.token, "the token the grant returned")->required();
  auto* renew = app.add_subcommand("renew", "extend your lease of NAME to N ms from now");
  renew->add_option("name", args.name)->required();
  renew->add_option("--token", args.token, "the token the grant returned")->required();
  renew->add_option("--lease-ms", args.lease_ms, "new lease length, from now")->required();
  auto* status = app.add_subcommand("status", "who holds NAME, with which token, until when");
  status->add_option("name", args.name)->required();
  auto* whoami = app.add_subcommand("whoami", "print the key this client owns locks with");
  CLI11_PARSE(app, argc, argv);

  auto config = pbft::load_cluster_config(args.config_path);
  if (!config.ok()) return fail(2, config.error().message);
  auto secret = client_key(config.value(), args);
  if (!secret.ok()) return fail(2, secret.error().message);
  const crypto::PublicKey identity = secret.value().derive_child(0).public_key();
  if (whoami->parsed()) {
    std::cout << identity.hex() << "\n";
    return 0;
  }

  lock::Operation operation =
      acquire->parsed()   ? lock::Operation(lock::Acquire{args.name, args.lease_ms})
      : release->parsed() ? lock::Operation(lock::Release{args.name, args.token})
      : renew->parsed()   ? lock::Operation(lock::Renew{args.name, args.token, args.lease_ms})
                          : lock::Operation(lock::Query{args.name});
  auto encoded = lock::encode(operation);
  if (!encoded.ok()) return fail(2, encoded.error().message);

  auto security = args.plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  auto transport = node::client_transport(config.value(), secret.value(), security);
  if (!transport.ok()) return fail(3, transport.error().message);
  pbft::ClientSettings settings = node::client_settings(config.value());
  settings.timeout = std::chrono::milliseconds(args.timeout_ms);
  settings.identities = 1;  // one identity: the lock owner is the same in every run
  pbft::Client client(settings, std::move(secret).value(), std::move(transport).value());

  auto result = client.call(std::move(encoded).value());
  if (!result.ok())
    return fail(3, result.error().message + " (" + std::to_string(args.timeout_ms) + " ms)");
  auto reply = lock::decode_reply(result.value());
  if (!reply.ok())
    return fail(3,
                "replicas agreed on a reply this client cannot decode: " + reply.error().message);
  std::cout << lock::describe(reply.value(), &identity) << "\n";
  return succeeded(reply.value().outcome, status->parsed()) ? 0 : 1;
}
