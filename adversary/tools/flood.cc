// phalanx-flood: a hostile client. Floods the replicas of a cluster, over real client
// connections (CurveZMQ, as the cluster uses), with what a replica must refuse cheaply:
//
//   junk            random bytes, 0-512 of them
//   bad-signature   a well-formed signed request whose signature has one byte flipped
//   duplicate       one valid request, sent again and again
//   oversized       a validly signed request whose operation is over operation_bytes_max
//   many-clients    valid `get` requests, each from a new client key (--clients of them,
//                   round robin), to overflow the replicas' client tables
//   mix             junk, bad-signature, duplicate and oversized in turn
//
//   phalanx-flood --config CLUSTER_TOML [--kind KIND] [--rate N] [--seconds S]
//                 [--connections C] [--replica ID] [--clients N] [--plaintext]
//
// Sends --rate messages per second in all (spread over --connections client connections,
// each its own ZeroMQ socket, so that muting one does not silence the rest) to every
// replica or to --replica ID, for --seconds. Prints one line: what it sent, by kind, and
// the rate it reached. Exit codes: 0 done, 2 bad arguments, 3 no connection.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/net/rng.h"
#include "phalanx/node/cluster.h"
#include "phalanx/pbft/config.h"
#include "phalanx/pbft/wire.h"

namespace {

using namespace phalanx;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kKinds = {"junk",      "bad-signature", "duplicate",
                                         "oversized", "many-clients",  "mix"};
constexpr auto kSlice = std::chrono::milliseconds(10);  // pacing granularity

struct Settings {
  std::string config_path;
  std::string kind = "mix";
  double rate = 5000;
  double seconds = 10;
  std::size_t connections = 4;
  std::optional<pbft::ReplicaId> replica;
  std::size_t clients = 1000;
  bool plaintext = false;
};

net::SharedBytes shared(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

wire::Envelope sealed_request(const crypto::Signer& signer, const std::string& cluster_id,
                              pbft::RequestId id, Bytes operation) {
  wire::Request request;
  request.set_client_key(signer.public_key().bytes());
  request.set_request_id(id);
  request.set_operation(std::move(operation));
  return pbft::seal_request(signer, cluster_id, request);
}

net::SharedBytes signed_request(const crypto::Signer& signer, const std::string& cluster_id,
                                pbft::RequestId id, Bytes operation) {
  return shared(pbft::encode(sealed_request(signer, cluster_id, id, std::move(operation))));
}

// The messages it sends, made once (signing is the flooder's cost, not the replicas').
class Ammunition {
 public:
  Ammunition(const pbft::ClusterConfig& config, std::size_t clients) : rng_(7) {
    crypto::Signer signer(crypto::SecretKey::generate());
    duplicate_ = signed_request(signer, config.cluster_id, 1, examples::kv::put("flood", "dup"));
    auto forged =
        sealed_request(signer, config.cluster_id, 2, examples::kv::put("flood", "forged"));
    std::string signature = forged.signature();
    signature[0] = static_cast<char>(signature[0] ^ 0x01);
    forged.set_signature(signature);
    bad_signature_ = shared(pbft::encode(forged));
    oversized_ = signed_request(signer, config.cluster_id, 3,
                                Bytes(pbft::WireLimits{}.operation_bytes_max + 1, 'x'));
    for (std::size_t i = 0; i < clients; ++i)
      many_.push_back(signed_request(crypto::Signer(crypto::SecretKey::generate()),
                                     config.cluster_id, 1, examples::kv::get("flood")));
  }

  // The next message of `kind` ("mix" already resolved), and the kind it counts as.
  net::SharedBytes next(const std::string& kind) {
    if (kind == "junk") {
      std::string bytes(rng_.uniform(0, 512), '\0');
      for (auto& byte : bytes) byte = static_cast<char>(rng_.next());
      return shared(std::move(bytes));
    }
    if (kind == "bad-signature") return bad_signature_;
    if (kind == "duplicate") return duplicate_;
    if (kind == "oversized") return oversized_;
    return many_[next_client_++ % many_.size()];
  }

 private:
  net::Rng rng_;
  net::SharedBytes duplicate_, bad_signature_, oversized_;
  std::vector<net::SharedBytes> many_;
  std::size_t next_client_ = 0;
};

int flood(const Settings& settings) {
  auto config = pbft::load_cluster_config(settings.config_path);
  if (!config.ok()) {
    std::cerr << "phalanx-flood: " << config.error().message << "\n";
    return 2;
  }
  auto security = settings.plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  std::vector<std::unique_ptr<net::ZmqTransport>> links;
  for (std::size_t i = 0; i < settings.connections; ++i) {
    auto link = node::client_transport(config.value(), crypto::SecretKey::generate(), security);
    if (!link.ok()) {
      std::cerr << "phalanx-flood: " << link.error().message << "\n";
      return 3;
    }
    links.push_back(std::move(link).value());
  }
  Ammunition ammunition(config.value(), settings.kind == "many-clients" ? settings.clients : 1);
  std::vector<pbft::ReplicaId> targets;
  for (const auto& replica : config.value().replicas)
    if (!settings.replica || replica.id == *settings.replica) targets.push_back(replica.id);

  const std::vector<std::string> mix = {"junk", "bad-signature", "duplicate", "oversized"};
  std::map<std::string, std::uint64_t> sent;
  std::uint64_t total = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(settings.seconds));
  for (auto slice_end = start + kSlice; Clock::now() < end; slice_end += kSlice) {
    double elapsed = std::chrono::duration<double>(slice_end - start).count();
    auto due = static_cast<std::uint64_t>(elapsed * settings.rate);
    for (; total < due; ++total) {
      const std::string& kind = settings.kind == "mix" ? mix[total % mix.size()] : settings.kind;
      auto& link = links[total % links.size()];
      link->send_to_node(targets[(total / links.size()) % targets.size()], ammunition.next(kind));
      ++sent[kind];
    }
    std::this_thread::sleep_until(slice_end);
  }
  // Let the I/O threads flush before the transports close (linger 0 drops the rest).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "sent";
  for (const auto& [kind, count] : sent) std::cout << " " << kind << "=" << count;
  std::cout << " total=" << total << " connections=" << links.size() << " seconds=" << seconds
            << " rate=" << static_cast<std::uint64_t>(static_cast<double>(total) / seconds)
            << "/s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"phalanx-flood: floods a cluster's replicas with what they must refuse cheaply"};
  app.add_option("--config", settings.config_path, "the cluster file")->required();
  app.add_option("--kind", settings.kind, "what to send")->check(CLI::IsMember(kKinds));
  app.add_option("--rate", settings.rate, "messages per second, in all")
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--seconds", settings.seconds, "how long")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--connections", settings.connections, "client connections to spread over")
      ->check(CLI::Range(1, 1000));
  app.add_option("--replica", settings.replica, "send to this replica only");
  app.add_option("--clients", settings.clients, "client keys for many-clients")
      ->check(CLI::Range(1, 10'000'000));
  app.add_flag("--plaintext", settings.plaintext, "no CurveZMQ (a cluster run with --plaintext)");
  CLI11_PARSE(app, argc, argv);
  return flood(settings);
}
