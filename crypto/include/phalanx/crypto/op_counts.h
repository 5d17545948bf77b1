#pragma once
// How many Ed25519 signatures this process has made and checked since it started: what a
// benchmark reports per request (phalanx-bench). Counted where libsodium is called, so a
// signature the VerifyCache already knew is not counted again.
//
// Thread-safety: relaxed atomics; a count read while others sign may lag by a few.

#include <cstdint>

namespace phalanx::crypto {

struct OpCounts {
  std::uint64_t signs = 0;
  std::uint64_t verifies = 0;
};

OpCounts op_counts();

}  // namespace phalanx::crypto
