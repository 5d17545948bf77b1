// VerifyCache gives the same answers as verify_digest, verifying each valid signature once.
#include <gtest/gtest.h>

#include "phalanx/crypto/sign.h"
#include "phalanx/crypto/verify_cache.h"

namespace phalanx::crypto {
namespace {

TEST(VerifyCache, AnswersLikeVerifyAndRemembersOnlyValidSignatures) {
  Signer signer(SecretKey::derive_for_testing("cache", 0));
  Digest digest = blake2b("message");
  Signature good = signer.sign_digest(digest);
  Signature bad = good;
  auto bytes = bad.array();
  bytes[5] ^= 1;
  bad = Signature(bytes);

  VerifyCache cache;
  EXPECT_TRUE(cache.verify(signer.public_key(), digest, good));
  EXPECT_TRUE(cache.verify(signer.public_key(), digest, good));
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_FALSE(cache.verify(signer.public_key(), digest, bad));
  EXPECT_FALSE(cache.verify(signer.public_key(), digest, bad)) << "failures are not cached";
  EXPECT_FALSE(cache.verify(signer.public_key(), blake2b("other"), good))
      << "a valid signature is valid for its own message only";
  Signer other(SecretKey::derive_for_testing("cache", 1));
  EXPECT_FALSE(cache.verify(other.public_key(), digest, good)) << "and its own key only";
}

TEST(VerifyCache, StaysWithinItsCapacity) {
  Signer signer(SecretKey::derive_for_testing("cache", 0));
  VerifyCache cache(8);
  for (int i = 0; i < 100; ++i) {
    Digest digest = blake2b(std::to_string(i));
    ASSERT_TRUE(cache.verify(signer.public_key(), digest, signer.sign_digest(digest)));
  }
  Digest first = blake2b("0");
  cache.verify(signer.public_key(), first, signer.sign_digest(first));
  EXPECT_EQ(cache.hits(), 0u) << "the oldest entries were forgotten";
}

}  // namespace
}  // namespace phalanx::crypto
