#include "phalanx/node/metrics_server.h"

#include <httplib.h>

namespace phalanx::node {

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, int port,
                                                            Node& node) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->server_ = std::make_unique<httplib::Server>();
  server->server_->Get("/metrics", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(node.metrics().render(), "text/plain; version=0.0.4");
  });
  server->server_->Get("/status", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(node.status_json(), "application/json");
  });
  server->port_ = port == 0 ? server->server_->bind_to_any_port(host.c_str())
                            : (server->server_->bind_to_port(host.c_str(), port) ? port : -1);
  if (server->port_ < 0)
    return Error{"metrics: cannot listen on " + host + ":" + std::to_string(port) +
                 " (port in use?)"};
  server->thread_ = std::thread([raw = server->server_.get()] { raw->listen_after_bind(); });
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace phalanx::node
