// crypto/: signatures with domain separation, digests, hex and secret key files.
// Each test is named after the property it checks (crypto/include/phalanx/crypto/*.h).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "phalanx/crypto/digest.h"
#include "phalanx/crypto/key_file.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/crypto/sign.h"

namespace phalanx::crypto {
namespace {

const Domain kDomain{"test", "prepare"};
const Bytes kPayload = "the exact payload bytes";

Bytes flip_bit(Bytes bytes, std::size_t bit) {
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  return bytes;
}

Signature flip_bit(const Signature& signature, std::size_t bit) {
  return *Signature::from_bytes(flip_bit(signature.bytes(), bit));
}

class SignatureTest : public ::testing::Test {
 protected:
  Signer signer_{SecretKey::derive_for_testing("replica", 0)};
  Signature signature_ = signer_.sign(kDomain, kPayload);
};

TEST_F(SignatureTest, VerifiesWhatWasSigned) {
  EXPECT_TRUE(verify(signer_.public_key(), kDomain, kPayload, signature_));
}

TEST_F(SignatureTest, SigningIsDeterministic) {
  EXPECT_EQ(signer_.sign(kDomain, kPayload), signature_);
}

TEST_F(SignatureTest, RejectsAnyFlippedPayloadBit) {
  for (std::size_t bit = 0; bit < kPayload.size() * 8; ++bit) {
    EXPECT_FALSE(verify(signer_.public_key(), kDomain, flip_bit(kPayload, bit), signature_))
        << "bit " << bit;
  }
}

TEST_F(SignatureTest, RejectsAnyFlippedSignatureBit) {
  for (std::size_t bit = 0; bit < Signature::kSize * 8; ++bit) {
    EXPECT_FALSE(verify(signer_.public_key(), kDomain, kPayload, flip_bit(signature_, bit)))
        << "bit " << bit;
  }
}

TEST_F(SignatureTest, RejectsFlippedKeyBit) {
  for (std::size_t bit : {0u, 7u, 100u, 255u}) {
    auto key = PublicKey::from_bytes(flip_bit(signer_.public_key().bytes(), bit));
    ASSERT_TRUE(key);
    EXPECT_FALSE(verify(*key, kDomain, kPayload, signature_)) << "bit " << bit;
  }
}

TEST_F(SignatureTest, RejectsAnotherSignersKey) {
  Signer other(SecretKey::derive_for_testing("replica", 1));
  EXPECT_FALSE(verify(other.public_key(), kDomain, kPayload, signature_));
}

TEST_F(SignatureTest, DoesNotCarryToAnotherCluster) {
  EXPECT_FALSE(verify(signer_.public_key(), Domain{"test2", "prepare"}, kPayload, signature_));
  EXPECT_FALSE(verify(signer_.public_key(), Domain{"", "prepare"}, kPayload, signature_));
}

TEST_F(SignatureTest, DoesNotCarryToAnotherMessageKind) {
  EXPECT_FALSE(verify(signer_.public_key(), Domain{"test", "commit"}, kPayload, signature_));
}

TEST_F(SignatureTest, DomainFieldsAreSeparated) {
  // Moving a byte from the context into the cluster id must change what is signed.
  EXPECT_NE(signing_digest(Domain{"ab", "c"}, kPayload),
            signing_digest(Domain{"a", "bc"}, kPayload));
  EXPECT_NE(signing_digest(Domain{"test", "prepare"}, "x"),
            signing_digest(Domain{"test", "prepar"}, "ex"));
}

TEST_F(SignatureTest, SignDigestMatchesVerifyDigest) {
  Digest digest = signing_digest(kDomain, kPayload);
  EXPECT_EQ(signer_.sign_digest(digest), signature_);
  EXPECT_TRUE(verify_digest(signer_.public_key(), digest, signature_));
  EXPECT_FALSE(verify_digest(signer_.public_key(), blake2b(kPayload), signature_));
}

TEST(KeysTest, DeriveForTestingIsDeterministicAndDistinctPerIndex) {
  EXPECT_EQ(SecretKey::derive_for_testing("replica", 3).public_key(),
            SecretKey::derive_for_testing("replica", 3).public_key());
  EXPECT_NE(SecretKey::derive_for_testing("replica", 3).public_key(),
            SecretKey::derive_for_testing("replica", 4).public_key());
  EXPECT_NE(SecretKey::derive_for_testing("replica", 3).public_key(),
            SecretKey::derive_for_testing("client", 3).public_key());
}

TEST(KeysTest, FromSeedIsDeterministicAndCloneKeepsTheKey) {
  std::array<std::uint8_t, Seed::kSize> bytes{};
  bytes[0] = 42;
  SecretKey a = SecretKey::from_seed(Seed(bytes));
  SecretKey b = SecretKey::from_seed(Seed(bytes));
  EXPECT_EQ(a.public_key(), b.public_key());
  EXPECT_EQ(a.clone().public_key(), a.public_key());
  EXPECT_EQ(seed_of(a).array(), bytes);
}

TEST(KeysTest, GeneratedKeysDiffer) {
  EXPECT_NE(SecretKey::generate().public_key(), SecretKey::generate().public_key());
}

TEST(KeysTest, FromBytesRequiresTheExactSize) {
  EXPECT_FALSE(Digest::from_bytes(Bytes(31, 'x')));
  EXPECT_FALSE(Digest::from_bytes(Bytes(33, 'x')));
  EXPECT_FALSE(Digest::from_bytes(""));
  EXPECT_TRUE(Digest::from_bytes(Bytes(32, 'x')));
  EXPECT_FALSE(PublicKey::from_bytes(Bytes(31, 'x')));
  EXPECT_FALSE(PublicKey::from_bytes(Bytes(64, 'x')));
  EXPECT_TRUE(PublicKey::from_bytes(Bytes(32, 'x')));
  EXPECT_FALSE(Signature::from_bytes(Bytes(63, 'x')));
  EXPECT_FALSE(Signature::from_bytes(Bytes(65, 'x')));
  EXPECT_TRUE(Signature::from_bytes(Bytes(64, 'x')));
}

TEST(KeysTest, PublicKeyHexRoundTrip) {
  PublicKey key = SecretKey::derive_for_testing("replica", 0).public_key();
  EXPECT_EQ(key.hex().size(), 64u);
  EXPECT_EQ(PublicKey::from_hex(key.hex()), key);
  EXPECT_FALSE(PublicKey::from_hex(key.hex().substr(2)));  // 31 bytes
  EXPECT_FALSE(PublicKey::from_hex("zz" + key.hex().substr(2)));
}

TEST(DigestTest, HasherSeparatesFields) {
  EXPECT_NE(Hasher().update_field("ab").update_field("c").finish(),
            Hasher().update_field("a").update_field("bc").finish());
  // Without field framing the two are the same bytes: that is why update_field exists.
  EXPECT_EQ(Hasher().update("ab").update("c").finish(), Hasher().update("a").update("bc").finish());
}

TEST(DigestTest, HasherOfOneUpdateIsBlake2b) {
  EXPECT_EQ(Hasher().update("abc").finish(), blake2b("abc"));
  EXPECT_NE(blake2b("abc"), blake2b("abd"));
  EXPECT_NE(blake2b(""), Digest());
}

TEST(DigestTest, KnownAnswer) {
  // BLAKE2b-256("abc"), from the BLAKE2 reference implementation.
  EXPECT_EQ(blake2b("abc").hex(),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(DigestTest, UpdateU64IsLittleEndian) {
  EXPECT_EQ(Hasher().update_u64(0x0102030405060708).finish(),
            blake2b(Bytes("\x08\x07\x06\x05\x04\x03\x02\x01", 8)));
}

TEST(HexTest, RoundTripsEveryByte) {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = to_hex(all);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  EXPECT_EQ(from_hex(hex), all);
  EXPECT_EQ(from_hex("ABcd"), Bytes("\xab\xcd", 2));
  EXPECT_EQ(from_hex(""), Bytes());
}

TEST(HexTest, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("0g"));
  EXPECT_FALSE(from_hex("-1"));
  EXPECT_FALSE(from_hex(" 01"));
}

// ---- key files ---------------------------------------------------------------------------

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "phalanx-key-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/replica.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to path_ with `mode`, bypassing the key file writer.
  void write_raw(const std::string& text, mode_t mode) {
    { std::ofstream(path_) << text; }
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }

  static void expect_error_names(const Error& error, const std::string& path,
                                 const std::string& problem) {
    EXPECT_NE(error.message.find(path), std::string::npos) << error.message;
    EXPECT_NE(error.message.find(problem), std::string::npos) << error.message;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(KeyFileTest, WriteThenReadGivesTheSameKey) {
  SecretKey key = SecretKey::derive_for_testing("replica", 2);
  ASSERT_TRUE(write_secret_key_file(path_, key).ok());
  auto read = read_secret_key_file(path_);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read.value().public_key(), key.public_key());
}

TEST_F(KeyFileTest, WrittenFileHasMode0600) {
  ASSERT_TRUE(write_secret_key_file(path_, SecretKey::derive_for_testing("replica", 0)).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(KeyFileTest, RefusesToOverwriteUnlessAsked) {
  SecretKey first = SecretKey::derive_for_testing("replica", 0);
  SecretKey second = SecretKey::derive_for_testing("replica", 1);
  ASSERT_TRUE(write_secret_key_file(path_, first).ok());
  Status refused = write_secret_key_file(path_, second);
  ASSERT_FALSE(refused.ok());
  expect_error_names(refused.error(), path_, "exists");
  EXPECT_EQ(read_secret_key_file(path_).value().public_key(), first.public_key());

  ASSERT_TRUE(write_secret_key_file(path_, second, Overwrite::kYes).ok());
  EXPECT_EQ(read_secret_key_file(path_).value().public_key(), second.public_key());
}

TEST_F(KeyFileTest, OverwriteTightensLoosePermissions) {
  write_raw("old", 0644);
  ASSERT_TRUE(
      write_secret_key_file(path_, SecretKey::derive_for_testing("replica", 0), Overwrite::kYes)
          .ok());
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_TRUE(read_secret_key_file(path_).ok());
}

TEST_F(KeyFileTest, MissingFileIsAnError) {
  auto read = read_secret_key_file(path_);
  ASSERT_FALSE(read.ok());
  expect_error_names(read.error(), path_, "does not exist");
}

TEST_F(KeyFileTest, LoosePermissionsAreRefused) {
  ASSERT_TRUE(write_secret_key_file(path_, SecretKey::derive_for_testing("replica", 0)).ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto read = read_secret_key_file(path_);
  ASSERT_FALSE(read.ok());
  expect_error_names(read.error(), path_, "0644");
  ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
  EXPECT_FALSE(read_secret_key_file(path_).ok());
}

TEST_F(KeyFileTest, WrongLengthIsRefused) {
  write_raw(std::string(62, 'a') + "\n", 0600);
  auto read = read_secret_key_file(path_);
  ASSERT_FALSE(read.ok());
  expect_error_names(read.error(), path_, "62 characters");

  write_raw(std::string(200, 'a'), 0600);
  read = read_secret_key_file(path_);
  ASSERT_FALSE(read.ok());
  expect_error_names(read.error(), path_, "expected 64");

  write_raw("", 0600);
  EXPECT_FALSE(read_secret_key_file(path_).ok());
}

TEST_F(KeyFileTest, NonHexContentIsRefused) {
  write_raw(std::string(63, 'a') + "x\n", 0600);
  auto read = read_secret_key_file(path_);
  ASSERT_FALSE(read.ok());
  expect_error_names(read.error(), path_, "not hex");
}

TEST_F(KeyFileTest, AcceptsCrLfAndNoNewline) {
  SecretKey key = SecretKey::derive_for_testing("replica", 5);
  std::string hex = to_hex(as_bytes(seed_of(key).array()));
  write_raw(hex + "\r\n", 0600);
  EXPECT_EQ(read_secret_key_file(path_).value().public_key(), key.public_key());
  write_raw(hex, 0400);
  EXPECT_EQ(read_secret_key_file(path_).value().public_key(), key.public_key());
}

// Keys and digests order ordered maps everywhere (and so the iteration order the
// simulations' determinism rests on): the inline comparison must order exactly as memcmp.
TEST(KeyOrder, IsMemcmpOrder) {
  auto sign_of = [](int value) { return value < 0 ? -1 : value > 0 ? 1 : 0; };
  auto expect_memcmp_order = [&](const PublicKey& a, const PublicKey& b) {
    int expected = sign_of(std::memcmp(a.array().data(), b.array().data(), PublicKey::kSize));
    std::strong_ordering order = a <=> b;
    int got = order < 0 ? -1 : order > 0 ? 1 : 0;
    EXPECT_EQ(got, expected) << a.hex() << " vs " << b.hex();
    EXPECT_EQ(a == b, expected == 0);
    Digest da(a.array()), db(b.array());
    std::strong_ordering digest_order = da <=> db;
    EXPECT_EQ(digest_order < 0 ? -1 : digest_order > 0 ? 1 : 0, expected);
  };
  std::array<std::uint8_t, PublicKey::kSize> base{};
  for (std::size_t i = 0; i < base.size(); ++i) base[i] = static_cast<std::uint8_t>(37 * i + 11);
  for (std::size_t at = 0; at < base.size(); ++at) {
    for (std::uint8_t value : {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}) {
      auto other = base;
      other[at] = value;
      other[(at + 9) % other.size()] ^= 0xff;  // a later difference must not decide
      expect_memcmp_order(PublicKey(base), PublicKey(other));
      expect_memcmp_order(PublicKey(other), PublicKey(base));
    }
  }
  expect_memcmp_order(PublicKey(base), PublicKey(base));
}

}  // namespace
}  // namespace phalanx::crypto
