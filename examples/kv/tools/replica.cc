// phalanx-replica: one replica of the replicated key-value store, as a process.
//
//   phalanx-replica --config cluster.toml --id N [--log-level info] [--plaintext]
//                   [--metrics-port P]
//
// Stops gracefully on SIGTERM or SIGINT. Exit codes: 0 stopped on a signal, 2 bad
// configuration or key, 3 could not bind, 4 stopped by an error (see the log).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "phalanx/examples/kv_application.h"
#include "phalanx/node/cluster.h"
#include "phalanx/node/metrics_server.h"

namespace {

using namespace phalanx;

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs one replica of the Phalanx key-value store."};
  std::string config_path;
  std::uint32_t id = 0;
  std::string log_level = "info";
  bool plaintext = false;
  int metrics_port = -1;
  app.add_option("--config", config_path, "cluster file (written by phalanx-keygen)")->required();
  app.add_option("--id", id, "this replica's id in the cluster file")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_flag("--plaintext", plaintext, "no CurveZMQ link encryption (all replicas must agree)");
  app.add_option("--metrics-port", metrics_port,
                 "HTTP port for /metrics and /status (0: any; default: the config's)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  auto config = pbft::load_cluster_config(config_path);
  if (!config.ok()) return fail(2, config.error().message);
  if (id >= config.value().replicas.size())
    return fail(2, "--id " + std::to_string(id) + " is not a replica of " + config_path);
  auto key = pbft::load_replica_key(config.value(), id);
  if (!key.ok()) return fail(2, key.error().message);

  SignalWatcher signals;  // before any thread starts
  auto security = plaintext ? node::LinkSecurity::kPlaintext : node::LinkSecurity::kCurve;
  auto transport = node::replica_transport(config.value(), id, key.value(), security);
  if (!transport.ok()) return fail(3, transport.error().message);

  examples::KvApplication kv;
  node::Node replica(node::node_options(config.value(), id), std::move(key).value(), kv,
                     std::move(transport).value(), std::make_unique<node::MemoryStorage>());
  const auto& entry = config.value().replicas[id];
  int port = metrics_port >= 0 ? metrics_port : entry.metrics_port.value_or(-1);
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
  if (!stopped.ok()) return fail(4, stopped.error().message);
  return 0;
}
