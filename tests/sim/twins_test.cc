// Twins (adversary/twins.h): every partition schedule of three rounds that separates a
// twinned replica from its twin, for each replica twinned, on n = 4: 4 x 9^3 = 2,916
// cases, each checked for S1-S3, S5 and completion after the network heals. Plus a random
// sample of the larger space where any two-sided partition may occur. A failing case
// prints what it was and how to replay it.
#include "phalanx/adversary/twins.h"

#include <gtest/gtest.h>

#include "sim/seed_runner.h"

namespace phalanx::adversary {
namespace {

using namespace sim_test;

constexpr std::uint64_t kShards = 4;

std::string replay(std::size_t index) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return "PHALANX_TWINS_CASE=" + std::to_string(index) +
         " <test binary> --gtest_filter=" + test->test_suite_name() + "." + test->name();
}

bool check_case(const TwinsCase& twins_case, const TwinsOutcome& outcome, std::size_t index) {
  if (outcome.passed) return true;
  ADD_FAILURE() << "twins case " << index << " failed: " << twins_case.describe() << "\n  "
                << outcome.run.summary() << "\n"
                << describe(outcome.violations) << "replay: " << replay(index);
  return false;
}

// The cases of one shard (PHALANX_TWINS_CASE=i runs case i only); PHALANX_SIM_SEEDS_MAX
// (or PHALANX_SIM_SEEDS), if set, caps how many (the sanitizer presets set it), spread
// evenly over the space.
void run_shard(std::uint64_t shard) {
  static const std::vector<TwinsCase> cases = enumerate_twins(TwinsSpace{});
  ASSERT_EQ(cases.size(), 4u * 9 * 9 * 9);
  std::vector<std::size_t> mine;
  if (auto only = env_number("PHALANX_TWINS_CASE")) {
    if (*only % kShards == shard) mine.push_back(*only);
  } else {
    std::size_t step = 1;
    auto cap = env_number("PHALANX_SIM_SEEDS_MAX");
    if (!cap) cap = env_number("PHALANX_SIM_SEEDS");
    if (cap && *cap * kShards < cases.size())
      step = cases.size() / (*cap * kShards);
    for (std::size_t index = shard; index < cases.size(); index += kShards * step)
      mine.push_back(index);
  }
  std::size_t failed = 0, evidence_runs = 0;
  for (std::size_t index : mine) {
    if (failed >= kFailuresShownMax) break;
    TwinsOutcome outcome = run_twins(cases[index], TwinsSettings{});
    evidence_runs += outcome.evidence > 0;
    if (!check_case(cases[index], outcome, index)) ++failed;
  }
  std::printf("[ twins    ] shard %llu: %zu cases, evidence against the twinned replica in %zu\n",
              static_cast<unsigned long long>(shard), mine.size(), evidence_runs);
}

TEST(Twins, EveryPartitionScheduleShard0) {
  run_shard(0);
}
TEST(Twins, EveryPartitionScheduleShard1) {
  run_shard(1);
}
TEST(Twins, EveryPartitionScheduleShard2) {
  run_shard(2);
}
TEST(Twins, EveryPartitionScheduleShard3) {
  run_shard(3);
}

// Beyond the enumeration: any two-sided partition (the twins may share a side), four
// rounds, a random case per seed (PHALANX_SEED=s replays one).
TEST(Twins, SampledLargerSpace) {
  std::size_t failed = 0;
  for (std::uint64_t seed : seeds(200)) {
    if (failed >= kFailuresShownMax) break;
    net::Rng rng(seed);
    TwinsCase twins_case = sample_twins(TwinsSpace{4, 4}, rng);
    TwinsSettings settings;
    settings.seed = seed;
    TwinsOutcome outcome = run_twins(twins_case, settings);
    if (outcome.passed) continue;
    ++failed;
    ADD_FAILURE() << "seed " << seed << ": " << twins_case.describe() << "\n  "
                  << outcome.run.summary() << "\n"
                  << describe(outcome.violations) << "replay: " << reproduce_command(seed);
  }
}

}  // namespace
}  // namespace phalanx::adversary
