// The frame format of ZmqTransport (net/src/zmq_frames.h): header frames and bundles, and
// what a malformed bundle does (nothing is delivered from it).
#include "zmq_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace phalanx::net {
namespace {

std::vector<std::string> unpacked(std::string_view bundle, bool* whole = nullptr) {
  std::vector<std::string> messages;
  bool ok = unpack_bundle(bundle, [&](std::string_view m) { messages.emplace_back(m); });
  if (whole) *whole = ok;
  return messages;
}

TEST(ZmqFrames, ABundleGivesBackItsMessagesInOrder) {
  BundleWriter writer;
  const std::vector<std::string> messages{"first", "2", std::string(1000, 'x'), "last"};
  for (const auto& message : messages) writer.add(message);
  EXPECT_EQ(writer.count(), 4u);
  std::string bundle = writer.take();
  EXPECT_EQ(writer.count(), 0u) << "take() starts a new bundle";
  bool whole = false;
  EXPECT_EQ(unpacked(bundle, &whole), messages);
  EXPECT_TRUE(whole);
}

TEST(ZmqFrames, AMalformedBundleDeliversNothing) {
  BundleWriter writer;
  writer.add("one");
  writer.add("two");
  const std::string bundle = writer.take();
  const std::size_t first_entry = kBundleEntryHeaderBytes + 3;  // a whole bundle by itself
  for (std::size_t cut = 1; cut < bundle.size(); ++cut) {
    if (cut == first_entry) continue;
    bool whole = true;
    EXPECT_TRUE(unpacked(bundle.substr(0, cut), &whole).empty()) << "cut at " << cut;
    EXPECT_FALSE(whole) << "cut at " << cut;
  }
  bool whole = true;
  EXPECT_TRUE(unpacked("", &whole).empty());
  EXPECT_FALSE(whole) << "an empty bundle is no bundle";
  std::string claims_too_much = bundle;
  claims_too_much[0] = '\x7f';  // the first entry's length runs past the end
  EXPECT_TRUE(unpacked(claims_too_much, &whole).empty());
  EXPECT_FALSE(whole);
  std::string huge_length("\xff\xff\xff\xff", 4);
  EXPECT_TRUE(unpacked(huge_length, &whole).empty());
  EXPECT_FALSE(whole);
}

TEST(ZmqFrames, ABundleNeverGrowsPastItsLimit) {
  BundleWriter writer;
  const std::string message(1000, 'm');
  std::size_t added = 0;
  while (writer.fits(message.size())) {
    writer.add(message);
    ++added;
  }
  EXPECT_EQ(added, kBundleBytesMax / (message.size() + kBundleEntryHeaderBytes));
  EXPECT_LE(writer.take().size(), kBundleBytesMax);
  EXPECT_FALSE(writer.fits(kBundleBytesMax)) << "a message as large as the limit goes alone";
  EXPECT_FALSE(writer.fits(0)) << "an empty message goes alone";
  while (writer.fits(1)) writer.add("x");
  EXPECT_EQ(writer.count(), kBundleEntriesMax);
}

// What a conforming sender never makes, a receiver refuses whole: one small frame must not
// turn into thousands of inbound messages.
TEST(ZmqFrames, BundlesOverTheLimitsOrWithEmptyEntriesAreRefused) {
  auto entry = [](std::string_view message) {
    std::string bytes;
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(message.size() >> (8 * i)));
    return bytes + std::string(message);
  };
  bool whole = true;
  EXPECT_TRUE(unpacked(entry("a") + entry("") + entry("b"), &whole).empty());
  EXPECT_FALSE(whole) << "an empty entry";

  std::string at_limit;
  for (std::size_t i = 0; i < kBundleEntriesMax; ++i) at_limit += entry("x");
  EXPECT_EQ(unpacked(at_limit, &whole).size(), kBundleEntriesMax);
  EXPECT_TRUE(whole);
  EXPECT_TRUE(unpacked(at_limit + entry("x"), &whole).empty());
  EXPECT_FALSE(whole) << "one entry too many";

  std::string too_long = entry(std::string(kBundleBytesMax, 'y'));
  EXPECT_TRUE(unpacked(too_long, &whole).empty());
  EXPECT_FALSE(whole) << "over kBundleBytesMax";
}

TEST(ZmqFrames, HeadersSayWhoSentAndWhetherItIsABundle) {
  EXPECT_EQ(header_frame(std::nullopt, false), "") << "a client's single message has none";
  for (bool bundle : {false, true}) {
    for (NodeId node : {0u, 3u, 0x01020304u}) {
      auto parsed = parse_header(header_frame(node, bundle));
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(parsed->node, node);
      EXPECT_EQ(parsed->bundle, bundle);
    }
  }
  auto client_bundle = parse_header(header_frame(std::nullopt, true));
  ASSERT_TRUE(client_bundle.has_value());
  EXPECT_EQ(client_bundle->node, std::nullopt);
  EXPECT_TRUE(client_bundle->bundle);

  for (std::string bad : {std::string("N"), std::string("X"), std::string("N1234x"),
                          std::string("Q\0\0\0\0", 5), std::string("B123"), std::string()})
    EXPECT_FALSE(parse_header(bad).has_value()) << "'" << bad << "'";
}

}  // namespace
}  // namespace phalanx::net
