#include "phalanx/adversary/twins.h"

#include "phalanx/base/assert.h"

namespace phalanx::adversary {

namespace {

std::string instance_name(std::uint32_t instance, const TwinsCase& twins_case,
                          std::uint32_t replicas) {
  return instance == replicas ? "r" + std::to_string(twins_case.twin) + "'"
                              : "r" + std::to_string(instance);
}

// The partitions that separate the original (instance `twin`) from the twin (instance n):
// every subset of the other replicas on the original's side.
std::vector<TwinsRound> separating_rounds(std::uint32_t replicas, pbft::ReplicaId twin) {
  std::vector<TwinsRound> rounds{TwinsRound{}};  // no partition
  std::vector<std::uint32_t> others;
  for (std::uint32_t id = 0; id < replicas; ++id)
    if (id != twin) others.push_back(id);
  for (std::uint32_t mask = 0; mask < (1u << others.size()); ++mask) {
    TwinsRound round;
    round.side.push_back(twin);
    for (std::size_t i = 0; i < others.size(); ++i)
      if (mask & (1u << i)) round.side.push_back(others[i]);
    rounds.push_back(std::move(round));
  }
  return rounds;
}

}  // namespace

std::string TwinsCase::describe() const {
  std::string text = "twin=r" + std::to_string(twin) + " rounds=[";
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    text += i ? " | {" : "{";
    for (std::size_t j = 0; j < rounds[i].side.size(); ++j)
      text += (j ? " " : "") + instance_name(rounds[i].side[j], *this, replicas);
    text += "}";
  }
  return text + "]";
}

std::vector<TwinsCase> enumerate_twins(const TwinsSpace& space) {
  std::vector<TwinsCase> cases;
  for (pbft::ReplicaId twin = 0; twin < space.replicas; ++twin) {
    std::vector<TwinsRound> choices = separating_rounds(space.replicas, twin);
    std::uint64_t total = 1;
    for (std::uint32_t r = 0; r < space.rounds; ++r) total *= choices.size();
    for (std::uint64_t index = 0; index < total; ++index) {
      TwinsCase twins_case{space.replicas, twin, {}};
      std::uint64_t rest = index;
      for (std::uint32_t r = 0; r < space.rounds; ++r) {
        twins_case.rounds.push_back(choices[rest % choices.size()]);
        rest /= choices.size();
      }
      cases.push_back(std::move(twins_case));
    }
  }
  return cases;
}

TwinsCase sample_twins(const TwinsSpace& space, net::Rng& rng) {
  TwinsCase twins_case;
  twins_case.replicas = space.replicas;
  twins_case.twin = static_cast<pbft::ReplicaId>(rng.uniform(0, space.replicas - 1));
  for (std::uint32_t r = 0; r < space.rounds; ++r) {
    TwinsRound round;
    if (rng.chance(0.8)) {
      for (std::uint32_t instance = 0; instance <= space.replicas; ++instance)
        if (rng.chance(0.5)) round.side.push_back(instance);
    }
    twins_case.rounds.push_back(std::move(round));
  }
  return twins_case;
}

TwinsOutcome run_twins(const TwinsCase& twins_case, const TwinsSettings& settings) {
  SimClusterOptions options;
  options.seed = settings.seed;
  options.replicas = twins_case.replicas;
  options.clients = settings.clients;
  options.requests_per_client = settings.requests_per_client;
  options.think_time = settings.think_ms * pbft::kMillisecond;
  options.twins = {twins_case.twin};
  options.network = net::LinkRule{1 * pbft::kMillisecond, 3 * pbft::kMillisecond, 0, 0};
  options.time_limit = settings.time_limit_ms * pbft::kMillisecond;
  options.steps_max = 2'000'000;
  SimCluster cluster(options);
  const std::uint32_t replicas = options.replicas;
  const net::NodeId twin_node = *cluster.twin_node(twins_case.twin);
  auto node_of = [&](std::uint32_t instance) -> net::NodeId {
    return instance == replicas ? twin_node : instance;
  };

  // Each round: the two sides cannot talk (both ways); clients reach everyone.
  for (std::size_t r = 0; r < twins_case.rounds.size(); ++r) {
    const TwinsRound& round = twins_case.rounds[r];
    pbft::Instant at = r * settings.round_ms * pbft::kMillisecond;
    std::vector<bool> on_side(replicas + 1, false);
    for (auto instance : round.side) on_side[instance] = true;
    cluster.schedule(at, [=](net::SimNetwork& network) {
      network.heal();
      if (round.side.empty()) return;
      for (std::uint32_t a = 0; a <= replicas; ++a)
        for (std::uint32_t b = 0; b <= replicas; ++b)
          if (on_side[a] != on_side[b]) network.cut(node_of(a), node_of(b));
    });
  }
  pbft::Instant heal_at = twins_case.rounds.size() * settings.round_ms * pbft::kMillisecond;
  cluster.schedule(heal_at, [](net::SimNetwork& network) { network.heal(); });

  TwinsOutcome outcome;
  outcome.run = cluster.run();
  outcome.violations = cluster.check();
  outcome.evidence = outcome.run.harness.evidence;
  outcome.passed = outcome.violations.empty() && outcome.run.stop == RunResult::Stop::kCompleted;
  return outcome;
}

}  // namespace phalanx::adversary
