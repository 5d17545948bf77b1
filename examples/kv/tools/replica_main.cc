// The command line of phalanx-replica (and, with hooks, of phalanx-byzantine-replica).
//
//   phalanx-replica --config cluster.toml --id N [--data-dir DIR] [--rejoin]
//                   [--storage disk|memory] [--log-level info] [--plaintext]
//                   [--metrics-port P] [--trace FILE [--trace-seconds S]]
//                   [--inject-faults SPEC]
//   phalanx-replica --config cluster.toml --id N [--data-dir DIR] --inspect [--expect FILE]
//
// The replica keeps what it signed and committed in DIR (default: data/replica-N beside
// the cluster file) and recovers from it when it restarts (docs/storage.md). --rejoin
// moves an untrustworthy DIR aside and rejoins by state transfer, not voting until that
// is safe. --storage memory keeps nothing on disk: faster, but such a replica must be
// restarted with --rejoin. --inspect recovers the state from DIR offline, prints it as
// JSON and exits; with --expect it also checks that every "KEY VALUE_BYTES" line of FILE
// (phalanx-client bench --ack-log) is in the state.
//
// --trace records the messages of the first S seconds (default 3) to FILE, for
// phalanx-msc's message sequence chart (node/tracing_transport.h).
//
// --inject-faults delays, loses and duplicates this replica's messages as SPEC says
// (net/fault_injecting_transport.h), for tests with real processes where the kernel has
// no netem. Testing only: it makes the replica a bad network's endpoint on purpose.
//
// Stops gracefully on SIGTERM or SIGINT. Exit codes: 0 stopped on a signal (or inspected),
// 2 bad configuration or key, 3 could not bind, 4 stopped by an error (see the log),
// 5 the data directory cannot be trusted (the message names the file and offset),
// 6 --expect found keys missing from the state.
#include "replica_main.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/net/fault_injecting_transport.h"
#include "phalanx/node/cluster.h"
#include "phalanx/node/metrics_server.h"
#include "phalanx/node/tracing_transport.h"
#include "phalanx/storage/log_storage.h"

namespace phalanx::examples {
namespace {

// Blocks SIGINT/SIGTERM in every thread (call before any thread starts) and waits for
// them on a thread of its own, which asks the node to stop.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }
  void watch(node::Node& node) {
    thread_ = std::thread([this, &node] {
      int signal = 0;
      sigwait(&signals_, &signal);
      spdlog::info("signal {}: stopping", signal);
      node.stop();
    });
    thread_.detach();  // it ends with the process
  }

 private:
  sigset_t signals_;
  std::thread thread_;
};

int fail(int code, const std::string& message) {
  std::cerr << "phalanx-replica: " << message << "\n";
  return code;
}

std::unique_ptr<storage::LogStorage> disk_storage(const pbft::ClusterConfig& config,
                                                  pbft::ReplicaId id, const std::string& dir) {
  storage::LogStorageOptions options;
  options.dir = dir;
  options.identity = "cluster=" + config.cluster_id + " replica=" + std::to_string(id);
  options.on_notice = [](const std::string& notice) { spdlog::warn("storage: {}", notice); };
  options.background_snapshots = true;  // a 64 MiB state must not stall the protocol thread
  return std::make_unique<storage::LogStorage>(std::make_shared<storage::PosixFileSystem>(),
                                               std::move(options));
}

// --inspect: the state as recovered from the data directory, without the network.
int inspect(const pbft::ClusterConfig& config, pbft::ReplicaId id, crypto::SecretKey key,
            const std::string& dir, const std::string& expect_path,
            pbft::Application& application) {
  auto storage = disk_storage(config, id, dir);
  auto state = storage->load();
  if (!state.ok()) return fail(5, state.error().message);
  const auto* kv = dynamic_cast<const examples::KvApplication*>(&application);
  if (!expect_path.empty() && kv == nullptr)
    return fail(2, "--expect checks the key-value store's state only");
  pbft::ReplicaSetup setup{node::node_options(config, id).verifier, id, std::move(key),
                           config.replica_options};
  setup.wall_clock = [] { return pbft::UnixMillis{1}; };  // nothing is proposed offline
  pbft::Replica replica(std::move(setup), application, 0);
  if (!state.value().empty()) {
    auto recovered = replica.recover(state.value(), 1);  // its actions are not carried out
    if (!recovered.ok()) return fail(5, recovered.error().message);
  }
  pbft::ReplicaStatus status = replica.status();
  std::size_t expected = 0, missing = 0;
  if (!expect_path.empty()) {
    std::ifstream lines(expect_path);
    if (!lines) return fail(2, "cannot read " + expect_path);
    std::string name;
    std::size_t value_bytes = 0;
    while (lines >> name >> value_bytes) {
      ++expected;
      auto found = kv->entries().find(name);
      if (found == kv->entries().end() || found->second != std::string(value_bytes, 'v')) {
        if (missing++ < 10) std::cerr << "phalanx-replica: missing " << name << "\n";
      }
    }
  }
  std::cout << "{\"id\":" << id << ",\"view\":" << status.view
            << ",\"last_executed\":" << status.last_executed
            << ",\"stable_seq\":" << status.stable_seq
            << ",\"rejoining\":" << (status.rejoining ? "true" : "false") << ",\"state_digest\":\""
            << crypto::blake2b(application.snapshot()).hex() << "\"";
  if (kv) std::cout << ",\"entries\":" << kv->entries().size();
  if (!expect_path.empty()) std::cout << ",\"expected\":" << expected << ",\"missing\":" << missing;
  std::cout << "}\n";
  return missing == 0 ? 0 : 6;
}

}  // namespace

int replica_main(int argc, char** argv, const ReplicaHooks& hooks) {
  CLI::App app{hooks.description.empty() ? "Runs one replica of the Phalanx key-value store."
                                         : hooks.description};
  std::string config_path;
  std::uint32_t id = 0;
  std::string log_level = "info";
  bool plaintext = false;
  int metrics_port = -1;
  std::string data_dir;
  std::string storage_kind = "disk";
  bool rejoin = false;
  bool inspect_only = false;
  std::string expect_path;
  std::string trace_path;
  double trace_seconds = 3;
  std::string faults_spec;
  double connection_rate = node::NodeOptions{}.connection_messages_per_second;
  app.add_option("--config", config_path, "cluster file (written by phalanx-keygen)")->required();
  app.add_option("--id", id, "this replica's id in the cluster file")->required();
  app.add_option("--data-dir", data_dir,
                 "where this replica keeps its durable state (default: data/replica-N beside "
                 "the cluster file)");
  app.add_option("--storage", storage_kind, "disk (durable) or memory (nothing survives a restart)")
      ->check(CLI::IsMember({"disk", "memory"}));
  app.add_flag("--rejoin", rejoin,
               "move the data directory's contents aside and rejoin by state transfer, not "
               "voting until it is safe (after corruption, or with --storage memory)");
  app.add_flag("--inspect", inspect_only,
               "print the state recovered from the data directory and exit");
  app.add_option("--expect", expect_path,
                 "with --inspect: check every 'KEY VALUE_BYTES' line of this file is in the state");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_flag("--plaintext", plaintext, "no CurveZMQ link encryption (all replicas must agree)");
  app.add_option("--metrics-port", metrics_port,
                 "HTTP port for /metrics and /status (0: any; default: the config's)");
  app.add_option("--trace", trace_path,
                 "record the first seconds' messages to this file (for phalanx-msc)");
  app.add_option("--trace-seconds", trace_seconds, "how long --trace records")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--inject-faults", faults_spec,
                 "for testing: delay, lose, duplicate messages, e.g. "
                 "delay=5ms,jitter=10ms,loss=0.05,dup=0.01,seed=7");
  app.add_option("--connection-messages-per-second", connection_rate,
                 "what one connection may send; the excess is dropped unread (docs/limits.md)")
      ->check(CLI::Range(1.0, 1e9));
  if (hooks.add_options) hooks.add_options(app);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  std::optional<net::FaultInjection> faults;
  if (!faults_spec.empty()) {
    auto parsed = net::parse_fault_injection(faults_spec);
    if (!parsed.ok()) return fail(2, "--inject-faults: " + parsed.error().message);
    faults = parsed.value();
  }

  auto config = pbft::load_cluster_config(config_path);
  if (!config.ok()) return fail(2, config.error().message);
  if (hooks.adjust_options) hooks.adjust_options(config.value().replica_options);
  if (id >= config.value().replicas.size())
    return fail(2, "--id " + std::to_string(id) + " is not a replica of " + config_path);
  auto key = pbft::load_replica_key(config.value(), id);
  if (!key.ok()) return fail(2, key.error().message);
  if (data_dir.empty())
    data_dir = config.value().resolve_path("data/replica-" + std::to_string(id));
  auto make_application =
      [&](const std::string& dir) -> Result<std::unique_ptr<pbft::Application>> {
    if (!hooks.make_application)
      return std::unique_ptr<pbft::Application>(std::make_unique<examples::KvApplication>());
    return hooks.make_application(config.value(), id, dir);
  };
  if (inspect_only) {
    auto application = make_application("");  // offline: it keeps nothing on disk
    if (!application.ok()) return fail(2, application.error().message);
    return inspect(config.value(), id, std::move(key).value(), data_dir, expect_path,
                   *application.value());
  }

  std::unique_ptr<storage::Storage> storage;
  if (storage_kind == "memory") {
    storage = std::make_unique<storage::MemoryStorage>();
  } else {
    if (rejoin) {
      storage::PosixFileSystem file_system;
      auto moved = storage::discard_state(file_system, data_dir);
      if (!moved.ok()) return fail(5, moved.error().message);
      if (!moved.value().empty())
        spdlog::warn("--rejoin: moved the previous state of {} to {}", data_dir, moved.value());
    }
    storage = disk_storage(config.value(), id, data_dir);
    spdlog::info("data directory {}", data_dir);
  }

  // After --rejoin moved the directory's contents aside: the application may keep files
  // of its own there.
  auto application = make_application(storage_kind == "memory" ? "" : data_dir);
  if (!application.ok()) return fail(2, application.error().message);

  SignalWatcher signals;  // before any thread starts
  auto security = plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  auto transport = node::replica_transport(config.value(), id, key.value(), security);
  if (!transport.ok()) return fail(3, transport.error().message);
  std::unique_ptr<net::Transport> wire = std::move(transport).value();
  net::FaultInjectingTransport* fault_injection = nullptr;  // owned by the node, via `wire`
  if (faults) {  // next to the sockets: the trace then shows what the replica meant to send
    auto injecting = std::make_unique<net::FaultInjectingTransport>(std::move(wire), *faults, id);
    fault_injection = injecting.get();
    wire = std::move(injecting);
    spdlog::warn("--inject-faults (testing only): {} (stream {} of the seed)",
                 net::describe(*faults), id);
  }
  if (!trace_path.empty()) {  // inside the hooks' wrapper: it records what really leaves
    auto traced = node::TracingTransport::open(
        std::move(wire), id, hooks.role ? hooks.role() : "honest", trace_path,
        std::chrono::milliseconds(static_cast<std::int64_t>(trace_seconds * 1000)));
    if (!traced.ok()) return fail(2, traced.error().message);
    wire = std::move(traced).value();
  }
  if (hooks.wrap_transport) {
    auto wrapped = hooks.wrap_transport(std::move(wire), config.value(), id, key.value());
    if (!wrapped.ok()) return fail(2, wrapped.error().message);
    wire = std::move(wrapped).value();
  }

  node::NodeOptions options = node::node_options(config.value(), id);
  options.rejoin = rejoin;
  options.connection_messages_per_second = connection_rate;
  std::shared_ptr<const net::Clock> clock =
      hooks.make_clock ? hooks.make_clock() : std::make_shared<net::SteadyClock>();
  node::Node replica(std::move(options), std::move(key).value(), *application.value(),
                     std::move(wire), std::move(storage), std::move(clock));
  if (Status recovered = replica.recover(); !recovered.ok())
    return fail(5, recovered.error().message +
                       " (to recover by state transfer instead, start with --rejoin)");
  const auto& entry = config.value().replicas[id];
  int port = metrics_port >= 0 ? metrics_port
             : entry.metrics_port ? static_cast<int>(*entry.metrics_port)
                                  : -1;
  std::unique_ptr<node::MetricsServer> metrics;
  if (port >= 0) {
    std::string host = node::endpoint_host(entry.endpoint);
    auto started = node::MetricsServer::start(host == "*" ? "0.0.0.0" : host, port, replica);
    if (!started.ok()) return fail(3, started.error().message);
    metrics = std::move(started).value();
    spdlog::info("metrics on http://{}:{}/metrics", host, metrics->port());
  }
  signals.watch(replica);
  Status stopped = replica.run();
  if (fault_injection) {
    net::FaultStats injected = fault_injection->fault_stats();
    spdlog::info(
        "--inject-faults: lost {}, duplicated {}, delayed {}, dropped from a full queue {}",
        injected.lost, injected.duplicated, injected.delayed, injected.overflowed);
  }
  if (!stopped.ok()) return fail(4, stopped.error().message);
  return 0;
}

}  // namespace phalanx::examples
