#pragma once
// The crypto + messaging ceiling of a run: the least work each request needs in the run's
// configuration, priced with this machine's costs (machine_costs.h), spread over every
// core. Nothing else is counted (no execution, no protocol bookkeeping, no storage), so no
// implementation of the same protocol on this machine can go faster; result / ceiling says
// how much of the machine the implementation leaves unused.
//
// Work per request, signed client requests, n = 3f+1 replicas, batches of b requests:
//   signatures made:    1 (client) + n (replies) + (1 + (n-1) + n) / b
//                       (pre-prepare, backups' prepares, commits)
//   signatures checked: n (each replica, once) + (f+1) (the client needs f+1 replies)
//                       + ((n-1) + (n-1)^2 + n(n-1)) / b
//   messages:           n (request to every replica) + n (replies)
//                       + ((n-1) + (n-1)^2 + n(n-1)) / b
//   bytes hashed:       the operation, by the client and by each replica, and once more
//                       for the batch digest
// Unreplicated (one server, same transport and client signatures): 2 signatures made,
// 2 checked, 2 messages. Checkpoints (one per checkpoint interval) are left out.
//
// MAC clients (pbft/authenticators.h) sign and check nothing per request: the client MACs
// the request for each replica (n), each replica checks its entry (n) and MACs its reply
// (n), the client checks f+1 replies; unreplicated, 2 MACs. A MAC is priced as hashing one
// 128-byte BLAKE2b block.

#include <cstddef>

#include "machine_costs.h"

namespace phalanx::bench {

struct WorkPerRequest {
  double signs = 0;
  double verifies = 0;
  double messages = 0;
  double hashed_bytes = 0;
  double macs = 0;
};

inline constexpr double kMacHashedBytes = 128;

// `replicas` = 0: unreplicated. `mac_clients`: clients authenticate with MACs.
WorkPerRequest least_work(std::size_t replicas, std::size_t batch_requests_max,
                          std::size_t operation_bytes, bool mac_clients = false);

// CPU microseconds the work costs on this machine.
double cpu_us(const WorkPerRequest& work, const MachineCosts& costs);

// Requests per second with every core busy with nothing but that work.
double ceiling_per_second(const WorkPerRequest& work, const MachineCosts& costs);

}  // namespace phalanx::bench
