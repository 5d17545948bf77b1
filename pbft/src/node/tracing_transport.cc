#include "phalanx/node/tracing_transport.h"

#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::node {

Result<std::unique_ptr<TracingTransport>> TracingTransport::open(
    std::unique_ptr<net::Transport> inner, pbft::ReplicaId self, const std::string& role,
    const std::string& path, std::chrono::milliseconds duration) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return Error{path + ": cannot write the trace file"};
  std::fprintf(file, "# replica %u %s\n", self, role.c_str());
  return std::unique_ptr<TracingTransport>(
      new TracingTransport(std::move(inner), self, file, duration));
}

TracingTransport::TracingTransport(std::unique_ptr<net::Transport> inner, pbft::ReplicaId self,
                                   std::FILE* file, std::chrono::milliseconds duration)
    : inner_(std::move(inner)),
      self_(self),
      until_(std::chrono::steady_clock::now() + duration),
      file_(file) {}

TracingTransport::~TracingTransport() {
  if (file_) std::fclose(file_);
}

void TracingTransport::record(const char* direction, const std::string& peer,
                              const std::string& bytes) {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  if (std::chrono::steady_clock::now() >= until_) {
    std::fclose(file_);
    file_ = nullptr;
    return;
  }
  wire::Envelope envelope;
  bool decoded = envelope.ParseFromString(bytes);
  auto slot = decoded ? pbft::slot_of(envelope) : std::nullopt;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string view = slot ? std::to_string(slot->view) : "-";
  std::string seq = slot ? std::to_string(slot->seq) : "-";
  std::fprintf(file_, "%lld %s %u %s %s %s %s %s\n", static_cast<long long>(micros), direction,
               self_, peer.c_str(), decoded ? wire::Kind_Name(envelope.kind()).c_str() : "JUNK",
               view.c_str(), seq.c_str(), crypto::blake2b(bytes).hex().substr(0, 16).c_str());
}

bool TracingTransport::send_to_node(net::NodeId to, net::SharedBytes bytes) {
  record("send", std::to_string(to), *bytes);
  return inner_->send_to_node(to, std::move(bytes));
}

bool TracingTransport::send_to_connection(std::uint64_t connection, net::SharedBytes bytes) {
  record("send", "c" + std::to_string(connection), *bytes);
  return inner_->send_to_connection(connection, std::move(bytes));
}

std::size_t TracingTransport::receive(std::vector<net::Inbound>& out, std::size_t max,
                                      std::chrono::milliseconds timeout) {
  std::size_t first = out.size();
  std::size_t received = inner_->receive(out, max, timeout);
  for (std::size_t i = first; i < out.size(); ++i) {
    const auto& inbound = out[i];
    record("recv",
           inbound.node ? std::to_string(*inbound.node) : "c" + std::to_string(inbound.connection),
           inbound.bytes);
  }
  return received;
}

}  // namespace phalanx::node
