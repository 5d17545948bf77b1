#pragma once
// Every bound on what a peer or client can make a replica hold or do. Each one has a unit
// in its name; docs/limits.md says what happens when it is reached. Wire-level limits are
// checked before anything is decoded or allocated on a peer's behalf.

#include <cstddef>
#include <cstdint>

namespace phalanx::pbft {

struct WireLimits {
  std::size_t envelope_bytes_max = 16u << 20;    // whole received message (a NEW-VIEW is large)
  std::size_t operation_bytes_max = 64u << 10;   // one client operation
  std::size_t result_bytes_max = 1u << 20;       // one reply result
  std::size_t batch_requests_max = 1024;         // requests in one pre-prepare
  std::size_t chunk_bytes_max = 1u << 20;        // one state-transfer chunk
  std::size_t merkle_depth_max = 40;             // path length in a state chunk
  std::size_t prepared_certificates_max = 4096;  // in one VIEW-CHANGE (>= the log window)
  std::uint64_t view_max = std::uint64_t{1} << 62;
  std::uint64_t seq_max = std::uint64_t{1} << 62;
};

}  // namespace phalanx::pbft
