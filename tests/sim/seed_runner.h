#pragma once
// Running a simulation test over many seeds, the tigerbeetle VOPR way: everything a run
// does derives from its seed, and a failing seed prints the one command that replays it.
//
// Environment: PHALANX_SEED=<n> runs that seed only; PHALANX_SIM_SEEDS=<count> changes
// the number of seeds (a soak raises it); PHALANX_SIM_SEEDS_MAX=<count> caps it (the
// sanitizer presets set it: their builds are slow, and seeds are the release build's
// job); PHALANX_SIM_VERBOSE=1 prints a summary of every run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/net/rng.h"

namespace phalanx::adversary::sim_test {

inline constexpr pbft::Instant kMs = pbft::kMillisecond;
inline constexpr std::size_t kFailuresShownMax = 5;  // the first few say enough

inline std::optional<std::uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::strtoull(text, nullptr, 10);
}

// PHALANX_SEED when set, else `fallback`: for tests that run one fixed seed.
inline std::uint64_t seed_or(std::uint64_t fallback) {
  return env_number("PHALANX_SEED").value_or(fallback);
}

// The seeds one shard of a test runs: PHALANX_SEED alone, or its share of `count` seeds
// (PHALANX_SIM_SEEDS overrides `count`, PHALANX_SIM_SEEDS_MAX caps it). Shards let
// ctest spread the seeds over cores.
inline std::vector<std::uint64_t> seeds(std::uint64_t count, std::uint64_t shard = 0,
                                        std::uint64_t shards = 1) {
  if (auto seed = env_number("PHALANX_SEED")) return {*seed};
  count = env_number("PHALANX_SIM_SEEDS").value_or(count);
  if (auto cap = env_number("PHALANX_SIM_SEEDS_MAX")) count = std::min(count, *cap);
  std::vector<std::uint64_t> mine;
  for (std::uint64_t seed = 1; seed <= count; ++seed) {
    if (seed % shards == shard) mine.push_back(seed);
  }
  return mine;
}

// The command that replays `seed` in the test now running.
inline std::string reproduce_command(std::uint64_t seed) {
  std::error_code error;
  auto binary = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return "PHALANX_SEED=" + std::to_string(seed) + " " +
         (error ? std::string("<test binary>") : binary.string()) +
         " --gtest_filter=" + test->test_suite_name() + "." + test->name();
}

// The most views any replica entered after view 0.
inline std::uint64_t most_views_entered(const RunResult& result) {
  std::uint64_t most = 0;
  for (const auto& status : result.replicas) most = std::max(most, status.view_changes);
  return most;
}

inline std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const auto& violation : violations) text += "  " + to_string(violation) + "\n";
  return text;
}

// One seeded run: the cluster, the network changes to schedule, and a description of the
// faults for the failure message; optionally process faults and other actions, a setup
// (send filter, step observer), what happened (faults decided during the run, such as a
// crash pinned to a protocol step) and postconditions beyond the checker's.
struct SeedRun {
  SimClusterOptions options;
  std::vector<std::pair<pbft::Instant, SimCluster::NetworkChange>> changes;
  std::string faults;
  std::vector<std::pair<pbft::Instant, SimCluster::Action>> actions;
  std::function<void(SimCluster&)> setup;  // before the run
  std::function<std::string()> happened;   // appended to the faults (called after verify)
  // After a completed run that the checker passed: what else failed, empty if nothing.
  std::function<std::string(const SimCluster&, const RunResult&)> verify;
};

// The ranges a random cluster's seed draws its shape from.
struct RandomShape {
  std::uint64_t requests_min = 10, requests_max = 20;  // per client; 2-3 clients
  std::uint64_t latency_max_ms_min = 1, latency_max_ms_max = 20;  // latency_min is 1 ms
  std::uint64_t drop_percent_max = 30;
  std::uint64_t duplicate_percent_max = 0;  // 0: no duplicates, and no draw for them
  std::uint64_t steps_max = 2'000'000;      // far above need: a spinning core fails fast
};

// A cluster of `replicas` over a random faulty network, every choice drawn from `rng` in
// a fixed order (clients, requests, latency, loss, duplication), so a seed replays.
inline SeedRun random_cluster(std::uint64_t seed, std::uint32_t replicas,
                              const RandomShape& shape, net::Rng& rng) {
  SeedRun run;
  SimClusterOptions& options = run.options;
  options.seed = seed;
  options.replicas = replicas;
  options.clients = static_cast<std::uint32_t>(rng.uniform(2, 3));
  options.requests_per_client =
      static_cast<std::uint32_t>(rng.uniform(shape.requests_min, shape.requests_max));
  options.network.latency_min_ns = 1 * kMs;
  options.network.latency_max_ns =
      rng.uniform(shape.latency_max_ms_min, shape.latency_max_ms_max) * kMs;
  options.network.drop_probability =
      static_cast<double>(rng.uniform(0, shape.drop_percent_max)) / 100;
  if (shape.duplicate_percent_max > 0)
    options.network.duplicate_probability =
        static_cast<double>(rng.uniform(0, shape.duplicate_percent_max)) / 100;
  options.time_limit = 300 * pbft::kSecond;
  options.steps_max = shape.steps_max;
  return run;
}

inline std::string describe(const SeedRun& run) {
  const auto& options = run.options;
  std::string text =
      "n=" + std::to_string(options.replicas) + " clients=" + std::to_string(options.clients) +
      "x" + std::to_string(options.requests_per_client) +
      " drop=" + std::to_string(options.network.drop_probability) +
      " duplicate=" + std::to_string(options.network.duplicate_probability) +
      " latency_max_ms=" + std::to_string(options.network.latency_max_ns / kMs) +
      " checkpoint_interval=" + std::to_string(options.replica_options.checkpoint_interval);
  for (auto id : options.silent) text += " silent=" + std::to_string(id);
  return text + run.faults;
}

// A broken invariant in a core aborts the process (base/assert.h), before any test
// output: the abort handler still prints the command that replays the seed running.
inline char g_replay_on_abort[1024];

extern "C" inline void print_replay_on_abort(int) {
  // Only async-signal-safe calls here; abort() terminates once the handler returns.
  const char* text = g_replay_on_abort;
  ssize_t written = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)written;
}

inline void arm_replay_on_abort(std::uint64_t seed) {
  std::string text = "\nthe run aborted; reproduce with:\n  " + reproduce_command(seed) + "\n";
  std::snprintf(g_replay_on_abort, sizeof g_replay_on_abort, "%s", text.c_str());
  std::signal(SIGABRT, print_replay_on_abort);
}

// Runs one seed; on failure (a violation, or not every request completed) reports what
// broke and how to replay it.
inline bool run_seed(const SeedRun& run) {
  arm_replay_on_abort(run.options.seed);
  SimCluster cluster(run.options);
  for (const auto& [at, change] : run.changes) cluster.schedule(at, change);
  for (const auto& [at, action] : run.actions) cluster.schedule_action(at, action);
  if (run.setup) run.setup(cluster);
  RunResult result = cluster.run();
  auto violations = cluster.check();
  std::string failed_postcondition;
  bool passed = violations.empty() && result.stop == RunResult::Stop::kCompleted;
  if (passed && run.verify) failed_postcondition = run.verify(cluster, result);
  passed = passed && failed_postcondition.empty();
  std::string happened = run.happened ? run.happened() : std::string();
  if (std::getenv("PHALANX_SIM_VERBOSE") != nullptr) {
    std::printf("seed %llu:%s %s\n", static_cast<unsigned long long>(run.options.seed),
                happened.c_str(), result.summary().c_str());
  }
  if (passed) return true;
  ADD_FAILURE() << "seed " << run.options.seed << " failed: " << describe(run) << happened << "\n  "
                << result.summary() << "\n"
                << describe(violations)
                << (failed_postcondition.empty() ? "" : "  " + failed_postcondition + "\n")
                << "reproduce with:\n  " << reproduce_command(run.options.seed);
  return false;
}

using MakeRun = std::function<SeedRun(std::uint64_t seed)>;

// Returns how many seeds ran.
inline std::size_t run_seeds(const MakeRun& make, std::uint64_t count, std::uint64_t shard = 0,
                             std::uint64_t shards = 1) {
  std::size_t failed = 0;
  std::size_t ran = 0;
  for (std::uint64_t seed : seeds(count, shard, shards)) {
    if (failed >= kFailuresShownMax) break;
    ++ran;
    if (!run_seed(make(seed))) ++failed;
  }
  EXPECT_EQ(failed, 0u) << "failing seeds (the run stops after " << kFailuresShownMax << ")";
  return ran;
}

}  // namespace phalanx::adversary::sim_test
