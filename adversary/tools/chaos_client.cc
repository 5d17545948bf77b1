// phalanx-chaos-client: the workload of a chaos test. Closed-loop clients of a KV cluster
// (examples/kv) issue random put, get and del over a few keys for a while and record every
// operation, with its invocation and completion instants, as a history for
// phalanx-lincheck (adversary/history.h, adversary/linearizability.h).
//
//   phalanx-chaos-client --config cluster.toml --out HISTORY [--client NAME] [--seconds S]
//                        [--workers W] [--keys K] [--timeout-ms T] [--seed N] [--plaintext]
//                        [--check]
//
// Each of the W workers has one request in flight (its own client identity): 50% get, 40%
// put of a value no one else writes, 10% del, on a key drawn from K. A request without
// f+1 matching replies by its deadline is recorded without a completion: it may have taken
// effect, or not. Times are CLOCK_MONOTONIC nanoseconds, one clock for every process on the
// host. Prints one line (operations, completed, without reply, throughput); --check then
// checks the history and prints the verdict. Exit codes: 0 done (and linearizable with
// --check), 1 not linearizable, 2 bad arguments, 3 no connection, 4 a reply the store
// cannot give (a put not ok, an undecodable result), 5 the check ran out of budget.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "phalanx/adversary/history.h"
#include "phalanx/adversary/linearizability.h"
#include "phalanx/examples/kv_application.h"
#include "phalanx/net/rng.h"
#include "phalanx/node/client.h"
#include "phalanx/node/cluster.h"

namespace {

using namespace phalanx;
using adversary::KvOperation;
using adversary::KvOperationKind;

struct Settings {
  std::string config_path;
  std::string client_name;
  std::string out_path;
  double seconds = 30;
  std::size_t workers = 8;
  std::size_t keys = 16;
  int timeout_ms = 3000;
  std::uint64_t seed = 1;
  bool plaintext = false;
  bool check = false;
};

std::uint64_t monotonic_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// The workers' shared state: the history so far and whether to go on. Completions arrive
// on the client library's thread; the main thread waits for the end.
class Workload {
 public:
  Workload(pbft::Client& client, const Settings& settings)
      : client_(client), settings_(settings), rng_(settings.seed) {}

  void run() {
    stop_at_ = monotonic_ns() + static_cast<std::uint64_t>(settings_.seconds * 1e9);
    for (std::size_t worker = 0; worker < settings_.workers; ++worker) issue(worker);
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return busy_ == 0; });
  }

  adversary::KvHistory history() const {
    std::lock_guard lock(mutex_);
    return history_;
  }
  std::uint64_t impossible_replies() const { return impossible_.load(); }

 private:
  void issue(std::size_t worker) {
    KvOperation operation;
    Bytes request;
    {
      std::lock_guard lock(mutex_);
      if (monotonic_ns() >= stop_at_) return;
      ++busy_;
      operation = next_operation(worker);
    }
    request = encode(operation);
    operation.invoke_ns = monotonic_ns();
    client_.submit(std::move(request), [this, worker, operation](Result<Bytes> reply) mutable {
      record(std::move(operation), reply);
      issue(worker);
      std::lock_guard lock(mutex_);
      if (--busy_ == 0) idle_.notify_all();
    });
  }

  // Under mutex_ (the generator is shared).
  KvOperation next_operation(std::size_t worker) {
    KvOperation operation;
    operation.client = worker;
    operation.key = "k" + std::to_string(rng_.uniform(0, settings_.keys - 1));
    std::uint64_t draw = rng_.uniform(0, 9);
    operation.kind = draw < 5   ? KvOperationKind::kGet
                     : draw < 9 ? KvOperationKind::kPut
                                : KvOperationKind::kDel;
    if (operation.kind == KvOperationKind::kPut)
      operation.value = "w" + std::to_string(worker) + "-" + std::to_string(++written_);
    return operation;
  }

  static Bytes encode(const KvOperation& operation) {
    switch (operation.kind) {
      case KvOperationKind::kPut:
        return examples::kv::put(operation.key, operation.value);
      case KvOperationKind::kGet:
        return examples::kv::get(operation.key);
      case KvOperationKind::kDel:
        return examples::kv::del(operation.key);
    }
    return {};
  }

  void record(KvOperation operation, const Result<Bytes>& reply) {
    if (reply.ok()) {
      auto decoded = examples::kv::decode_result(reply.value());
      bool is_get = operation.kind == KvOperationKind::kGet;
      if (!decoded || (!is_get && !decoded->ok)) {
        ++impossible_;  // f+1 replicas vouched for a result no correct store gives
        return;
      }
      operation.complete_ns = monotonic_ns();
      if (is_get) {
        operation.found = decoded->ok;
        if (decoded->ok) operation.value = decoded->value;
      }
    }
    std::lock_guard lock(mutex_);
    history_.operations.push_back(std::move(operation));
  }

  pbft::Client& client_;
  const Settings& settings_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  net::Rng rng_;                  // guarded by mutex_
  std::uint64_t written_ = 0;     // guarded by mutex_
  std::size_t busy_ = 0;          // guarded by mutex_: workers with a request in flight
  adversary::KvHistory history_;  // guarded by mutex_
  std::uint64_t stop_at_ = 0;     // set before the first issue()
  std::atomic<std::uint64_t> impossible_{0};
};

int fail(int code, const std::string& message) {
  std::cerr << "phalanx-chaos-client: " << message << "\n";
  return code;
}

int check(const adversary::KvHistory& history) {
  auto started = std::chrono::steady_clock::now();
  adversary::LinearizabilityReport report = adversary::check_linearizability(history);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::cout << to_string(report.verdict) << ": " << report.operations << " operations ("
            << report.incomplete_operations << " without a reply), " << report.keys << " keys, "
            << report.states_explored << " states explored, " << ms << " ms\n";
  if (!report.explanation.empty()) std::cout << report.explanation << "\n";
  switch (report.verdict) {
    case adversary::Linearizability::kLinearizable:
      return 0;
    case adversary::Linearizability::kNotLinearizable:
      return 1;
    case adversary::Linearizability::kUnknown:
      return 5;
  }
  return 5;
}

int run(const Settings& settings) {
  auto config = pbft::load_cluster_config(settings.config_path);
  if (!config.ok()) return fail(2, config.error().message);
  if (config.value().clients.empty()) return fail(2, "no client in " + settings.config_path);
  auto secret = pbft::load_client_key(config.value(), settings.client_name.empty()
                                                          ? config.value().clients[0].name
                                                          : settings.client_name);
  if (!secret.ok()) return fail(2, secret.error().message);
  auto security = settings.plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  auto transport = node::client_transport(config.value(), secret.value(), security);
  if (!transport.ok()) return fail(3, transport.error().message);
  pbft::ClientSettings client_settings = node::client_settings(config.value());
  client_settings.timeout = std::chrono::milliseconds(settings.timeout_ms);
  client_settings.identities = settings.workers;
  pbft::Client client(client_settings, std::move(secret).value(), std::move(transport).value());

  Workload workload(client, settings);
  auto started = std::chrono::steady_clock::now();
  workload.run();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  adversary::KvHistory history = workload.history();
  std::size_t completed = 0;
  for (const auto& operation : history.operations) completed += operation.completed();
  std::cout << "operations=" << history.operations.size() << " completed=" << completed
            << " without_reply=" << history.operations.size() - completed << " seconds=" << seconds
            << " throughput="
            << static_cast<std::uint64_t>(static_cast<double>(completed) / seconds) << "/s\n";
  if (Status saved = adversary::save_kv_history(history, settings.out_path); !saved.ok())
    return fail(2, saved.error().message);
  if (workload.impossible_replies() > 0)
    return fail(4, std::to_string(workload.impossible_replies()) +
                       " replies no correct store gives (a put or del not ok, or undecodable)");
  return settings.check ? check(history) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"phalanx-chaos-client: random KV operations, recorded as a history"};
  app.add_option("--config", settings.config_path, "the cluster file")->required();
  app.add_option("--out", settings.out_path, "where to write the history")->required();
  app.add_option("--client", settings.client_name, "client name in the cluster file");
  app.add_option("--seconds", settings.seconds, "how long")->check(CLI::Range(0.1, 86400.0));
  app.add_option("--workers", settings.workers, "clients with one request in flight each")
      ->check(CLI::Range(1, 256));
  app.add_option("--keys", settings.keys, "keys k0..kK-1")->check(CLI::Range(1, 100'000));
  app.add_option("--timeout-ms", settings.timeout_ms, "a request's deadline")
      ->check(CLI::Range(10, 600'000));
  app.add_option("--seed", settings.seed, "seed of the operations drawn");
  app.add_flag("--plaintext", settings.plaintext, "no CurveZMQ (a cluster run with --plaintext)");
  app.add_flag("--check", settings.check, "check the history for linearizability at the end");
  CLI11_PARSE(app, argc, argv);
  return run(settings);
}
