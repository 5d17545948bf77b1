#include "phalanx/adversary/byzantine_transport.h"

namespace phalanx::adversary {

bool ByzantineTransport::send_to_node(net::NodeId to, net::SharedBytes bytes) {
  if (decoded_bytes_ != bytes) {
    if (!decoded_.ParseFromString(*bytes)) decoded_.Clear();
    decoded_bytes_ = bytes;
  }
  bool sent = true;
  for (auto& emission : behaviour_->on_send(to, bytes, decoded_))
    sent = inner_->send_to_node(to, std::move(emission.bytes)) && sent;
  return sent;
}

}  // namespace phalanx::adversary
