#include "phalanx/net/rng.h"

#include "phalanx/base/assert.h"

namespace phalanx::net {

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t Rng::next() {
  std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t Rng::uniform(std::uint64_t low, std::uint64_t high) {
  PHALANX_ASSERT(low <= high, "Rng::uniform with low > high");
  std::uint64_t span = high - low;
  if (span == ~std::uint64_t{0}) return next();
  // Rejection sampling: no modulo bias.
  std::uint64_t range = span + 1;
  std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % range);
  std::uint64_t value;
  do value = next();
  while (value >= limit);
  return low + value % range;
}

double Rng::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

bool Rng::chance(double probability) {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return unit() < probability;
}

Rng Rng::fork(std::uint64_t stream) { return Rng(next() ^ (stream * 0x9e3779b97f4a7c15ULL)); }

}  // namespace phalanx::net
