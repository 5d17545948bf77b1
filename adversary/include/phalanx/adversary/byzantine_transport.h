#pragma once
// adversary::ByzantineTransport: a Behaviour (behaviour.h) in a real process. It wraps the
// replica's transport and passes every message the node sends to another replica through
// the behaviour; replies to clients and everything received pass unchanged.
// Thread-safety: as net::Transport, provided one thread sends (a node's protocol thread
// does); the behaviour is called from that thread only.

#include <memory>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/net/transport.h"

namespace phalanx::adversary {

class ByzantineTransport final : public net::Transport {
 public:
  ByzantineTransport(std::unique_ptr<net::Transport> inner, std::unique_ptr<Behaviour> behaviour)
      : inner_(std::move(inner)), behaviour_(std::move(behaviour)) {}

  bool send_to_node(net::NodeId to, net::SharedBytes bytes) override;
  bool send_to_connection(std::uint64_t connection, net::SharedBytes bytes) override {
    return inner_->send_to_connection(connection, std::move(bytes));
  }
  std::size_t receive(std::vector<net::Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override {
    return inner_->receive(out, max, timeout);
  }
  net::TransportStats stats() const override { return inner_->stats(); }

 private:
  std::unique_ptr<net::Transport> inner_;
  std::unique_ptr<Behaviour> behaviour_;
  // A broadcast is one message sent to each peer: decoded once.
  net::SharedBytes decoded_bytes_;
  wire::Envelope decoded_;
};

}  // namespace phalanx::adversary
