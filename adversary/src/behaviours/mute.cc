// mute: a replica whose core runs but of which nothing is heard, by replicas or clients:
// a crash that its peers cannot tell from a slow network. f of them must be tolerated; as
// the primary it is replaced by a view change.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

class Mute final : public Behaviour {
 public:
  using Behaviour::Behaviour;
  std::string_view name() const override { return "mute"; }
  Emissions on_send(net::NodeId, const net::SharedBytes&, const wire::Envelope&) override {
    return {};
  }
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_mute(BehaviourContext context) {
  behaviours::Params params(context);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(std::make_unique<Mute>(std::move(context)));
}

}  // namespace phalanx::adversary
