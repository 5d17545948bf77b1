// crypto/mac.h: a client and a replica agree on the same pair of keys from their Ed25519
// keys alone; nobody else gets them; a MAC matches only its key and its digest.
#include "phalanx/crypto/mac.h"

#include <gtest/gtest.h>

#include "phalanx/crypto/session_key_cache.h"
#include "phalanx/crypto/sign.h"

namespace phalanx::crypto {
namespace {

Digest digest_of(std::string_view text) {
  return blake2b(text);
}

TEST(SessionKeys, ClientAndReplicaAgreeOnBothDirections) {
  auto client = SecretKey::derive_for_testing("client", 1);
  auto replica = SecretKey::derive_for_testing("replica", 2);
  auto at_client = client_session_keys(client, replica.public_key());
  auto at_replica = replica_session_keys(replica, client.public_key());
  ASSERT_TRUE(at_client && at_replica);
  EXPECT_EQ(at_client->to_replica.array(), at_replica->to_replica.array());
  EXPECT_EQ(at_client->to_client.array(), at_replica->to_client.array());
  EXPECT_NE(at_client->to_replica.array(), at_client->to_client.array());
}

TEST(SessionKeys, AnotherReplicaOrClientGetsOtherKeys) {
  auto client = SecretKey::derive_for_testing("client", 1);
  auto replica = SecretKey::derive_for_testing("replica", 2);
  auto other_replica = SecretKey::derive_for_testing("replica", 3);
  auto other_client = SecretKey::derive_for_testing("client", 4);
  auto keys = *client_session_keys(client, replica.public_key());
  EXPECT_NE(keys.to_replica.array(),
            client_session_keys(client, other_replica.public_key())->to_replica.array());
  EXPECT_NE(keys.to_replica.array(),
            replica_session_keys(replica, other_client.public_key())->to_replica.array());
  // A replica that guesses the client is the server side gets nothing it can use.
  EXPECT_NE(keys.to_replica.array(),
            client_session_keys(replica, client.public_key())->to_replica.array());
}

TEST(SessionKeys, APeerKeyWithoutACurvePointAgreesNothing) {
  auto client = SecretKey::derive_for_testing("client", 1);
  std::array<std::uint8_t, 32> not_a_point{};
  not_a_point[0] = 2;  // y = 2 is not on the curve
  EXPECT_FALSE(client_session_keys(client, PublicKey(not_a_point)).has_value());
  EXPECT_FALSE(replica_session_keys(client, PublicKey(not_a_point)).has_value());
}

TEST(Mac, MatchesOnlyItsKeyAndItsDigest) {
  auto client = SecretKey::derive_for_testing("client", 1);
  auto keys =
      *client_session_keys(client, SecretKey::derive_for_testing("replica", 0).public_key());
  Digest digest = digest_of("request");
  Mac mac = mac_of(keys.to_replica, digest);
  ByteView view = as_bytes(mac);
  EXPECT_TRUE(mac_matches(keys.to_replica, digest, view));
  EXPECT_FALSE(mac_matches(keys.to_client, digest, view));
  EXPECT_FALSE(mac_matches(keys.to_replica, digest_of("another request"), view));
  EXPECT_FALSE(mac_matches(keys.to_replica, digest, view.substr(0, kMacSize - 1)));
  for (std::size_t byte = 0; byte < kMacSize; ++byte) {
    Mac flipped = mac;
    flipped[byte] ^= 0x01;
    EXPECT_FALSE(mac_matches(keys.to_replica, digest, as_bytes(flipped))) << "byte " << byte;
  }
}

TEST(SessionKeyCache, RemembersAtMostItsCapacityAndAlwaysAnswersRight) {
  auto replica = SecretKey::derive_for_testing("replica", 0);
  SessionKeyCache cache(replica.clone(), 3);
  for (int round = 0; round < 2; ++round) {
    for (std::uint64_t index = 0; index < 7; ++index) {
      auto client = SecretKey::derive_for_testing("client", index).public_key();
      auto cached = cache.keys_for(client);
      ASSERT_TRUE(cached.has_value());
      EXPECT_EQ(cached->to_replica.array(),
                replica_session_keys(replica, client)->to_replica.array());
      EXPECT_LE(cache.size(), 3u);
    }
  }
  EXPECT_EQ(cache.size(), 3u);
  std::array<std::uint8_t, 32> not_a_point{};
  not_a_point[0] = 2;
  EXPECT_FALSE(cache.keys_for(PublicKey(not_a_point)).has_value());
  EXPECT_EQ(cache.size(), 3u);  // nothing remembered for it
}

}  // namespace
}  // namespace phalanx::crypto
