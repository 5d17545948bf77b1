#include "cost_model.h"

#include <algorithm>

namespace phalanx::bench {

WorkPerRequest least_work(std::size_t replicas, std::size_t batch_requests_max,
                          std::size_t operation_bytes, bool mac_clients) {
  auto bytes = static_cast<double>(operation_bytes);
  if (replicas == 0)
    return mac_clients ? WorkPerRequest{0, 0, 2, 2 * bytes, 2}
                       : WorkPerRequest{2, 2, 2, 2 * bytes, 0};
  auto n = static_cast<double>(replicas);
  double f = static_cast<double>((replicas - 1) / 3);
  double b = static_cast<double>(std::max<std::size_t>(1, batch_requests_max));
  double agreement_messages = (n - 1) + (n - 1) * (n - 1) + n * (n - 1);
  WorkPerRequest work;
  work.signs = 1 + n + (1 + (n - 1) + n) / b;
  work.verifies = n + (f + 1) + agreement_messages / b;
  work.messages = 2 * n + agreement_messages / b;
  work.hashed_bytes = (1 + n + n) * bytes;
  if (mac_clients) {  // the per-request signatures and checks become MACs
    work.signs -= 1 + n;
    work.verifies -= n + (f + 1);
    work.macs = 3 * n + (f + 1);
  }
  return work;
}

double cpu_us(const WorkPerRequest& work, const MachineCosts& costs) {
  return work.signs * costs.sign_us + work.verifies * costs.verify_us +
         work.messages * costs.zmq_message_cpu_us +
         (work.hashed_bytes + work.macs * kMacHashedBytes) * costs.blake2b_ns_per_byte / 1e3;
}

double ceiling_per_second(const WorkPerRequest& work, const MachineCosts& costs) {
  return static_cast<double>(costs.cores) * 1e6 / cpu_us(work, costs);
}

}  // namespace phalanx::bench
