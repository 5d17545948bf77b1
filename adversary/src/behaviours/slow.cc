// slow: a primary that holds each PRE-PREPARE it sends for `delay_ms` before it leaves;
// everything else, its votes included, leaves on time. Below the view-change timeout it
// only slows the cluster down (the PBFT paper's "performance attack"); above it, it is
// replaced.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

class Slow final : public Behaviour {
 public:
  Slow(BehaviourContext context, pbft::Instant delay)
      : Behaviour(std::move(context)), delay_(delay) {}
  std::string_view name() const override { return "slow"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (envelope.kind() != wire::PRE_PREPARE || !behaviours::signed_by(envelope, context().id))
      return {{bytes}};
    return {{bytes, delay_}};
  }

 private:
  pbft::Instant delay_;  // nanoseconds
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_slow(BehaviourContext context) {
  behaviours::Params params(context);
  std::uint64_t delay_ms = params.number("delay_ms", 250, 0, 600'000);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(
      std::make_unique<Slow>(std::move(context), delay_ms * pbft::kMillisecond));
}

}  // namespace phalanx::adversary
