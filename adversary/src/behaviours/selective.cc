// selective: a replica that talks only to the replicas in `talks_to` (and to clients only
// with clients=true), hearing everyone: its votes count at some replicas and not at others,
// and as the primary it starves part of the cluster, which must then learn what it missed
// by retransmission or replace it.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

class Selective final : public Behaviour {
 public:
  Selective(BehaviourContext context, std::set<pbft::ReplicaId> talks_to, bool clients)
      : Behaviour(std::move(context)), talks_to_(std::move(talks_to)), clients_(clients) {}
  std::string_view name() const override { return "selective"; }

  Emissions on_send(net::NodeId to, const net::SharedBytes& bytes, const wire::Envelope&) override {
    bool heard =
        to < context().replicas ? talks_to_.count(static_cast<pbft::ReplicaId>(to)) != 0 : clients_;
    if (!heard) return {};
    return {{bytes}};
  }

 private:
  std::set<pbft::ReplicaId> talks_to_;
  bool clients_;
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_selective(BehaviourContext context) {
  behaviours::Params params(context);
  auto talks_to = params.replicas("talks_to", std::nullopt);
  bool clients = params.flag("clients", false);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(
      std::make_unique<Selective>(std::move(context), std::move(talks_to), clients));
}

}  // namespace phalanx::adversary
