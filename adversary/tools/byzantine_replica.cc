// phalanx-byzantine-replica: a replica that lies, for tests and demonstrations against
// real processes. It is phalanx-replica (same options, same data directory, same exit
// codes) with an honest core whose outgoing messages go through a Byzantine behaviour
// (adversary/behaviour.h), of the key-value store or (--application ledger) of the ledger
// (examples/ledger, with phalanx-ledger-replica's --genesis):
//
//   phalanx-byzantine-replica --byzantine BEHAVIOUR [--byzantine-seed S]
//       [--byzantine-param K=V] [--application kv|ledger] [--wall-clock-skew-ms MS]
//       <phalanx-replica options>
//
// --wall-clock-skew-ms moves the wall clock its batch times come from (a primary that
// stamps batches in the future or the past); without --byzantine it lies with that alone.
//
// Built from adversary/ and never part of the honest phalanx-replica binary.
#include <CLI/CLI.hpp>

#include "ledger_hooks.h"
#include "phalanx/adversary/byzantine_transport.h"
#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"
#include "replica_main.h"

namespace {

// The machine's clocks, the wall clock moved by a fixed skew.
class SkewedClock final : public phalanx::net::Clock {
 public:
  explicit SkewedClock(std::int64_t skew_ms) : skew_ms_(skew_ms) {}
  std::uint64_t now_ns() const override { return steady_.now_ns(); }
  std::uint64_t wall_ms() const override {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(steady_.wall_ms()) + skew_ms_);
  }

 private:
  phalanx::net::SteadyClock steady_;
  std::int64_t skew_ms_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace phalanx;
  std::string behaviour_name;
  std::uint64_t seed = 1;
  std::vector<std::string> params;
  std::string application = "kv";
  std::int64_t skew_ms = 0;
  examples::ReplicaHooks hooks;
  hooks.description = "Runs one replica of the Phalanx key-value store that lies on purpose.";
  hooks.add_options = [&](CLI::App& app) {
    std::string known;
    for (auto name : adversary::behaviour_names())
      known += (known.empty() ? "" : ", ") + std::string(name);
    app.add_option("--byzantine", behaviour_name,
                   "the behaviour: " + known + " (none: it lies with its clock alone)");
    app.add_option("--byzantine-seed", seed, "seed of the behaviour's random choices");
    app.add_option("--byzantine-param", params, "KEY=VALUE: a parameter of the behaviour");
    app.add_option("--application", application, "the replicated application")
        ->check(CLI::IsMember({"kv", "ledger"}));
    app.add_option("--wall-clock-skew-ms", skew_ms,
                   "move the wall clock batch times are read from by this much (+ ahead)");
  };
  hooks.wrap_transport =
      [&](std::unique_ptr<net::Transport> inner, const pbft::ClusterConfig& config,
          pbft::ReplicaId id,
          const crypto::SecretKey& key) -> Result<std::unique_ptr<net::Transport>> {
    if (behaviour_name.empty()) {
      if (skew_ms == 0)
        return Error{"nothing to lie with: give --byzantine or --wall-clock-skew-ms"};
      std::fprintf(stderr, "phalanx-byzantine-replica: replica %u's wall clock is off by %lld ms\n",
                   id, static_cast<long long>(skew_ms));
      return inner;
    }
    auto own_key = crypto::SecretKey::from_seed(crypto::seed_of(key));
    adversary::BehaviourContext context{id,
                                        static_cast<std::uint32_t>(config.replicas.size()),
                                        config.cluster_id,
                                        std::move(own_key),
                                        seed,
                                        {}};
    for (const auto& param : params) {
      auto equals = param.find('=');
      if (equals == std::string::npos)
        return Error{"--byzantine-param " + param + ": expected KEY=VALUE"};
      context.params[param.substr(0, equals)] = param.substr(equals + 1);
    }
    auto behaviour = adversary::make_behaviour(behaviour_name, std::move(context));
    if (!behaviour.ok()) return behaviour.error();
    std::fprintf(stderr, "phalanx-byzantine-replica: replica %u behaves as '%s'\n", id,
                 behaviour_name.c_str());
    return std::unique_ptr<net::Transport>(std::make_unique<adversary::ByzantineTransport>(
        std::move(inner), std::move(behaviour).value(), node::node_options(config, id).verifier,
        id));
  };
  hooks.role = [&] {
    std::string role = "Byzantine:";
    if (!behaviour_name.empty()) role += " " + behaviour_name;
    if (skew_ms != 0) role += " clock " + std::to_string(skew_ms) + " ms";
    return role;
  };
  hooks.make_clock = [&] { return std::make_shared<SkewedClock>(skew_ms); };
  ledger::LedgerReplicaOptions ledger_options;
  ledger::add_ledger_to(hooks, ledger_options);  // --genesis; the rest with --application ledger
  auto make_ledger = hooks.make_application;
  auto adjust_for_ledger = hooks.adjust_options;
  hooks.make_application =
      [&](const pbft::ClusterConfig& config, pbft::ReplicaId id,
          const std::string& data_dir) -> Result<std::unique_ptr<pbft::Application>> {
    if (application == "ledger") return make_ledger(config, id, data_dir);
    return std::unique_ptr<pbft::Application>(std::make_unique<examples::KvApplication>());
  };
  hooks.adjust_options = [&](pbft::ReplicaOptions& options) {
    if (application == "ledger") adjust_for_ledger(options);
  };
  return examples::replica_main(argc, argv, hooks);
}
