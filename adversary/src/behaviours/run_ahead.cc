// run-ahead: a primary that, besides each PRE-PREPARE it sends, sends a copy for a sequence
// number `ahead` further on (validly signed, its digest matching its batch): proposals far
// above the high watermark, which a backup must refuse (PBFT 4.2: only [h, h + L] is
// accepted), or a faulty primary could make it hold an unbounded log.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

class RunAhead final : public Behaviour {
 public:
  RunAhead(BehaviourContext context, std::uint64_t ahead)
      : Behaviour(std::move(context)), ahead_(ahead) {}
  std::string_view name() const override { return "run-ahead"; }

  Emissions on_send(net::NodeId to, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    if (to >= context().replicas || envelope.kind() != wire::PRE_PREPARE ||
        !behaviours::signed_by(envelope, context().id))
      return {{bytes}};
    auto batch = behaviours::parse<wire::PrePrepare>(envelope.payload());
    if (!batch) return {{bytes}};
    batch->set_seq(batch->seq() + ahead_);
    return {{bytes}, {reseal(wire::PRE_PREPARE, pbft::encode(*batch))}};
  }

 private:
  std::uint64_t ahead_;
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_run_ahead(BehaviourContext context) {
  behaviours::Params params(context);
  std::uint64_t ahead = params.number("ahead", 10'000, 1, std::uint64_t{1} << 40);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(std::make_unique<RunAhead>(std::move(context), ahead));
}

}  // namespace phalanx::adversary
