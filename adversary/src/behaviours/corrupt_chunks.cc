// corrupt-chunks: a replica that serves state transfer with lies. Each STATE_CHUNK it
// sends has one byte of its data flipped, then is signed again with the replica's own
// key: the signature is good, only the Merkle proof against the certified checkpoint
// digest gives it away (state_transfer.cc), and the fetcher must move to another peer.
// Everything else it sends is honest.
#include "behaviours/behaviours.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::adversary {
namespace {

class CorruptChunks final : public Behaviour {
 public:
  using Behaviour::Behaviour;
  std::string_view name() const override { return "corrupt-chunks"; }

  Emissions on_send(net::NodeId, const net::SharedBytes& bytes,
                    const wire::Envelope& envelope) override {
    wire::StateChunk chunk;
    if (envelope.kind() != wire::STATE_CHUNK || !chunk.ParseFromString(envelope.payload()) ||
        chunk.data().empty())
      return {{bytes}};
    std::string& data = *chunk.mutable_data();
    data[rng().uniform(0, data.size() - 1)] ^= static_cast<char>(1u << rng().uniform(0, 7));
    return {{reseal(wire::STATE_CHUNK, pbft::encode(chunk))}};
  }
};

}  // namespace

Result<std::unique_ptr<Behaviour>> make_corrupt_chunks(BehaviourContext context) {
  behaviours::Params params(context);
  if (auto error = params.error()) return *error;
  return std::unique_ptr<Behaviour>(std::make_unique<CorruptChunks>(std::move(context)));
}

}  // namespace phalanx::adversary
