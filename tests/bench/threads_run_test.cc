// A short run with the replicas as threads: requests complete, and what was counted
// agrees with what the protocol must at least do for each request (every replica checks
// every request's signature once; the client checks f+1 replies).
#include <gtest/gtest.h>

#include <thread>

#include "closed_loop.h"
#include "cost_model.h"
#include "report.h"
#include "server_set.h"

namespace phalanx::bench {
namespace {

BenchOptions short_run(int base_port) {
  BenchOptions options;
  options.threads = true;
  options.plaintext = true;
  options.outstanding = {8};
  options.base_port = base_port;
  return options;
}

Point measure(const BenchOptions& options) {
  auto servers = ServerSet::start(options, {}, "");
  EXPECT_TRUE(servers.ok()) << servers.error().message;
  auto loop = ClosedLoop::create(options);
  EXPECT_TRUE(loop.ok()) << loop.error().message;
  loop.value()->set_outstanding(options.outstanding.front());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Counters own_before = process_counters();
  Counters servers_before = servers.value()->counters().value();
  loop.value()->begin_window();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  WindowResult window = loop.value()->end_window();
  Counters own = process_counters() - own_before;
  Counters on_servers = servers.value()->counters().value() - servers_before;
  loop.value()->drain(std::chrono::seconds(5));
  return make_point(options.outstanding.front(), std::move(window), own, on_servers, true, 0);
}

TEST(ThreadsRun, FourReplicasCompleteRequestsAndCountTheirWork) {
  BenchOptions options = short_run(24700);
  Point point = measure(options);
  ASSERT_GT(point.completed, 20u);
  EXPECT_EQ(point.failed, 0u);
  // Requests in flight at the window's edges make the per-request figures a little
  // uncertain; the bounds below leave room for that and nothing else.
  WorkPerRequest least = least_work(4, options.batch_requests_max, 0);
  EXPECT_GE(point.verifies_per_request, least.verifies * 0.9);
  EXPECT_GE(point.signs_per_request, least.signs * 0.9);
  EXPECT_GE(point.messages_per_request, 2 * 4 * 0.9);  // a request to and a reply from each
  EXPECT_GE(point.batch_size, 1.0);
  EXPECT_GT(point.p50_ms, 0.0);
  EXPECT_LE(point.p50_ms, point.p99_ms);
}

// MAC clients: nothing per request is signed any more, only the agreement's messages,
// spread over each batch.
TEST(ThreadsRun, MacClientsCompleteRequestsWithoutPerRequestSignatures) {
  BenchOptions options = short_run(24740);
  options.mac_clients = true;
  Point point = measure(options);
  ASSERT_GT(point.completed, 20u);
  EXPECT_EQ(point.failed, 0u);
  // A batch is signed 8 times (pre-prepare, 3 prepares, 4 commits); status messages add a
  // little. Signed clients would add 5 per request (their own and 4 replies).
  ASSERT_GE(point.batch_size, 1.0);
  EXPECT_LT(point.signs_per_request, 8.0 / point.batch_size + 1);
  EXPECT_GE(point.messages_per_request, 2 * 4 * 0.9);
}

TEST(ThreadsRun, TheUnreplicatedServerAnswersWithOneSignatureEachWay) {
  BenchOptions options = short_run(24720);
  options.unreplicated = true;
  Point point = measure(options);
  ASSERT_GT(point.completed, 20u);
  EXPECT_NEAR(point.signs_per_request, 2, 0.2);
  EXPECT_NEAR(point.verifies_per_request, 2, 0.2);
  EXPECT_NEAR(point.messages_per_request, 2, 0.2);
}

}  // namespace
}  // namespace phalanx::bench
