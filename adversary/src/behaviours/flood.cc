// flood: a replica that, besides its honest messages, sends `per_second` messages of its
// own to every other replica:
// - junk: random byte strings of 1 byte to 4 KiB, which the edge rejects;
// - useless: validly signed messages within the wire's bounds that the protocol has no use
//   for: STATUS claiming a far-future view and sequence numbers, CHECKPOINTs far above any
//   window, FETCH_STATE for chunks that do not exist.
// What it costs the others must stay bounded (signature checks, a counted drop each), and
// the cluster must keep going at its pace.
#include "behaviours/behaviours.h"

namespace phalanx::adversary {
namespace {

constexpr std::size_t kJunkBytesMax = 4096;
// Far-future views and sequence numbers: far above anything a run reaches, within the
// wire's bounds (pbft/limits.h: 2^62).
constexpr std::uint64_t kFarFuture = std::uint64_t{1} << 40;
constexpr std::uint64_t kWireMax = std::uint64_t{1} << 62;
constexpr std::uint64_t kChunkIndexFar = std::uint64_t{1} << 31;

class Flood final : public Behaviour {
 public:
  Flood(BehaviourContext context, std::uint64_t per_second, std::set<std::string> mix)
      : Behaviour(std::move(context)), pacer_(per_second), mix_(mix.begin(), mix.end()) {}
  std::string_view name() const override { return "flood"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes, const wire::Envelope&) override {
    return {{bytes}};
  }

  void on_receive(const wire::Envelope& envelope) override {
    if (envelope.kind() != wire::STATUS) return;
    if (auto status = behaviours::parse<wire::Status>(envelope.payload()))
      stable_seq_ = std::max(stable_seq_, status->stable_seq());
  }

  std::vector<Outbound> on_tick(pbft::Instant now) override {
    if (!pacer_.due(now)) return {};
    const std::string& kind = mix_[rng().uniform(0, mix_.size() - 1)];
    if (kind == "junk")
      return {Outbound{std::nullopt, std::make_shared<const Bytes>(behaviours::random_bytes(
                                         rng(), rng().uniform(1, kJunkBytesMax)))}};
    return {Outbound{std::nullopt, useless()}};
  }
  pbft::Instant next_tick() const override { return pacer_.next_tick(); }

 private:
  net::SharedBytes useless() {
    switch (rng().uniform(0, 2)) {
      case 0: {
        wire::Status status;
        status.set_view(rng().uniform(kFarFuture, kWireMax));
        status.set_view_changing(rng().chance(0.5));
        status.set_last_executed(rng().uniform(kFarFuture, kWireMax));
        status.set_stable_seq(rng().uniform(kFarFuture, kWireMax));
        return reseal(wire::STATUS, pbft::encode(status));
      }
      case 1: {
        // A multiple of 2^20, so on the checkpoint interval of any cluster whose interval
        // is a power of two up to that: it is refused as far above the window, not as off
        // the interval.
        wire::Checkpoint checkpoint;
        checkpoint.set_seq(rng().uniform(kFarFuture >> 20, kWireMax >> 20) << 20);
        checkpoint.set_state_digest(behaviours::random_bytes(rng(), crypto::Digest::kSize));
        checkpoint.set_state_size(rng().uniform(0, kFarFuture));
        return reseal(wire::CHECKPOINT, pbft::encode(checkpoint));
      }
      default: {
        // A checkpoint the peers hold (the latest stable one it heard of), a chunk far
        // beyond its end.
        wire::FetchState fetch;
        fetch.set_seq(std::max<pbft::Seq>(1, stable_seq_));
        fetch.set_chunk_index(
            static_cast<std::uint32_t>(rng().uniform(kChunkIndexFar, UINT32_MAX)));
        return reseal(wire::FETCH_STATE, pbft::encode(fetch));
      }
    }
  }

  behaviours::Pacer pacer_;
  std::vector<std::string> mix_;
  pbft::Seq stable_seq_ = 0;  // the highest stable checkpoint a peer reported
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_flood(BehaviourContext context) {
  behaviours::Params params(context);
  std::uint64_t per_second = params.number("per_second", 2000, 1, behaviours::kPerSecondMax);
  auto mix = params.subset("mix", {"junk", "useless"});
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(
      std::make_unique<Flood>(std::move(context), per_second, std::move(mix)));
}

}  // namespace phalanx::adversary
