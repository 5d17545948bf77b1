#pragma once
// The constructors of the behaviours behaviour.cc lists by name (one file each), and what
// several of them share: reading parameters, the alternative batch two equivocators agree
// on, envelope surgery, and pacing the messages a behaviour makes of its own.
//
// Everything here is a pure function of its arguments or of the behaviour's own seeded
// generator: no clock reads, no global state, so a simulated run replays from its seed.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/sign.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::adversary {

// Each returns an Error for a bad or unknown parameter.
Result<std::unique_ptr<Behaviour>> make_corrupt_chunks(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_equivocate(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_forge(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_viewchange_liar(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_replay(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_mute(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_selective(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_slow(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_corrupt(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_flood(BehaviourContext context);
Result<std::unique_ptr<Behaviour>> make_run_ahead(BehaviourContext context);

namespace behaviours {

// A behaviour's parameters, read once each. The first bad value is kept as the error, and
// a key that no getter asked for is an error too (a misspelt key must not be ignored).
// Every getter returns its fallback when the key is absent or its value is bad, so a
// factory reads them all and then asks error().
class Params {
 public:
  explicit Params(const BehaviourContext& context);

  // A whole number in [min, max].
  std::uint64_t number(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                       std::uint64_t max);
  // A number in [0, 1].
  double probability(std::string_view key, double fallback);
  // true or false.
  bool flag(std::string_view key, bool fallback);
  // One of `choices`; without a fallback the key is required.
  std::string choice(std::string_view key, std::optional<std::string_view> fallback,
                     std::initializer_list<std::string_view> choices);
  // A comma-separated, non-empty subset of `choices`; all of them when absent.
  std::set<std::string> subset(std::string_view key,
                               std::initializer_list<std::string_view> choices);
  // Comma-separated replica ids, each below n and not this replica; without a fallback
  // the key is required.
  std::set<pbft::ReplicaId> replicas(std::string_view key,
                                     std::optional<std::set<pbft::ReplicaId>> fallback);
  // The first problem: a bad value, a missing required key, or an unknown key.
  std::optional<Error> error() const;

 private:
  std::optional<std::string> take(std::string_view key);
  void fail(std::string message);

  std::map<std::string, std::string> params_;
  std::uint32_t replicas_;
  pbft::ReplicaId self_;
  std::set<std::string, std::less<>> known_;  // keys a getter asked for
  std::optional<Error> error_;
};

// --- the alternative batch ------------------------------------------------------------

// The batch an equivocator proposes or votes for instead of `batch`: its requests in
// reverse order, or the null batch when it holds one request; nullopt for the null batch
// (there is no other). One deterministic function, so that colluding replicas running it
// independently agree on the alternative of each batch. View, seq and the recomputed
// digest are set.
std::optional<wire::PrePrepare> alternative(const wire::PrePrepare& batch);
// A digest that is not `digest`, derived from it alone (BLAKE2b of it, domain-separated):
// for a vote about a batch the equivocator never saw, or another state digest.
crypto::Digest derived_digest(ByteView digest);

// --- envelopes ---------------------------------------------------------------------------

template <typename Proto>
std::optional<Proto> parse(const std::string& payload) {
  Proto message;
  if (!message.ParseFromString(payload)) return std::nullopt;
  return message;
}
std::optional<wire::Envelope> parse_envelope(const std::string& bytes);
net::SharedBytes share(const wire::Envelope& envelope);
// The sealed message `sealed` claiming `sender` as its signer: its signature stays the one
// the real signer made (the sender is not signed, the key that checks it is chosen by it).
net::SharedBytes with_sender(const net::SharedBytes& sealed, pbft::ReplicaId sender);
// A REQUEST naming `client_key` but signed with `signer`: a forgery unless they match.
wire::Envelope seal_request_as(const crypto::Signer& signer, std::string_view cluster_id,
                               const wire::Request& request);
// A cluster id that is not `cluster_id` (and fits crypto::kClusterIdMax).
std::string other_cluster_id(std::string_view cluster_id);
Bytes random_bytes(net::Rng& rng, std::size_t size);
// A uniformly chosen replica other than `self`.
pbft::ReplicaId random_peer(net::Rng& rng, std::uint32_t replicas, pbft::ReplicaId self);
// The envelope names `id` as its signer: the replica's own message, not one it relays.
bool signed_by(const wire::Envelope& envelope, pbft::ReplicaId id);

// --- pacing ------------------------------------------------------------------------------

// The ticks of a behaviour that sends `per_second` messages of its own: the first at once
// (the behaviour does not know its clock before its first tick), then one every
// 1/per_second seconds of its clock.
class Pacer {
 public:
  explicit Pacer(std::uint64_t per_second);
  pbft::Instant next_tick() const { return next_; }
  // True once per interval: when `now` reached the tick, which then moves on.
  bool due(pbft::Instant now);

 private:
  pbft::Instant interval_;
  pbft::Instant next_ = 0;
};

// A bounded ring of recent items, oldest dropped first.
template <typename T>
class Recent {
 public:
  explicit Recent(std::size_t capacity) : capacity_(capacity) {}
  void push(T item) {
    if (items_.size() < capacity_) {
      items_.push_back(std::move(item));
    } else {
      items_[next_] = std::move(item);
      next_ = (next_ + 1) % capacity_;
    }
  }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const T& pick(net::Rng& rng) const { return items_[rng.uniform(0, items_.size() - 1)]; }
  // The most recently pushed.
  const T& last() const { return items_[(next_ + items_.size() - 1) % items_.size()]; }

 private:
  std::size_t capacity_;
  std::size_t next_ = 0;  // once full: the oldest, overwritten next
  std::vector<T> items_;
};

// Rate limits every pacing behaviour accepts (messages per second).
inline constexpr std::uint64_t kPerSecondMax = 1'000'000;

}  // namespace behaviours
}  // namespace phalanx::adversary
