#pragma once
// adversary::ByzantineTransport: a Behaviour (behaviour.h) in a real process. It wraps the
// replica's transport: every message the node sends to another replica goes through the
// behaviour's on_send (which may drop, replace, multiply or delay it); every message that
// arrives is shown to on_receive once it passes the edge checks (with the cluster's
// verifier); and the behaviour's own messages (on_tick) leave when its clock says. Delayed
// and own messages are sent from receive(), which a node calls at least every
// NodeOptions::idle_wait_max (10 ms): that is their time resolution. Replies to clients
// pass unchanged.
// Thread-safety: as net::Transport, provided one thread sends and receives (a node's
// protocol thread does); the behaviour is called from that thread only.

#include <chrono>
#include <memory>
#include <queue>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::adversary {

class ByzantineTransport final : public net::Transport {
 public:
  // `verifier`: the cluster's (for on_receive); `self`: this replica's id.
  ByzantineTransport(std::unique_ptr<net::Transport> inner, std::unique_ptr<Behaviour> behaviour,
                     pbft::Verifier verifier, pbft::ReplicaId self);

  bool send_to_node(net::NodeId to, net::SharedBytes bytes) override;
  bool send_to_connection(std::uint64_t connection, net::SharedBytes bytes) override {
    return inner_->send_to_connection(connection, std::move(bytes));
  }
  std::size_t receive(std::vector<net::Inbound>& out, std::size_t max,
                      std::chrono::milliseconds timeout) override;
  net::TransportStats stats() const override { return inner_->stats(); }
  void wake() override { inner_->wake(); }

 private:
  struct Delayed {
    pbft::Instant due = 0;
    std::uint64_t order = 0;
    net::NodeId to = 0;
    net::SharedBytes bytes;
    bool operator>(const Delayed& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };

  pbft::Instant now() const;
  void send_due();

  std::unique_ptr<net::Transport> inner_;
  std::unique_ptr<Behaviour> behaviour_;
  pbft::Verifier verifier_;
  pbft::ReplicaId self_;
  std::chrono::steady_clock::time_point origin_ = std::chrono::steady_clock::now();
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  std::uint64_t next_order_ = 0;
  // A broadcast is one message sent to each peer: decoded once.
  net::SharedBytes decoded_bytes_;
  wire::Envelope decoded_;
};

}  // namespace phalanx::adversary
