// The lock service's bytes (operation.h, reply.h): operations and replies round-trip,
// operations are compact, and every malformed input is an Error value, never a crash.
#include <gtest/gtest.h>

#include "phalanx/lock/operation.h"
#include "phalanx/lock/reply.h"

namespace phalanx::lock {
namespace {

TEST(LockOperation, EveryKindRoundTrips) {
  const std::vector<Operation> operations = {Acquire{"db", 30'000}, Release{"db", 7},
                                             Renew{"db", 7, 1'000},
                                             Query{std::string(kNameBytesMax, 'n')}};
  for (const auto& operation : operations) {
    auto encoded = encode(operation);
    ASSERT_TRUE(encoded.ok()) << encoded.error().message;
    auto decoded = decode(encoded.value());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded.value(), operation);
  }
}

TEST(LockOperation, AcquireIsElevenBytesForAOneByteName) {
  EXPECT_EQ(acquire("x", 30'000).size(), 11u);
  EXPECT_EQ(query("x").size(), 3u);
}

TEST(LockOperation, OutOfRangeOperationsDoNotEncode) {
  EXPECT_FALSE(encode(Acquire{"", 100}).ok());
  EXPECT_FALSE(encode(Acquire{std::string(kNameBytesMax + 1, 'n'), 100}).ok());
  EXPECT_FALSE(encode(Acquire{"db", kLeaseMsMin - 1}).ok());
  EXPECT_FALSE(encode(Acquire{"db", kLeaseMsMax + 1}).ok());
  EXPECT_FALSE(encode(Renew{"db", 1, 0}).ok());
  auto error = encode(Acquire{"db", kLeaseMsMax + 1});
  EXPECT_NE(error.error().message.find("lease"), std::string::npos) << error.error().message;
}

TEST(LockOperation, MalformedBytesAreErrorsNotCrashes) {
  const Bytes good = acquire("db", 100);
  auto name_length = [&](unsigned char length) {
    Bytes bytes = good;
    bytes[1] = static_cast<char>(length);
    return bytes;
  };
  const std::vector<std::pair<std::string, Bytes>> bad = {
      {"empty", ""},
      {"kind only", "A"},
      {"unknown kind", "Z" + good.substr(1)},
      {"name longer than the bytes", name_length(200)},
      {"empty name", Bytes("A\0", 2) + good.substr(4)},
      {"no lease", good.substr(0, 4)},
      {"lease cut short", good.substr(0, good.size() - 1)},
      {"trailing byte", good + "x"},
      {"lease 0", Bytes("A\2db", 4) + Bytes(8, '\0')},
      {"name above the limit",
       Bytes("Q") + static_cast<char>(kNameBytesMax + 1) + std::string(kNameBytesMax + 1, 'n')},
  };
  for (const auto& [what, bytes] : bad) {
    auto decoded = decode(bytes);
    EXPECT_FALSE(decoded.ok()) << what;
    if (!decoded.ok()) {
      EXPECT_FALSE(decoded.error().message.empty()) << what;
    }
  }
}

TEST(LockReply, RoundTripsEveryOutcome) {
  for (std::uint8_t value = 0; value <= static_cast<std::uint8_t>(Outcome::kMalformed); ++value) {
    Reply reply{static_cast<Outcome>(value), 42, 1'800'000'000'123,
                crypto::SecretKey::derive_for_testing("owner", 0).public_key(), "why"};
    auto decoded = decode_reply(encode(reply));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded.value(), reply);
  }
}

TEST(LockReply, MalformedRepliesAreErrors) {
  const Bytes good = encode(Reply{});
  EXPECT_FALSE(decode_reply("").ok());
  EXPECT_FALSE(decode_reply(Bytes(1, static_cast<char>(200)) + good.substr(1)).ok());
  EXPECT_FALSE(decode_reply(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(decode_reply(good + "x").ok());
}

TEST(LockReply, DescribesForAPerson) {
  const auto owner = crypto::SecretKey::derive_for_testing("owner", 0).public_key();
  Reply granted{Outcome::kGranted, 7, 1'800'000'001'234, owner, ""};
  EXPECT_EQ(describe(granted), "granted token 7 until 2027-01-15T08:00:01.234Z");
  Reply held{Outcome::kHeld, 7, 1'800'000'001'234, owner, ""};
  EXPECT_EQ(describe(held),
            "held by " + owner.short_hex() + " with token 7 until 2027-01-15T08:00:01.234Z");
  EXPECT_EQ(describe(held, &owner), "held by you with token 7 until 2027-01-15T08:00:01.234Z");
  Reply free_lock;
  free_lock.outcome = Outcome::kFree;
  EXPECT_EQ(describe(free_lock), "free");
}

TEST(LockReply, FormatsUnixMillisecondsAsUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_utc(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_utc(1'800'000'000'000), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(format_utc(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_utc(253'402'300'800'000), "unix ms 253402300800000");
}

}  // namespace
}  // namespace phalanx::lock
