#pragma once
// Twins (Bano et al., "Twins: BFT Systems Made Robust", OPODIS 2021): a replica runs as
// two processes with one identity and one key, each honest on its own, so that together
// they behave like an equivocating replica; the network is partitioned differently in
// successive rounds so that the twins talk to different quorums. Enumerating partitions
// over a few rounds tests safety against equivocation systematically instead of by luck.
//
// A case here: which replica is twinned, and for each of R rounds a partition of the n+1
// instances (the n replicas and the twin) into two sides that cannot talk, or none. Only
// partitions that separate the twin from its original are enumerated (the others leave
// the pair indistinguishable from one honest replica), which for n = 4 is 2^3 = 8 per
// round, plus "no partition": 9 per round, 9^R x n cases in all. Clients talk to everyone.
//
// PBFT has no leader to choose per round as HotStuff-like protocols do (the primary is
// view mod n and views change on timeouts): the leader dimension here is which replica is
// twinned (the first primary, or a backup), and the rounds are long enough for view
// changes to happen inside them (round_ms above the view-change timeout).
//
// After the rounds the network heals and the clients' requests must all complete (L1);
// S1-S3 and S5 must hold for the correct replicas throughout (the twinned one is faulty).
//
// Thread-safety: none; plain functions.

#include <cstdint>
#include <string>
#include <vector>

#include "phalanx/adversary/checker.h"
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/net/rng.h"

namespace phalanx::adversary {

struct TwinsRound {
  // The instances on one side (replica ids 0..n-1, and n for the twin); the others are on
  // the other side. Empty: no partition in this round.
  std::vector<std::uint32_t> side;
};

struct TwinsCase {
  std::uint32_t replicas = 4;
  pbft::ReplicaId twin = 0;
  std::vector<TwinsRound> rounds;
  std::string describe() const;  // e.g. "twin=r0 rounds=[{r1 r2 r0'} | {} | {r3 r0'}]"
};

struct TwinsSpace {
  std::uint32_t replicas = 4;
  std::uint32_t rounds = 3;
};

// Every case of the space, in a fixed order.
std::vector<TwinsCase> enumerate_twins(const TwinsSpace& space);
// A random case of the larger space in which any partition into two sides may occur
// (the original and its twin on the same side included), for sampling beyond enumeration.
TwinsCase sample_twins(const TwinsSpace& space, net::Rng& rng);

struct TwinsSettings {
  std::uint64_t seed = 1;        // the network's randomness (latency within [1, 3] ms)
  pbft::Instant round_ms = 400;  // above the first view-change timeout (300-500 ms)
  std::uint32_t clients = 1;
  // Spread over the rounds by the client's think time: requests arrive in every round.
  std::uint32_t requests_per_client = 16;
  pbft::Instant think_ms = 75;
  pbft::Instant time_limit_ms = 60'000;
};

struct TwinsOutcome {
  bool passed = false;
  std::vector<Violation> violations;
  RunResult run;
  std::uint64_t evidence = 0;  // accusations (against the twinned replica, if all is well)
};

TwinsOutcome run_twins(const TwinsCase& twins_case, const TwinsSettings& settings);

}  // namespace phalanx::adversary
