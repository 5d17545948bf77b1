#include "phalanx/pbft/client_core.h"

#include <algorithm>

#include "phalanx/base/assert.h"

namespace phalanx::pbft {

namespace {
// The cluster's Verifier, with this client's keys with every replica in MAC mode.
Verifier with_client_macs(Verifier verifier, const crypto::SecretKey& key,
                          const ClientOptions& options) {
  if (!options.mac_authenticators) return verifier;
  auto macs = ClientMacs::agree(key, verifier.replica_keys);
  // A validated cluster config checks that every replica key has a curve point; a Verifier
  // built by hand without one is a programming error.
  PHALANX_ASSERT(macs.has_value(), "a replica key has no X25519 counterpart");
  verifier.client_macs = std::make_shared<const ClientMacs>(std::move(*macs));
  return verifier;
}
}  // namespace

ClientCore::ClientCore(Verifier verifier, crypto::SecretKey key, ClientOptions options,
                       RequestId first_request_id)
    : verifier_(with_client_macs(std::move(verifier), key, options)),
      signer_(std::move(key)),
      options_(options),
      next_request_id_(first_request_id) {
  PHALANX_ASSERT(first_request_id > 0, "request ids start at 1");
  // n = 1 (f = 0, one reply suffices) is a single trusted server: phalanx-bench's
  // unreplicated baseline. Clusters have n = 3f+1 >= 4 (config.h checks).
  PHALANX_ASSERT(verifier_.quorums().n >= 1, "a client needs a server");
}

ClientActions ClientCore::submit(Bytes operation, Instant now) {
  PHALANX_ASSERT(!busy(), "ClientCore::submit while a request is outstanding");
  wire::Request request;
  request.set_client_key(signer_.public_key().bytes());
  request.set_request_id(next_request_id_++);
  request.set_operation(std::move(operation));
  auto envelope = std::make_shared<const Bytes>(encode(
      verifier_.client_macs ? seal_request(*verifier_.client_macs, verifier_.cluster_id, request)
                            : seal_request(signer_, verifier_.cluster_id, request)));

  Outstanding outstanding{request.request_id(),   envelope, now, now + options_.retry_timeout,
                          options_.retry_timeout, {},       {}};
  outstanding.replies.resize(verifier_.quorums().n);
  outstanding.results.resize(verifier_.quorums().n);
  outstanding_ = std::move(outstanding);

  ClientActions actions;
  std::optional<ReplicaId> to;
  if (!options_.send_to_all) to = verifier_.quorums().primary(view_);
  actions.send.push_back(Outgoing{to, wire::REQUEST, envelope});
  return actions;
}

ClientActions ClientCore::on_reply(const Message& message, Instant now) {
  ClientActions actions;
  const auto* reply = std::get_if<wire::Reply>(&message.body);
  if (reply == nullptr || !outstanding_) return actions;
  if (reply->request_id() != outstanding_->request_id) return actions;  // late or early
  if (reply->client_key() != signer_.public_key().view()) return actions;

  // A replica may change its reply (a Byzantine one will): its latest counts, once.
  outstanding_->replies[message.sender] =
      std::make_pair(crypto::blake2b(reply->result()), View{reply->view()});
  outstanding_->results[message.sender] = reply->result();

  const auto& mine = *outstanding_->replies[message.sender];
  std::uint32_t matching = 0;
  View view = 0;
  for (const auto& other : outstanding_->replies) {
    if (other && other->first == mine.first) {
      ++matching;
      view = std::max(view, other->second);
    }
  }
  if (matching < verifier_.quorums().weak()) return actions;

  // f+1 matching replies: at least one is from a correct replica, so the result is the
  // committed one (PBFT 4.1). The view is taken from the matching set only; the largest
  // of them is at most what some correct replica reported or a view that exists.
  view_ = std::max(view_, view);
  actions.completed = Completion{outstanding_->request_id, outstanding_->results[message.sender],
                                 view, outstanding_->submitted_at, now};
  outstanding_.reset();
  return actions;
}

ClientActions ClientCore::on_tick(Instant now) {
  ClientActions actions;
  if (!outstanding_ || now < outstanding_->retry_at) return actions;
  // The primary may be faulty or the request lost: send it to every replica, who relay it
  // to the primary and start their view-change timers (PBFT 4.1).
  actions.send.push_back(Outgoing{std::nullopt, wire::REQUEST, outstanding_->envelope});
  actions.retried = true;
  outstanding_->retry_timeout =
      std::min(outstanding_->retry_timeout * 2, options_.retry_timeout_max);
  outstanding_->retry_at = now + outstanding_->retry_timeout;
  return actions;
}

Instant ClientCore::next_deadline() const {
  return outstanding_ ? outstanding_->retry_at : ~Instant{0};
}

}  // namespace phalanx::pbft
