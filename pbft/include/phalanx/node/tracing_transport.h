#pragma once
// node::TracingTransport: records the messages a replica sends and receives during its
// first seconds, for a message sequence chart of a real cluster (phalanx-msc draws one
// from the replicas' trace files; scripts/demo leaves one).
//
// The file starts with "# replica <id> <role>" and has one line per message:
//   <unix µs> send|recv <self> <peer> <KIND> <view|-> <seq|-> <id>
// <peer> is a replica id, or c<connection> for a client; <id> is the first 16 hex digits
// of BLAKE2b over the message's bytes, which pairs a send with its receive. Recording
// stops after `duration` (and the file is closed): tracing costs a hash per message.
//
// Thread-safety: as net::Transport (any thread); lines are written under a mutex.
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/types.h"

namespace phalanx::node {

class TracingTransport final : public net::Transport {
 public:
  static Result<std::unique_ptr<TracingTransport>> open(std::unique_ptr<net::Transport> inner,
                                                        pbft::ReplicaId self,
                                                        const std::string& role,
                                                        const std::string& path,
                                                        std::chrono::milliseconds duration);
  ~TracingTransport() override;

  bool send_to_node(net::NodeId to, net::SharedBytes bytes) override;
  bool send_to_connection(std::uint64_t connection, net::SharedBytes bytes) override;
  std::size_t receive(std::vector<net::Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override;
  net::TransportStats stats() const override { return inner_->stats(); }
  void wake() override { inner_->wake(); }

 private:
  TracingTransport(std::unique_ptr<net::Transport> inner, pbft::ReplicaId self, std::FILE* file,
                   std::chrono::milliseconds duration);
  void record(const char* direction, const std::string& peer, const std::string& bytes);

  std::unique_ptr<net::Transport> inner_;
  pbft::ReplicaId self_;
  std::chrono::steady_clock::time_point until_;
  std::mutex mutex_;
  std::FILE* file_;  // guarded by mutex_; null once recording ended
};

}  // namespace phalanx::node
