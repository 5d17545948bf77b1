// phalanx-demo: what the edge of the protocol already guarantees, shown on a real
// cluster file. Replica 0 seals a PREPARE; the message is opened as a peer would open it
// (accepted), then tampered with in the ways a Byzantine peer or the network could, and
// each copy must be rejected with its reason. Exits non-zero when any case comes out
// differently than expected, so it doubles as a test (tests/tools.cmake).
//
//   phalanx-demo --cluster DIR        (DIR holds cluster.toml, as phalanx-keygen writes it)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/pbft/config.h"
#include "phalanx/pbft/wire.h"

namespace {

using phalanx::Bytes;
using phalanx::pbft::Audience;
using phalanx::pbft::Opened;
using phalanx::pbft::Rejection;

struct Case {
  std::string description;
  std::optional<Rejection> expected;  // nullopt: accepted
  Opened outcome;
};

std::string outcome_text(const std::optional<Rejection>& rejection) {
  if (!rejection) return "accepted";
  return "rejected: " + std::string(phalanx::pbft::to_string(*rejection));
}

std::string outcome_text(const Opened& opened) {
  return opened.ok() ? "accepted" : outcome_text(opened.rejection);
}

bool as_expected(const Case& c) {
  if (!c.expected) return c.outcome.ok();
  return !c.outcome.ok() && c.outcome.rejection == *c.expected;
}

Bytes serialized(const phalanx::wire::Envelope& envelope) {
  Bytes bytes;
  envelope.SerializeToString(&bytes);
  return bytes;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "phalanx-demo: %s\n", message.c_str());
  return 1;
}

int run(const std::string& cluster_dir) {
  std::string cluster_file = (std::filesystem::path(cluster_dir) / "cluster.toml").string();
  auto loaded = phalanx::pbft::load_cluster_config(cluster_file);
  if (!loaded.ok()) return fail(loaded.error().message);
  const phalanx::pbft::ClusterConfig& config = loaded.value();
  auto key = phalanx::pbft::load_replica_key(config, 0);
  if (!key.ok()) return fail(key.error().message);
  phalanx::crypto::Signer replica0(std::move(key).value());
  const phalanx::pbft::Verifier verifier = config.verifier();

  // A PREPARE of replica 0 (a backup in view 1, whose primary is replica 1).
  phalanx::wire::Prepare prepare;
  prepare.set_view(1);
  prepare.set_seq(1);
  prepare.set_digest(phalanx::crypto::blake2b("phalanx-demo batch").bytes());
  phalanx::wire::Envelope honest = phalanx::pbft::seal(
      replica0, config.cluster_id, phalanx::wire::PREPARE, 0, phalanx::pbft::encode(prepare));

  std::vector<Case> cases;
  auto open_at_replica = [&](std::string description, const phalanx::wire::Envelope& envelope,
                             std::optional<Rejection> expected) {
    cases.push_back(
        {std::move(description), expected,
         phalanx::pbft::open_envelope(serialized(envelope), verifier, Audience::kReplica)});
  };

  open_at_replica("PREPARE sealed by replica 0", honest, std::nullopt);

  phalanx::wire::Envelope flipped = honest;
  flipped.mutable_payload()->back() ^= 0x01;
  open_at_replica("same, one payload bit flipped in transit", flipped, Rejection::kBadSignature);

  phalanx::wire::Envelope impostor = honest;
  impostor.set_sender(1);
  open_at_replica("same, sender rewritten to replica 1", impostor, Rejection::kBadSignature);

  phalanx::wire::Envelope other_cluster =
      phalanx::pbft::seal(replica0, config.cluster_id + "-other", phalanx::wire::PREPARE, 0,
                          phalanx::pbft::encode(prepare));
  open_at_replica("PREPARE sealed for cluster " + config.cluster_id + "-other", other_cluster,
                  Rejection::kBadSignature);

  // A client request: the listed client-0 if its key is here, else a fresh client (any
  // key may send requests). The forgery claims that client's key but is signed by
  // replica 0, which does not hold it.
  std::optional<phalanx::crypto::Signer> client;
  std::string client_name = "a fresh client";
  if (!config.clients.empty()) {
    auto client_key = phalanx::pbft::load_client_key(config, config.clients.front().name);
    if (!client_key.ok()) return fail(client_key.error().message);
    client.emplace(std::move(client_key).value());
    client_name = config.clients.front().name;
  } else {
    client.emplace(phalanx::crypto::SecretKey::generate());
  }
  phalanx::wire::Request request;
  request.set_client_key(client->public_key().bytes());
  request.set_request_id(1);
  request.set_operation("put greeting hello");
  phalanx::wire::Envelope signed_request =
      phalanx::pbft::seal_request(*client, config.cluster_id, request);
  open_at_replica("REQUEST signed by " + client_name, signed_request, std::nullopt);

  phalanx::wire::Envelope forged = signed_request;
  auto request_domain = phalanx::pbft::signing_domain(config.cluster_id, phalanx::wire::REQUEST);
  forged.set_signature(replica0.sign(request_domain, forged.payload()).bytes());
  open_at_replica("REQUEST of " + client_name + ", signature forged", forged,
                  Rejection::kBadSignature);

  auto quorums = config.quorums();
  std::printf("Phalanx demo: cluster %s, n = %u replicas (f = %u), opening as a replica\n\n",
              config.cluster_id.c_str(), quorums.n, quorums.f());
  int width = 8;
  for (const Case& c : cases) width = std::max(width, static_cast<int>(c.description.size()));
  std::printf("  %-*s  %-26s %-26s %s\n", width, "message", "expected", "got", "verdict");
  std::size_t unexpected = 0;
  for (const Case& c : cases) {
    bool good = as_expected(c);
    if (!good) ++unexpected;
    std::printf("  %-*s  %-26s %-26s %s\n", width, c.description.c_str(),
                outcome_text(c.expected).c_str(), outcome_text(c.outcome).c_str(),
                good ? "ok" : "UNEXPECTED");
  }
  std::printf("\n%zu of %zu cases as expected.\n", cases.size() - unexpected, cases.size());
  if (unexpected != 0) return fail(std::to_string(unexpected) + " case(s) came out differently");
  std::printf(
      "Every message between replicas and clients passes these checks before the protocol "
      "core sees it.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"phalanx-demo: seal and open signed messages on a cluster made by phalanx-keygen"};
  std::string cluster_dir;
  app.add_option("--cluster", cluster_dir, "Directory holding cluster.toml and keys/")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;  // --help is not an error
  }
  return run(cluster_dir);
}
