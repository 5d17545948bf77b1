// phalanx-keygen: makes a local cluster — one key per replica and client, and the
// cluster file that lists them — on 127.0.0.1 with distinct ports.
//
//   phalanx-keygen --out DIR [--replicas N] [--clients M] [--base-port P]
//                  [--metrics-base-port P] [--cluster-id ID] [--force]
//
// Writes DIR/cluster.toml and DIR/keys/{replica-<i>,client-<j>}.key (mode 0600). Every
// check runs before anything is written, so a refused run leaves DIR as it was.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "phalanx/crypto/key_file.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/pbft/config.h"

namespace {

namespace fs = std::filesystem;
using phalanx::Error;
using phalanx::Status;
using phalanx::pbft::ClusterConfig;

struct Arguments {
  std::string out;
  std::uint32_t replicas = 4;
  std::uint32_t clients = 1;
  std::uint32_t base_port = 7100;
  std::uint32_t metrics_base_port = 0;  // 0: no metrics_port entries
  std::string cluster_id;
  bool force = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "phalanx-keygen: %s\n", message.c_str());
  return 1;
}

// Keygen is a tool, not the core: a random cluster id is fine here.
std::string random_cluster_id() {
  std::random_device device;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(device()));
  return std::string("phalanx-") + hex;
}

// The first problem with the arguments themselves, or empty.
std::string check_arguments(const Arguments& args) {
  std::uint32_t n = args.replicas;
  if (n < 4) {
    return "--replicas " + std::to_string(n) +
           ": PBFT needs n = 3f+1 replicas with f >= 1, so at least 4";
  }
  if ((n - 1) % 3 != 0) {
    std::uint32_t below = 3 * ((n - 1) / 3) + 1;
    return "--replicas " + std::to_string(n) +
           ": PBFT needs n = 3f+1 replicas with f >= 1 (nearest: " + std::to_string(below) +
           " or " + std::to_string(below + 3) + ")";
  }
  if (n > phalanx::pbft::kClusterReplicasMax) {
    return "--replicas " + std::to_string(n) + ": more than the limit of " +
           std::to_string(phalanx::pbft::kClusterReplicasMax);
  }
  if (args.clients > phalanx::pbft::kClusterClientsMax) {
    return "--clients " + std::to_string(args.clients) + ": more than the limit of " +
           std::to_string(phalanx::pbft::kClusterClientsMax);
  }
  if (args.base_port < 1 || args.base_port > 65535 || args.base_port + n - 1 > 65535) {
    return "--base-port " + std::to_string(args.base_port) + ": ports " +
           std::to_string(args.base_port) + ".." + std::to_string(args.base_port + n - 1) +
           " must lie within 1..65535";
  }
  if (args.metrics_base_port != 0) {
    std::uint32_t first = args.metrics_base_port;
    std::uint32_t last = first + n - 1;
    if (first > 65535 || last > 65535) {
      return "--metrics-base-port " + std::to_string(first) + ": ports " + std::to_string(first) +
             ".." + std::to_string(last) + " must lie within 1..65535";
    }
    if (first <= args.base_port + n - 1 && args.base_port <= last) {
      return "--metrics-base-port " + std::to_string(first) +
             ": overlaps the replica ports from --base-port " + std::to_string(args.base_port);
    }
  }
  return "";
}

// Creates DIR and DIR/keys (0700); refuses a DIR that is a file.
Status make_directories(const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error) && !fs::is_directory(out, error)) {
    return Error{out.string() + ": exists and is not a directory"};
  }
  fs::path keys = out / "keys";
  fs::create_directories(keys, error);
  if (error) return Error{keys.string() + ": cannot create directory: " + error.message()};
  ::chmod(keys.c_str(), 0700);
  return phalanx::ok_status();
}

int run(const Arguments& args) {
  if (std::string problem = check_arguments(args); !problem.empty()) return fail(problem);

  fs::path out(args.out);
  ClusterConfig config;
  config.cluster_id = args.cluster_id.empty() ? random_cluster_id() : args.cluster_id;
  config.base_dir = out.string();
  std::vector<phalanx::crypto::SecretKey> replica_keys;
  std::vector<phalanx::crypto::SecretKey> client_keys;
  for (std::uint32_t id = 0; id < args.replicas; ++id) {
    replica_keys.push_back(phalanx::crypto::SecretKey::generate());
    phalanx::pbft::ReplicaEntry replica;
    replica.id = id;
    replica.endpoint = "tcp://127.0.0.1:" + std::to_string(args.base_port + id);
    if (args.metrics_base_port != 0) {
      replica.metrics_port = static_cast<std::uint16_t>(args.metrics_base_port + id);
    }
    replica.public_key = replica_keys.back().public_key();
    replica.key_file = "keys/replica-" + std::to_string(id) + ".key";
    config.replicas.push_back(std::move(replica));
  }
  for (std::uint32_t index = 0; index < args.clients; ++index) {
    client_keys.push_back(phalanx::crypto::SecretKey::generate());
    phalanx::pbft::ClientEntry client;
    client.name = "client-" + std::to_string(index);
    client.public_key = client_keys.back().public_key();
    client.key_file = "keys/" + client.name + ".key";
    config.clients.push_back(std::move(client));
  }
  if (auto problems = phalanx::pbft::validate_cluster_config(config); !problems.empty()) {
    // e.g. a --cluster-id that is too long; the problem names the field.
    std::string problem = problems.front();
    std::string_view prefix = "cluster config: ";
    if (problem.starts_with(prefix)) problem.erase(0, prefix.size());
    return fail(problem);
  }

  fs::path cluster_file = out / "cluster.toml";
  std::vector<std::string> targets = {cluster_file.string()};
  for (const auto& replica : config.replicas)
    targets.push_back(config.resolve_path(replica.key_file));
  for (const auto& client : config.clients) targets.push_back(config.resolve_path(client.key_file));
  if (!args.force) {
    for (const std::string& target : targets) {
      std::error_code error;
      if (fs::exists(fs::symlink_status(target, error))) {
        return fail(target + ": already exists (use --force to overwrite)");
      }
    }
  }
  if (Status status = make_directories(out); !status.ok()) return fail(status.error().message);

  auto overwrite = args.force ? phalanx::crypto::Overwrite::kYes : phalanx::crypto::Overwrite::kNo;
  for (std::size_t i = 0; i < replica_keys.size(); ++i) {
    std::string path = config.resolve_path(config.replicas[i].key_file);
    Status status = phalanx::crypto::write_secret_key_file(path, replica_keys[i], overwrite);
    if (!status.ok()) return fail(status.error().message);
  }
  for (std::size_t i = 0; i < client_keys.size(); ++i) {
    std::string path = config.resolve_path(config.clients[i].key_file);
    Status status = phalanx::crypto::write_secret_key_file(path, client_keys[i], overwrite);
    if (!status.ok()) return fail(status.error().message);
  }
  Status written = phalanx::pbft::write_cluster_config(config, cluster_file.string(), overwrite);
  if (!written.ok()) return fail(written.error().message);

  auto quorums = config.quorums();
  std::printf("wrote %s: cluster %s, n = %u replicas (tolerates f = %u), %zu client(s)\n",
              cluster_file.c_str(), config.cluster_id.c_str(), quorums.n, quorums.f(),
              config.clients.size());
  for (const auto& replica : config.replicas) {
    std::printf("  replica %u  %-22s key %s...  %s (0600)\n", replica.id, replica.endpoint.c_str(),
                replica.public_key.short_hex().c_str(),
                config.resolve_path(replica.key_file).c_str());
  }
  for (const auto& client : config.clients) {
    std::printf("  %-10s %-22s key %s...  %s (0600)\n", client.name.c_str(), "",
                client.public_key.short_hex().c_str(),
                config.resolve_path(client.key_file).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"phalanx-keygen: make keys and a cluster file for a local Phalanx cluster"};
  Arguments args;
  app.add_option("--out", args.out, "Directory to write cluster.toml and keys/ into")->required();
  app.add_option("--replicas", args.replicas, "Number of replicas n = 3f+1, f >= 1")
      ->capture_default_str();
  app.add_option("--clients", args.clients, "Number of client keys")->capture_default_str();
  app.add_option("--base-port", args.base_port, "TCP port of replica 0; replica i uses P+i")
      ->capture_default_str();
  app.add_option("--metrics-base-port", args.metrics_base_port,
                 "Metrics HTTP port of replica 0 (replica i uses P+i); default: none");
  app.add_option("--cluster-id", args.cluster_id,
                 "Cluster id (signatures are valid only within it); default: random "
                 "phalanx-<8 hex>");
  app.add_flag("--force", args.force, "Overwrite existing cluster.toml and key files");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;  // --help is not an error
  }
  return run(args);
}
