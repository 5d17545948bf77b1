#pragma once
// node::MetricsServer: serves a node's Metrics at GET /metrics in the Prometheus text
// format, and its position at GET /status (JSON: view, last executed, stable checkpoint,
// application state digest), on its own thread, using cpp-httplib (a well-kept
// single-header HTTP library packaged by Debian). Anything else is 404.
// Thread-safety: construct and destroy from one thread; Metrics is read concurrently.

#include <memory>
#include <string>
#include <thread>

#include "phalanx/base/result.h"
#include "phalanx/node/metrics.h"
#include "phalanx/node/node.h"

namespace httplib {
class Server;
}

namespace phalanx::node {

class MetricsServer {
 public:
  // Binds host:port and starts serving. An Error says which address could not be bound.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& host, int port,
                                                      Node& node);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace phalanx::node
