// corrupt: a replica whose messages (to replicas and clients) each have, with
// `probability`, one random byte changed after signing, and are not signed again: garbage
// that the receiving edge must reject (a bad signature, a malformed envelope, an unknown
// field...), whichever byte it hits, and never pass to a core.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

class Corrupt final : public Behaviour {
 public:
  Corrupt(BehaviourContext context, double probability)
      : Behaviour(std::move(context)), probability_(probability) {}
  std::string_view name() const override { return "corrupt"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes, const wire::Envelope&) override {
    if (bytes->empty() || !rng().chance(probability_)) return {{bytes}};
    Bytes corrupted = *bytes;
    corrupted[rng().uniform(0, corrupted.size() - 1)] ^= static_cast<char>(rng().uniform(1, 255));
    return {{std::make_shared<const Bytes>(std::move(corrupted))}};
  }

 private:
  double probability_;
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_corrupt(BehaviourContext context) {
  behaviours::Params params(context);
  double probability = params.probability("probability", 0.1);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(std::make_unique<Corrupt>(std::move(context), probability));
}

}  // namespace phalanx::adversary
