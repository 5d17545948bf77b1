// FencedStorage (fenced_storage.h): the storage side of fencing. It accepts a write only
// with a token at least the largest it accepted for that key, so a holder whose lease
// ended and whose lock went to someone else cannot overwrite the newer holder's data.
#include "phalanx/lock/fenced_storage.h"

#include <gtest/gtest.h>

namespace phalanx::lock {
namespace {

TEST(FencedStorage, AcceptsEqualAndLargerTokens) {
  FencedStorage storage;
  EXPECT_TRUE(storage.write("file", "one", 33).ok());
  EXPECT_TRUE(storage.write("file", "two", 33).ok()) << "one holder writes many times";
  EXPECT_TRUE(storage.write("file", "three", 34).ok());
  EXPECT_EQ(storage.read("file"), "three");
  EXPECT_EQ(storage.highest_token("file"), 34u);
}

TEST(FencedStorage, RefusesAnOlderTokenAndSaysWhy) {
  FencedStorage storage;
  ASSERT_TRUE(storage.write("file", "new holder", 34).ok());
  auto refused = storage.write("file", "paused holder", 33);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("token 33 is older than token 34"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(storage.read("file"), "new holder");
  EXPECT_EQ(storage.highest_token("file"), 34u);
}

TEST(FencedStorage, KeysAreFencedApart) {
  FencedStorage storage;
  ASSERT_TRUE(storage.write("a", "x", 9).ok());
  EXPECT_TRUE(storage.write("b", "y", 2).ok());
  EXPECT_EQ(storage.highest_token("never"), 0u);
  EXPECT_EQ(storage.read("never"), std::nullopt);
}

TEST(FencedStorage, RefusesTokenZeroAndWhatIsOverItsLimits) {
  FencedStorage storage;
  EXPECT_FALSE(storage.write("a", "x", 0).ok());
  EXPECT_FALSE(storage.write("a", std::string(FencedStorage::kValueBytesMax + 1, 'v'), 1).ok());
  for (std::size_t i = 0; i < FencedStorage::kKeysMax; ++i)
    ASSERT_TRUE(storage.write("k" + std::to_string(i), "v", 1).ok());
  EXPECT_FALSE(storage.write("one-more", "v", 1).ok());
  EXPECT_TRUE(storage.write("k0", "v2", 2).ok()) << "a known key still takes writes";
}

}  // namespace
}  // namespace phalanx::lock
