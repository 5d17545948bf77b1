// replay: a replica that keeps a sample of the messages it received and sent (at most
// kKeptMax, a uniform sample of all it saw) and sends them again later, `per_second` of
// them, each to a random other replica: PRE-PREPAREs, votes and checkpoints of old views
// and sequence numbers, old VIEW-CHANGEs and NEW-VIEWs, state-transfer requests, client
// REQUESTs exactly as received (alone, or in a batch), and one in four signed again for
// another cluster id. A message may go back to the replica that signed it. The replayed
// messages are genuine, so the edge accepts them and the cores must find them stale; the
// re-sealed copies fail their signature (bad_signature). A replayed request must never
// execute twice (S3).
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

constexpr std::size_t kKeptMax = 1000;

class Replay final : public Behaviour {
 public:
  Replay(BehaviourContext context, std::uint64_t per_second, crypto::Signer signer)
      : Behaviour(std::move(context)),
        signer_(std::move(signer)),
        pacer_(per_second),
        foreign_cluster_(behaviours::other_cluster_id(this->context().cluster_id)) {}
  std::string_view name() const override { return "replay"; }

  Emissions on_send(net::NodeId to, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    // Replies are for clients; a replica would refuse them before looking further.
    if (to < context().replicas && envelope.kind() != wire::KIND_UNSPECIFIED) keep(bytes);
    return {{bytes}};
  }

  void on_receive(const wire::Envelope& envelope) override {
    keep(behaviours::share(envelope));
    // The client requests in a batch, as their clients signed them.
    if (envelope.kind() != wire::PRE_PREPARE) return;
    if (auto batch = behaviours::parse<wire::PrePrepare>(envelope.payload()))
      for (const auto& request : batch->requests()) keep(behaviours::share(request));
  }

  std::vector<Outbound> on_tick(pbft::Instant now) override {
    if (!pacer_.due(now) || kept_.empty()) return {};
    net::SharedBytes bytes = kept_[rng().uniform(0, kept_.size() - 1)];
    auto to = behaviours::random_peer(rng(), context().replicas, context().id);
    if (rng().uniform(0, 3) == 0) {
      auto envelope = behaviours::parse_envelope(*bytes);
      if (envelope && envelope->kind() != wire::REQUEST)
        bytes = behaviours::share(pbft::seal(signer_, foreign_cluster_, envelope->kind(),
                                             context().id, envelope->payload()));
    }
    return {Outbound{to, std::move(bytes)}};
  }
  pbft::Instant next_tick() const override { return pacer_.next_tick(); }

 private:
  // Reservoir sampling: after k messages each is kept with probability kKeptMax / k, so
  // the oldest views stay represented however long the run.
  void keep(net::SharedBytes bytes) {
    ++seen_;
    if (kept_.size() < kKeptMax) {
      kept_.push_back(std::move(bytes));
      return;
    }
    std::uint64_t slot = rng().uniform(0, seen_ - 1);
    if (slot < kKeptMax) kept_[slot] = std::move(bytes);
  }

  crypto::Signer signer_;  // the replica's own key, for another cluster's domain
  behaviours::Pacer pacer_;
  std::string foreign_cluster_;
  std::vector<net::SharedBytes> kept_;
  std::uint64_t seen_ = 0;
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_replay(BehaviourContext context) {
  behaviours::Params params(context);
  std::uint64_t per_second = params.number("per_second", 100, 1, behaviours::kPerSecondMax);
  if (auto error = params.error()) return *error;
  crypto::Signer signer(context.key.clone());
  return std::unique_ptr<Behaviour>(
      std::make_unique<Replay>(std::move(context), per_second, std::move(signer)));
}

}  // namespace phalanx::adversary
