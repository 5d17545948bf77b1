#pragma once
// adversary::Behaviour: what makes a replica Byzantine. The replica runs the honest core
// (pbft::Replica, unchanged); a Behaviour sits between the core and the network and
// decides, per message and per destination, what actually leaves: the message as it is,
// nothing, or other messages. It holds the replica's own key, so what it makes is
// validly signed: the lies are the replica's, not forgeries a signature check would
// catch. (Wrapping the honest core at the communication seam, as concord-bft's
// WrapCommunication does: no Byzantine code in pbft/.)
//
// The same Behaviour object runs in the simulator (SimCluster::set_send_rewriter) and in
// a real process (ByzantineTransport, phalanx-byzantine-replica). Every random choice
// comes from the seed in its context, so a simulated run still replays from its seed.
//
// Thread-safety: none; one thread (the simulator, or a node's protocol thread) calls it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx.pb.h"
#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/net/rng.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/types.h"

namespace phalanx::adversary {

// Who the Byzantine replica is, and the behaviour's parameters (from a scenario file's
// [byzantine.params] table or --byzantine-param KEY=VALUE), as text: each behaviour
// parses its own and make_behaviour reports a bad or unknown one as an Error.
struct BehaviourContext {
  pbft::ReplicaId id = 0;
  std::uint32_t replicas = 4;
  std::string cluster_id;
  crypto::SecretKey key;  // the replica's own
  std::uint64_t seed = 1;
  std::map<std::string, std::string> params;
};

// A message to send in place of the one the core sent (to the same destination), now or
// after a delay.
struct Emission {
  net::SharedBytes bytes;
  pbft::Instant delay = 0;  // nanoseconds
};
using Emissions = std::vector<Emission>;

// A message of the behaviour's own making, to one replica (`to` < n) or to every other
// replica (nullopt).
struct Outbound {
  std::optional<net::NodeId> to;
  net::SharedBytes bytes;
};

inline constexpr pbft::Instant kNoTick = ~pbft::Instant{0};

class Behaviour {
 public:
  explicit Behaviour(BehaviourContext context);
  virtual ~Behaviour() = default;
  virtual std::string_view name() const = 0;
  // The core sent `bytes` (decoded: `envelope`, empty if it does not decode) to `to`.
  // Returns what leaves instead: {bytes} unchanged, {} dropped, or anything else.
  virtual Emissions on_send(net::NodeId to, const net::SharedBytes& bytes,
                            const wire::Envelope& envelope) = 0;
  // A message arrived for the replica and passed the edge checks (what it saw: a replayer
  // keeps some, an equivocating backup learns the batches it will lie about). Called
  // before the core gets it.
  virtual void on_receive(const wire::Envelope& envelope) { (void)envelope; }
  // Messages of its own, when its clock reaches next_tick() (`now` is the replica's
  // monotonic clock, in nanoseconds).
  virtual std::vector<Outbound> on_tick(pbft::Instant now) {
    (void)now;
    return {};
  }
  virtual pbft::Instant next_tick() const { return kNoTick; }

 protected:
  // Signs `payload` as this replica, as the honest core would.
  net::SharedBytes reseal(wire::Kind kind, Bytes payload) const;
  const BehaviourContext& context() const { return context_; }  // its key moved out
  net::Rng& rng() { return rng_; }

 private:
  crypto::Signer signer_;  // first: it takes the context's key
  BehaviourContext context_;
  net::Rng rng_;
};

// The behaviours by name, for scenario files and --byzantine (docs/adversary.md), with
// their parameters (KEY=VALUE; an unknown key or a bad value is an Error naming it):
//   corrupt-chunks   serves state-transfer chunks with flipped bytes, validly signed
//   equivocate       to the replicas in side B, conflicting messages for the same slot:
//                    PRE-PREPAREs (as primary) of an alternative batch (the requests
//                    reversed, or the null batch for one request), PREPAREs and COMMITs for
//                    it, CHECKPOINTs of another state; the others get the honest ones.
//                    side_b=IDS (default: the upper half of the other replicas),
//                    what=pre-prepare,prepare,commit,checkpoint (default: all four),
//                    digest=honest|keep (keep: side B's pre-prepare carries the original
//                    digest over other requests), primary_votes=true|false (false: as
//                    primary, also send side B a PREPARE for its story)
//   forge            forgeries the edge must reject, to a random peer, besides its honest
//                    messages. mode=impersonate|bad-signature|tamper|fake-certificate|
//                    client-request|other-cluster (required), per_second=N (200),
//                    replace=true|false (false; tamper and bad-signature only: forge every
//                    message it sends instead)
//   viewchange-liar  lies in view changes only. mode=omit-prepared|stale-checkpoint|
//                    fabricate-prepared|bad-new-view (required)
//   replay           sends what it received and sent (a sample of at most 1000) again to
//                    random replicas, some signed again for another cluster.
//                    per_second=N (100)
//   mute             sends nothing at all
//   selective        sends only to talks_to=IDS (required), and to clients only if
//                    clients=true (false)
//   slow             holds each PRE-PREPARE it sends for delay_ms=N (250)
//   corrupt          changes one random byte of a message, after signing, with
//                    probability=P (0.1)
//   flood            per_second=N (2000) messages to every other replica, of
//                    mix=junk,useless (both): random bytes up to 4 KiB, and valid STATUS,
//                    CHECKPOINT and FETCH_STATE messages no protocol step can use
//   run-ahead        as primary, besides each PRE-PREPARE, a validly signed copy for the
//                    sequence number ahead=N (10000) further on: above the high watermark
std::vector<std::string_view> behaviour_names();
Result<std::unique_ptr<Behaviour>> make_behaviour(std::string_view name, BehaviourContext context);

}  // namespace phalanx::adversary
