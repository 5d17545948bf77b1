#include "closed_loop.h"

#include <algorithm>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"
#include "server.h"

namespace phalanx::bench {

Result<std::unique_ptr<ClosedLoop>> ClosedLoop::create(const BenchOptions& options) {
  std::unique_ptr<ClosedLoop> loop(new ClosedLoop(options));
  pbft::ClusterConfig config = bench_cluster(options);
  std::size_t most = *std::max_element(options.outstanding.begin(), options.outstanding.end());
  std::size_t identities = std::max<std::size_t>(1, (most + options.clients - 1) / options.clients);
  for (std::size_t index = 0; index < options.clients; ++index) {
    crypto::SecretKey key = client_key(index);
    auto transport = node::client_transport(
        config, key,
        options.plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve,
        node::IoDriver::kReceiveLoop);  // the pbft::Client's loop drives it
    if (!transport.ok()) return transport.error();
    pbft::ClientSettings settings;
    settings.verifier = config.verifier();
    settings.options = config.client_options;
    settings.identities = identities;
    auto& entry = loop->loops_.emplace_back(std::make_unique<Loop>());
    entry->index = index;
    entry->client = std::make_unique<pbft::Client>(std::move(settings), std::move(key),
                                                   std::move(transport).value());
  }
  return loop;
}

ClosedLoop::~ClosedLoop() {
  stopping_.store(true);
  recording_.store(false);
  // Each Client fails what is left in flight (calling back into its Loop) and joins its
  // thread: before any Loop goes.
  for (auto& loop : loops_) loop->client.reset();
}

void ClosedLoop::set_outstanding(std::size_t outstanding) {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    // Spread evenly; the first clients take the remainder.
    std::size_t share = outstanding / loops_.size() + (i < outstanding % loops_.size() ? 1 : 0);
    loops_[i]->target.store(share);
    top_up(*loops_[i]);
  }
}

void ClosedLoop::top_up(Loop& loop) {
  while (!stopping_.load() && loop.in_flight.load() < loop.target.load()) submit_one(loop);
}

Bytes ClosedLoop::operation(Loop& loop) {
  std::uint64_t number = loop.next_operation.fetch_add(1);
  if (options_.application == "kv")
    return examples::kv::put("c" + std::to_string(loop.index) + "-" + std::to_string(number % 4096),
                             std::string(options_.request_bytes, 'v'));
  return Bytes(options_.request_bytes, 'o');
}

void ClosedLoop::submit_one(Loop& loop) {
  loop.in_flight.fetch_add(1);
  auto started = std::chrono::steady_clock::now();
  loop.client->submit(operation(loop), [this, &loop, started](Result<Bytes> outcome) {
    auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    if (recording_.load()) {
      std::lock_guard lock(loop.mutex);
      if (outcome.ok()) {
        ++loop.completed;
        loop.latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
      } else {
        ++loop.failed;
      }
    }
    loop.in_flight.fetch_sub(1);
    top_up(loop);
  });
}

void ClosedLoop::begin_window() {
  for (auto& loop : loops_) {
    std::lock_guard lock(loop->mutex);
    loop->latencies_us.clear();
    loop->completed = 0;
    loop->failed = 0;
  }
  window_start_ = std::chrono::steady_clock::now();
  recording_.store(true);
}

WindowResult ClosedLoop::end_window() {
  recording_.store(false);
  WindowResult result;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start_).count();
  for (auto& loop : loops_) {
    std::lock_guard lock(loop->mutex);
    result.completed += loop->completed;
    result.failed += loop->failed;
    result.latencies_us.insert(result.latencies_us.end(), loop->latencies_us.begin(),
                               loop->latencies_us.end());
  }
  return result;
}

void ClosedLoop::drain(std::chrono::milliseconds wait) {
  for (auto& loop : loops_) loop->target.store(0);
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto in_flight = [&] {
    std::size_t sum = 0;
    for (auto& loop : loops_) sum += loop->in_flight.load();
    return sum;
  };
  while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace phalanx::bench
