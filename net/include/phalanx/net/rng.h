#pragma once
// A small seeded random generator (xoshiro256**, seeded with splitmix64) whose output
// depends only on the seed: the same on every platform and standard library, which
// std::uniform_int_distribution does not promise. Every random choice in a simulated run
// comes from one of these, derived from the run's seed.
// Thread-safety: none; one owner.

#include <cstdint>

namespace phalanx::net {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [low, high]; precondition low <= high.
  std::uint64_t uniform(std::uint64_t low, std::uint64_t high);
  // True with the given probability (clamped to [0, 1]).
  bool chance(double probability);
  // A uniform double in [0, 1).
  double unit();
  // An independent generator for a sub-component, so that adding draws in one place does
  // not shift every draw elsewhere.
  Rng fork(std::uint64_t stream);

 private:
  std::uint64_t state_[4];
};

}  // namespace phalanx::net
