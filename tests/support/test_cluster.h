#pragma once
// Test support: the keys and identity of a small cluster, and helpers that make signed
// messages from any replica or client and pass them through the real edge
// (open_envelope), so unit tests feed a Replica exactly what a driver would.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "phalanx/pbft/replica.h"
#include "phalanx/pbft/wire.h"

namespace phalanx::testing {

class TestCluster {
 public:
  explicit TestCluster(std::uint32_t n = 4, std::string cluster_id = "test") {
    verifier_.cluster_id = std::move(cluster_id);
    for (std::uint32_t i = 0; i < n; ++i) {
      signers_.push_back(std::make_unique<crypto::Signer>(
          crypto::SecretKey::derive_for_testing("replica", i)));
      verifier_.replica_keys.push_back(signers_.back()->public_key());
    }
  }

  const pbft::Verifier& verifier() const { return verifier_; }
  pbft::Quorums quorums() const { return verifier_.quorums(); }
  const crypto::Signer& signer(pbft::ReplicaId id) const { return *signers_.at(id); }

  pbft::ReplicaSetup setup(pbft::ReplicaId id, pbft::ReplicaOptions options = {}) const {
    return pbft::ReplicaSetup{verifier_, id, crypto::SecretKey::derive_for_testing("replica", id),
                              options};
  }

  // Opens `envelope` at the edge as a replica would; fails the test if it is rejected.
  pbft::Message open(const wire::Envelope& envelope,
                     pbft::Audience audience = pbft::Audience::kReplica) const {
    auto opened = pbft::open_envelope(pbft::encode(envelope), verifier_, audience);
    EXPECT_TRUE(opened.ok()) << "rejected: " << pbft::to_string(opened.rejection);
    return std::move(*opened.message);
  }

  template <typename Proto>
  wire::Envelope sealed(pbft::ReplicaId from, wire::Kind kind, const Proto& body) const {
    return pbft::seal(signer(from), verifier_.cluster_id, kind, from, pbft::encode(body));
  }
  template <typename Proto>
  pbft::Message message(pbft::ReplicaId from, wire::Kind kind, const Proto& body) const {
    return open(sealed(from, kind, body));
  }

  wire::Envelope request(std::uint64_t client_index, pbft::RequestId id,
                         std::string operation) const {
    crypto::Signer client(crypto::SecretKey::derive_for_testing("client", client_index));
    wire::Request request;
    request.set_client_key(client.public_key().bytes());
    request.set_request_id(id);
    request.set_operation(std::move(operation));
    return pbft::seal_request(client, verifier_.cluster_id, request);
  }

  wire::PrePrepare pre_prepare(pbft::View view, pbft::Seq seq,
                               std::vector<wire::Envelope> requests) const {
    wire::PrePrepare body;
    body.set_view(view);
    body.set_seq(seq);
    for (auto& request : requests) *body.add_requests() = std::move(request);
    body.set_digest(pbft::batch_digest(body).bytes());
    return body;
  }

  template <typename Vote>
  static Vote vote(pbft::View view, pbft::Seq seq, const std::string& digest) {
    Vote body;
    body.set_view(view);
    body.set_seq(seq);
    body.set_digest(digest);
    return body;
  }

 private:
  pbft::Verifier verifier_;
  std::vector<std::unique_ptr<crypto::Signer>> signers_;
};

// Counts the messages of one kind in an action batch.
inline std::size_t count_sent(const pbft::Actions& actions, wire::Kind kind) {
  std::size_t count = 0;
  for (const auto& outgoing : actions.send) count += outgoing.kind == kind;
  return count;
}

}  // namespace phalanx::testing
