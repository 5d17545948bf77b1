// phalanx-byzantine-replica: a replica of the key-value store that lies, for tests and
// demonstrations against real processes. It is phalanx-replica (same options, same data
// directory, same exit codes) with an honest core whose outgoing messages go through a
// Byzantine behaviour (adversary/behaviour.h):
//
//   phalanx-byzantine-replica --byzantine BEHAVIOUR [--byzantine-seed S] <phalanx-replica options>
//
// Built from adversary/ and never part of the honest phalanx-replica binary.
#include "phalanx/adversary/byzantine_transport.h"
#include "phalanx/node/cluster.h"
#include "replica_main.h"

int main(int argc, char** argv) {
  using namespace phalanx;
  std::string behaviour_name;
  std::uint64_t seed = 1;
  std::vector<std::string> params;
  examples::ReplicaHooks hooks;
  hooks.description = "Runs one replica of the Phalanx key-value store that lies on purpose.";
  hooks.add_options = [&](CLI::App& app) {
    std::string known;
    for (auto name : adversary::behaviour_names())
      known += (known.empty() ? "" : ", ") + std::string(name);
    app.add_option("--byzantine", behaviour_name, "the behaviour: " + known)->required();
    app.add_option("--byzantine-seed", seed, "seed of the behaviour's random choices");
    app.add_option("--byzantine-param", params, "KEY=VALUE: a parameter of the behaviour");
  };
  hooks.wrap_transport =
      [&](std::unique_ptr<net::Transport> inner, const pbft::ClusterConfig& config,
          pbft::ReplicaId id,
          const crypto::SecretKey& key) -> Result<std::unique_ptr<net::Transport>> {
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
  return examples::replica_main(argc, argv, hooks);
}
