// MAC-authenticated clients (pbft/authenticators.h) in whole simulated clusters, many
// seeds each, checked for S1-S5 and completion:
// - requests and replies carry MACs, not signatures, and complete over a faulty network;
// - a client that lies to one backup (its entry for that backup is wrong) still completes:
//   the backup rejects the request itself, keeps the batches that carry it without
//   preparing them, and executes them once the other backups have prepared them;
// - a primary that slips a request into its batches that the client never sent gets none
//   executed (validity): the backups cannot vouch for it, so nothing prepares, and the next
//   primary completes the clients' own requests; also when backups restart meanwhile;
// - a client lying to more than f replicas stalls batches for a view change or two, breaks
//   nothing, and starves only itself.
#include <gtest/gtest.h>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/examples/kv_application.h"
#include "sim/seed_runner.h"
#include "support/lying_client.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

constexpr auto kBadMac = static_cast<std::size_t>(pbft::Rejection::kBadMac);
constexpr const char* kNotPrepared =
    "pre-prepare with a request this replica cannot authenticate: not prepared";

SeedRun mac_cluster(std::uint64_t seed) {
  net::Rng rng(seed);
  SeedRun run = random_cluster(
      seed, 4, RandomShape{.requests_min = 8, .requests_max = 16, .drop_percent_max = 20}, rng);
  run.options.mac_clients = true;
  return run;
}

std::uint64_t dropped(const RunResult& result, const char* reason) {
  auto found = result.harness.dropped_by_core.find(reason);
  return found == result.harness.dropped_by_core.end() ? 0 : found->second;
}

// Counts what the clients and replicas send each other, by how it is authenticated.
struct ClientTraffic {
  std::uint64_t requests_with_macs = 0, signed_requests = 0;
  std::uint64_t replies_with_macs = 0, signed_replies = 0;
};

SeedRun counted(SeedRun run, std::shared_ptr<ClientTraffic> traffic) {
  run.setup = [traffic](SimCluster& cluster) {
    cluster.set_send_filter([traffic](SimCluster&, const SentMessage& sent) {
      bool mac = !sent.envelope->authenticator().empty();
      bool signature = !sent.envelope->signature().empty();
      if (sent.kind() == wire::REQUEST) {
        traffic->requests_with_macs += mac;
        traffic->signed_requests += signature;
      } else if (sent.kind() == wire::REPLY) {
        traffic->replies_with_macs += mac;
        traffic->signed_replies += signature;
      }
      return SendVerdict::kSend;
    });
  };
  run.verify = [traffic](const SimCluster&, const RunResult&) -> std::string {
    if (traffic->signed_requests != 0 || traffic->signed_replies != 0)
      return "a MAC client's request or reply was signed";
    if (traffic->requests_with_macs == 0 || traffic->replies_with_macs == 0)
      return "no request or reply carried a MAC";
    return "";
  };
  return run;
}

TEST(MacClients, RequestsAndRepliesCarryMacsAndCompleteOverAFaultyNetwork) {
  run_seeds(
      [](std::uint64_t seed) {
        return counted(mac_cluster(seed), std::make_shared<ClientTraffic>());
      },
      100);
}

// Every client spoils its authenticator's entry for `target` in every request it sends.
SeedRun lying_to(SeedRun run, pbft::ReplicaId target) {
  run.faults += " clients lie to replica " + std::to_string(target);
  // The run goes on after the last completion, so that the lied-to replica (which may lag:
  // it waits for the others' prepares) executes everything before it is compared.
  run.options.settle_time = 2 * pbft::kSecond;
  run.setup = [target](SimCluster& cluster) {
    cluster.set_send_rewriter(
        [target](SimCluster&, const SentMessage& sent) -> std::optional<pbft::SharedBytes> {
          // Nodes 0-3 are the replicas (relaying a request is not lying about it).
          if (sent.kind() != wire::REQUEST || sent.from < 4) return std::nullopt;
          return std::make_shared<const Bytes>(
              pbft::encode(testing::with_entries_spoiled(*sent.envelope, {target})));
        });
  };
  run.verify = [target](const SimCluster&, const RunResult& result) -> std::string {
    if (result.harness.rejected[kBadMac] == 0) return "the lied-to replica accepted a request";
    if (dropped(result, kNotPrepared) == 0) return "no batch went unprepared for a bad entry";
    pbft::Seq most = 0;
    for (const auto& status : result.replicas) most = std::max(most, status.last_executed);
    if (result.replicas[target].last_executed < most)
      return "the lied-to replica did not execute what the others did";
    return "";
  };
  return run;
}

TEST(MacClients, AClientLyingToOneBackupStillCompletes) {
  run_seeds([](std::uint64_t seed) { return lying_to(mac_cluster(seed), 3); }, 100);
}

TEST(MacClients, AClientLyingToThePrimaryIsServedByTheNextOne) {
  run_seeds([](std::uint64_t seed) { return lying_to(mac_cluster(seed), 0); }, 50);
}

// Replica 0, primary of view 0, adds to each of its batches a request "from" client 0 that
// the client never sent, with an authenticator of made-up bytes, and signs the batch again.
class SlipsInARequest final : public Behaviour {
 public:
  explicit SlipsInARequest(BehaviourContext context) : Behaviour(std::move(context)) {}
  std::string_view name() const override { return "slips-in-a-request"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (envelope.kind() != wire::PRE_PREPARE || envelope.sender() != context().id) return {{bytes}};
    wire::PrePrepare batch;
    if (!batch.ParseFromString(envelope.payload())) return {{bytes}};
    wire::Request request;
    request.set_client_key(crypto::SecretKey::derive_for_testing("client", 0).public_key().bytes());
    request.set_request_id(1'000'000'000 + batch.seq());
    request.set_operation(examples::kv::put("slipped-in", std::to_string(batch.seq())));
    wire::Envelope* slipped = batch.add_requests();
    slipped->set_kind(wire::REQUEST);
    slipped->set_client_key(request.client_key());
    slipped->set_payload(pbft::encode(request));
    slipped->set_authenticator(Bytes(pbft::authenticator_size(context().replicas), '\x5a'));
    batch.set_digest(pbft::batch_digest(batch).bytes());
    ++slipped_;
    return {{reseal(wire::PRE_PREPARE, pbft::encode(batch))}};
  }

  std::uint64_t slipped() const { return slipped_; }

 private:
  std::uint64_t slipped_ = 0;
};

TEST(MacClients, APrimaryCannotSlipInARequestTheClientNeverSent) {
  run_seeds(
      [](std::uint64_t seed) {
        SeedRun run = mac_cluster(seed);
        run.faults += " replica 0 slips requests into its batches";
        auto behaviour = std::make_shared<SlipsInARequest*>(nullptr);
        run.setup = [behaviour](SimCluster& cluster) {
          auto slips = std::make_unique<SlipsInARequest>(cluster.behaviour_context(0));
          *behaviour = slips.get();
          cluster.set_behaviour(0, std::move(slips));
        };
        run.verify = [behaviour](const SimCluster&, const RunResult& result) -> std::string {
          if ((*behaviour)->slipped() == 0) return "the primary slipped nothing in";
          if (dropped(result, kNotPrepared) == 0) return "no backup withheld its PREPARE";
          if (result.harness.view_changes_started == 0) return "the forging primary stayed";
          return "";
        };
        return run;
      },
      100);
}

// The same primary, and backups 1 and 2 restart from their logs while they hold its
// batches unprepared. Recovery must not resume a PREPARE they withheld: two of them would
// prepare the slipped-in request, and it would execute (S3 validity).
TEST(MacClients, BackupsThatRestartDoNotPrepareWhatTheyCouldNotVouchFor) {
  run_seeds(
      [](std::uint64_t seed) {
        SeedRun run = mac_cluster(seed);
        run.options.storage = SimClusterOptions::Storage::kLog;
        run.faults += " replica 0 slips requests into its batches; 1 and 2 restart";
        run.setup = [](SimCluster& cluster) {
          cluster.set_behaviour(0, std::make_unique<SlipsInARequest>(cluster.behaviour_context(0)));
        };
        for (pbft::Instant at : {150 * kMs, 400 * kMs}) {
          run.actions.emplace_back(at, [](SimCluster& cluster) {
            for (pbft::ReplicaId id : {1, 2}) {
              cluster.crash(id);
              cluster.restart(id);
            }
          });
        }
        run.verify = [](const SimCluster&, const RunResult& result) -> std::string {
          if (result.harness.restarts < 4) return "the backups did not restart";
          return "";
        };
        return run;
      },
      50);
}

// Past what MACs tolerate: client 0 lies to two backups (k = 2 > f = 1; no replica is
// faulty), clients 1 and 2 are honest. A batch with client 0's request cannot prepare, and
// holds up the batches after it, until a view change; a primary it lied to never proposes
// the request, and the replicas it lied to do not time primaries on it, so the cluster
// settles in such a view. Nothing unsafe happens, the honest clients' requests all
// complete, and the liar's never do (authenticators.h).
TEST(MacClients, AClientLyingToMoreThanFReplicasStarvesItselfOnly) {
  for (std::uint64_t seed : seeds(12)) {
    SeedRun run = mac_cluster(seed);
    run.options.clients = 3;
    run.options.time_limit = 20 * pbft::kSecond;  // the liar never completes: the run ends here
    SimCluster cluster(run.options);
    cluster.set_send_rewriter(
        [](SimCluster&, const SentMessage& sent) -> std::optional<pbft::SharedBytes> {
          // Node 4 is client 0 (nodes 0-3 are the replicas).
          if (sent.kind() != wire::REQUEST || sent.from != 4) return std::nullopt;
          return std::make_shared<const Bytes>(
              pbft::encode(testing::with_entries_spoiled(*sent.envelope, {2, 3})));
        });
    RunResult result = cluster.run();
    for (const Violation& violation : cluster.check())
      EXPECT_EQ(violation.property, Property::kCompletion)
          << "seed " << seed << ": " << to_string(violation);
    std::vector<std::uint32_t> completed(3, 0);
    for (const CompletionRecord& completion : cluster.completions()) ++completed[completion.client];
    EXPECT_EQ(completed[0], 0u) << "seed " << seed << ": the liar got a request through";
    for (std::uint32_t client : {1u, 2u})
      EXPECT_EQ(completed[client], run.options.requests_per_client)
          << "seed " << seed << ", client " << client << ": " << result.summary();
  }
}

}  // namespace
}  // namespace phalanx::adversary
