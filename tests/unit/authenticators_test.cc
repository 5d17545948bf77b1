// MAC authenticators at the edge and in the core (pbft/authenticators.h, wire.h step 7):
// each replica checks only its own entry; a PRE-PREPARE whose request it cannot vouch for
// still opens but names that request; such a backup does not PREPARE yet commits and
// executes once 2f other backups prepared; replies to MAC clients carry a MAC that only
// that client can check. Malformed authenticators get a clear rejection.
#include "phalanx/pbft/authenticators.h"

#include <gtest/gtest.h>

#include "phalanx/examples/kv_application.h"
#include "phalanx/pbft/client_core.h"
#include "support/lying_client.h"
#include "support/test_cluster.h"

namespace phalanx {
namespace {

using pbft::Audience;
using pbft::Rejection;
using testing::count_sent;
using testing::TestCluster;
using testing::with_entries_spoiled;

crypto::SecretKey client_key(std::uint64_t index = 0) {
  return crypto::SecretKey::derive_for_testing("client", index);
}

class Authenticators : public ::testing::Test {
 protected:
  Authenticators() {
    for (pbft::ReplicaId id = 0; id < 4; ++id) {
      at_replica_.push_back(cluster_.verifier());
      at_replica_.back().replica_macs = std::make_shared<const pbft::ReplicaMacs>(
          id, crypto::SecretKey::derive_for_testing("replica", id));
    }
    at_client_ = cluster_.verifier();
    at_client_.client_macs = std::make_shared<const pbft::ClientMacs>(
        *pbft::ClientMacs::agree(client_key(), cluster_.verifier().replica_keys));
  }

  wire::Request request(pbft::RequestId id, std::string operation) const {
    wire::Request body;
    body.set_client_key(client_key().public_key().bytes());
    body.set_request_id(id);
    body.set_operation(std::move(operation));
    return body;
  }
  wire::Envelope mac_request(pbft::RequestId id, std::string operation) const {
    return pbft::seal_request(*at_client_.client_macs, "test", request(id, std::move(operation)));
  }
  pbft::Opened open_at(pbft::ReplicaId replica, const wire::Envelope& envelope) const {
    return pbft::open_envelope(pbft::encode(envelope), at_replica_[replica], Audience::kReplica);
  }

  TestCluster cluster_;
  std::vector<pbft::Verifier> at_replica_;  // by replica id, with its MAC keys
  pbft::Verifier at_client_;                // client 0's, with its MAC keys
};

TEST_F(Authenticators, ARequestOpensAtEveryReplicaWhoseEntryMatches) {
  wire::Envelope envelope = mac_request(1, "op");
  EXPECT_TRUE(envelope.signature().empty());
  EXPECT_EQ(envelope.authenticator().size(), pbft::authenticator_size(4));
  for (pbft::ReplicaId id = 0; id < 4; ++id) {
    auto opened = open_at(id, envelope);
    ASSERT_TRUE(opened.ok()) << "replica " << id << ": " << pbft::to_string(opened.rejection);
    EXPECT_EQ(opened.message->client, client_key().public_key());
  }
}

TEST_F(Authenticators, OnlyTheReplicaWhoseEntryIsWrongRejectsIt) {
  wire::Envelope envelope = with_entries_spoiled(mac_request(1, "op"), {2});
  for (pbft::ReplicaId id = 0; id < 4; ++id) {
    auto opened = open_at(id, envelope);
    if (id == 2)
      EXPECT_EQ(opened.rejection, Rejection::kBadMac);
    else
      EXPECT_TRUE(opened.ok()) << "replica " << id;
  }
  // A changed payload matches no entry.
  wire::Envelope changed = mac_request(1, "op");
  changed.set_payload(pbft::encode(request(1, "another op")));
  for (pbft::ReplicaId id = 0; id < 4; ++id)
    EXPECT_EQ(open_at(id, changed).rejection, Rejection::kBadMac);
}

TEST_F(Authenticators, MalformedAuthenticatorsAreRejectedAsSuch) {
  wire::Envelope short_one = mac_request(1, "op");
  short_one.mutable_authenticator()->pop_back();
  EXPECT_EQ(open_at(0, short_one).rejection, Rejection::kBadAuthenticator);

  wire::Envelope both = mac_request(1, "op");
  both.set_signature(Bytes(64, 'x'));
  EXPECT_EQ(open_at(0, both).rejection, Rejection::kBadAuthenticator);

  // A cluster that does not accept MAC clients refuses the request outright.
  auto at_signed_only = pbft::open_envelope(pbft::encode(mac_request(1, "op")), cluster_.verifier(),
                                            Audience::kReplica);
  EXPECT_EQ(at_signed_only.rejection, Rejection::kBadAuthenticator);

  // Replicas sign what they send each other: an authenticator on a PREPARE is refused.
  wire::Envelope prepare =
      cluster_.sealed(1, wire::PREPARE, TestCluster::vote<wire::Prepare>(0, 1, Bytes(32, 'd')));
  prepare.clear_signature();
  prepare.set_authenticator(Bytes(16, 'm'));
  EXPECT_EQ(open_at(0, prepare).rejection, Rejection::kBadAuthenticator);
}

TEST_F(Authenticators, APrePrepareNamesTheRequestsThisReplicaCannotVouchFor) {
  wire::PrePrepare batch =
      cluster_.pre_prepare(0, 1,
                           {cluster_.request(1, 1, "signed"),
                            with_entries_spoiled(mac_request(1, "lies to 3"), {3}), mac_request(2, "honest")});
  wire::Envelope sealed = cluster_.sealed(0, wire::PRE_PREPARE, batch);
  for (pbft::ReplicaId id = 1; id < 4; ++id) {
    auto opened = open_at(id, sealed);
    ASSERT_TRUE(opened.ok()) << pbft::to_string(opened.rejection);
    if (id == 3)
      EXPECT_EQ(opened.message->unvouched_requests, std::vector<std::uint32_t>{1});
    else
      EXPECT_TRUE(opened.message->unvouched_requests.empty()) << "replica " << id;
  }
}

TEST_F(Authenticators, ARepliesMacOpensOnlyAtItsClient) {
  wire::Reply reply;
  reply.set_client_key(client_key().public_key().bytes());
  reply.set_request_id(1);
  reply.set_result("ok");
  crypto::Signer replica_2(crypto::SecretKey::derive_for_testing("replica", 2));
  auto sealed = pbft::seal_reply(replica_2, at_replica_[2].replica_macs.get(), "test", 2,
                                 client_key().public_key(), pbft::encode(reply));
  EXPECT_TRUE(sealed.signature().empty());
  EXPECT_EQ(sealed.authenticator().size(), crypto::kMacSize);
  auto opened = pbft::open_envelope(pbft::encode(sealed), at_client_, Audience::kClient);
  ASSERT_TRUE(opened.ok()) << pbft::to_string(opened.rejection);
  EXPECT_EQ(opened.message->sender, 2u);

  wire::Envelope claimed_by_another = sealed;
  claimed_by_another.set_sender(1);  // replica 1 did not make this MAC
  EXPECT_EQ(pbft::open_envelope(pbft::encode(claimed_by_another), at_client_, Audience::kClient)
                .rejection,
            Rejection::kBadMac);

  pbft::Verifier other_client = cluster_.verifier();
  other_client.client_macs = std::make_shared<const pbft::ClientMacs>(
      *pbft::ClientMacs::agree(client_key(1), cluster_.verifier().replica_keys));
  EXPECT_EQ(pbft::open_envelope(pbft::encode(sealed), other_client, Audience::kClient).rejection,
            Rejection::kBadMac);
  EXPECT_EQ(
      pbft::open_envelope(pbft::encode(sealed), cluster_.verifier(), Audience::kClient).rejection,
      Rejection::kBadAuthenticator);

  // Without a MAC client's keys (a signed client) the same call signs.
  auto signed_reply = pbft::seal_reply(replica_2, nullptr, "test", 2, client_key().public_key(),
                                       pbft::encode(reply));
  EXPECT_TRUE(signed_reply.authenticator().empty());
  EXPECT_TRUE(
      pbft::open_envelope(pbft::encode(signed_reply), cluster_.verifier(), Audience::kClient).ok());
}

TEST_F(Authenticators, TheKeyCacheStaysWithinItsBoundAndStaysRight) {
  pbft::ReplicaMacs macs(0, crypto::SecretKey::derive_for_testing("replica", 0), 2);
  for (int round = 0; round < 3; ++round) {
    for (std::uint64_t index = 0; index < 5; ++index) {
      auto keys = *pbft::ClientMacs::agree(client_key(index), cluster_.verifier().replica_keys);
      crypto::Digest digest = crypto::blake2b("request " + std::to_string(index));
      Bytes authenticator = keys.authenticator(digest);
      EXPECT_TRUE(macs.entry_matches(client_key(index).public_key(), digest, authenticator, 4));
      EXPECT_FALSE(
          macs.entry_matches(client_key(index + 1).public_key(), digest, authenticator, 4));
    }
  }
}

TEST_F(Authenticators, AClientCoreInMacModeSealsWithMacsAndKeysItsVerifier) {
  pbft::ClientOptions options;
  options.mac_authenticators = true;
  pbft::ClientCore client(cluster_.verifier(), client_key(), options);
  ASSERT_NE(client.verifier().client_macs, nullptr);
  auto actions = client.submit("op", 0);
  ASSERT_EQ(actions.send.size(), 1u);
  wire::Envelope envelope;
  ASSERT_TRUE(envelope.ParseFromString(*actions.send[0].envelope));
  EXPECT_TRUE(envelope.signature().empty());
  for (pbft::ReplicaId id = 0; id < 4; ++id) EXPECT_TRUE(open_at(id, envelope).ok());
}

// The core: a backup that cannot vouch for a request does not prepare its batch, still
// commits and executes it on 2f other backups' prepares, and answers the MAC client with a
// MAC.
TEST_F(Authenticators, ABackupThatCannotVouchCommitsOnTheOthersPrepares) {
  examples::KvApplication app;
  pbft::ReplicaSetup setup = cluster_.setup(3);
  setup.verifier = at_replica_[3];
  pbft::Replica replica(std::move(setup), app, 0);
  pbft::Instant now = 0;
  auto deliver = [&](const wire::Envelope& envelope) {
    auto opened = open_at(3, envelope);
    EXPECT_TRUE(opened.ok()) << pbft::to_string(opened.rejection);
    return replica.on_message(*opened.message, ++now);
  };

  wire::PrePrepare batch =
      cluster_.pre_prepare(0, 1, {with_entries_spoiled(mac_request(1, examples::kv::put("k", "v")), {3})});
  EXPECT_EQ(count_sent(deliver(cluster_.sealed(0, wire::PRE_PREPARE, batch)), wire::PREPARE), 0u);

  auto prepare = TestCluster::vote<wire::Prepare>(0, 1, batch.digest());
  EXPECT_EQ(count_sent(deliver(cluster_.sealed(1, wire::PREPARE, prepare)), wire::COMMIT), 0u);
  EXPECT_EQ(count_sent(deliver(cluster_.sealed(2, wire::PREPARE, prepare)), wire::COMMIT), 1u);

  auto commit = TestCluster::vote<wire::Commit>(0, 1, batch.digest());
  deliver(cluster_.sealed(0, wire::COMMIT, commit));
  pbft::Actions executed = deliver(cluster_.sealed(1, wire::COMMIT, commit));
  ASSERT_EQ(executed.executed.size(), 1u);
  ASSERT_EQ(executed.replies.size(), 1u);
  wire::Envelope reply;
  ASSERT_TRUE(reply.ParseFromString(*executed.replies[0].envelope));
  EXPECT_TRUE(reply.signature().empty());
  EXPECT_TRUE(
      pbft::open_envelope(*executed.replies[0].envelope, at_client_, Audience::kClient).ok());
}

}  // namespace
}  // namespace phalanx
