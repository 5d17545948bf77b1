#include "phalanx/adversary/byzantine_transport.h"

namespace phalanx::adversary {

ByzantineTransport::ByzantineTransport(std::unique_ptr<net::Transport> inner,
                                       std::unique_ptr<Behaviour> behaviour,
                                       pbft::Verifier verifier, pbft::ReplicaId self)
    : inner_(std::move(inner)),
      behaviour_(std::move(behaviour)),
      verifier_(std::move(verifier)),
      self_(self) {}

pbft::Instant ByzantineTransport::now() const {
  return static_cast<pbft::Instant>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now() - origin_)
                                        .count());
}

bool ByzantineTransport::send_to_node(net::NodeId to, net::SharedBytes bytes) {
  if (decoded_bytes_ != bytes) {
    if (!decoded_.ParseFromString(*bytes)) decoded_.Clear();
    decoded_bytes_ = bytes;
  }
  bool sent = true;
  for (auto& emission : behaviour_->on_send(to, bytes, decoded_)) {
    if (emission.delay == 0) {
      sent = inner_->send_to_node(to, std::move(emission.bytes)) && sent;
    } else {
      delayed_.push(Delayed{now() + emission.delay, next_order_++, to, std::move(emission.bytes)});
    }
  }
  return sent;
}

// What is due: delayed messages, then the behaviour's own.
void ByzantineTransport::send_due() {
  pbft::Instant current = now();
  while (!delayed_.empty() && delayed_.top().due <= current) {
    inner_->send_to_node(delayed_.top().to, delayed_.top().bytes);
    delayed_.pop();
  }
  if (behaviour_->next_tick() > current) return;
  for (const auto& outbound : behaviour_->on_tick(current)) {
    if (outbound.to) {
      inner_->send_to_node(*outbound.to, outbound.bytes);
      continue;
    }
    for (net::NodeId to = 0; to < verifier_.quorums().n; ++to)
      if (to != self_) inner_->send_to_node(to, outbound.bytes);
  }
}

std::size_t ByzantineTransport::receive(std::vector<net::Inbound>& out, std::size_t max,
                                        std::chrono::milliseconds timeout) {
  send_due();
  std::size_t before = out.size();
  std::size_t received = inner_->receive(out, max, timeout);
  for (std::size_t i = before; i < out.size(); ++i) {
    pbft::Opened opened = pbft::open_envelope(out[i].bytes, verifier_, pbft::Audience::kReplica);
    if (opened.ok()) behaviour_->on_receive(*opened.message->envelope);
  }
  send_due();
  return received;
}

}  // namespace phalanx::adversary
