// The cluster file (pbft/config.h): a valid file loads; each broken rule is reported on
// its own line with the line of the file it is about; all problems come out together;
// key files are checked against the keys the file lists.
#include "phalanx/pbft/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "phalanx/crypto/key_file.h"
#include "phalanx/crypto/keys.h"

namespace phalanx::pbft {
namespace {

namespace fs = std::filesystem;

std::string key_hex(std::string_view label, std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing(label, index).public_key().hex();
}

// One [[replica]] block of 6 lines (a blank line first): the header is at line
// `3 + 6 * position` of a file made by cluster_text(), id one below, then endpoint,
// public_key and key_file.
std::string replica_block(std::uint32_t id, std::uint32_t port, std::string extra = "") {
  return "\n[[replica]]\nid = " + std::to_string(id) +
         "\nendpoint = \"tcp://127.0.0.1:" + std::to_string(port) + "\"\npublic_key = \"" +
         key_hex("replica", id) + "\"\nkey_file = \"keys/replica-" + std::to_string(id) +
         ".key\"\n" + extra;
}

std::string client_block(std::uint32_t index) {
  return "\n[[client]]\nname = \"client-" + std::to_string(index) + "\"\npublic_key = \"" +
         key_hex("client", index) + "\"\nkey_file = \"keys/client-" + std::to_string(index) +
         ".key\"\n";
}

std::string cluster_text(std::uint32_t replicas = 4, std::string tail = "") {
  std::string text = "cluster_id = \"phalanx-test-1\"\n";
  for (std::uint32_t id = 0; id < replicas; ++id) text += replica_block(id, 7100 + id);
  return text + client_block(0) + tail;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The problems reported for `text`, one per line; fails the test if it loads.
std::vector<std::string> problems_of(const std::string& text) {
  auto result = parse_cluster_config(text, "cluster.toml");
  EXPECT_FALSE(result.ok()) << "expected problems in:\n" << text;
  if (result.ok()) return {};
  return split_lines(result.error().message);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += "  " + line + "\n";
  return text;
}

#define EXPECT_PROBLEM(problems, expected)                                              \
  EXPECT_TRUE(std::find((problems).begin(), (problems).end(), std::string(expected)) != \
              (problems).end())                                                         \
      << "expected the problem\n  " << (expected) << "\nbut got\n"                      \
      << joined(problems)

std::string replace(std::string text, const std::string& from, const std::string& to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ClusterConfig, ValidFileLoadsWithEveryField) {
  auto result = parse_cluster_config(
      cluster_text(4,
                   "\n[options]\ncheckpoint_interval = 64\nbatch_delay_max_ms = 5\n"
                   "\n[client_options]\nretry_timeout_ms = 250\n"),
      "cluster.toml", "/etc/phalanx");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const ClusterConfig& config = result.value();
  EXPECT_EQ(config.cluster_id, "phalanx-test-1");
  ASSERT_EQ(config.replicas.size(), 4u);
  EXPECT_EQ(config.quorums().f(), 1u);
  for (ReplicaId id = 0; id < 4; ++id) {
    EXPECT_EQ(config.replicas[id].id, id);
    EXPECT_EQ(config.replicas[id].endpoint, "tcp://127.0.0.1:" + std::to_string(7100 + id));
    EXPECT_EQ(config.replicas[id].public_key.hex(), key_hex("replica", id));
  }
  ASSERT_EQ(config.clients.size(), 1u);
  EXPECT_EQ(config.clients[0].name, "client-0");
  EXPECT_NE(config.find_client("client-0"), nullptr);
  EXPECT_EQ(config.replica_options.checkpoint_interval, 64u);
  EXPECT_EQ(config.replica_options.batch_delay_max, 5 * kMillisecond);
  EXPECT_EQ(config.replica_options.window_checkpoints, ReplicaOptions{}.window_checkpoints);
  EXPECT_EQ(config.client_options.retry_timeout, 250 * kMillisecond);
  EXPECT_EQ(config.resolve_path("keys/replica-0.key"), "/etc/phalanx/keys/replica-0.key");
  EXPECT_EQ(config.resolve_path("/abs/key"), "/abs/key");

  Verifier verifier = config.verifier();
  EXPECT_EQ(verifier.cluster_id, "phalanx-test-1");
  ASSERT_EQ(verifier.replica_keys.size(), 4u);
  EXPECT_EQ(verifier.replica_keys[2], config.replicas[2].public_key);
}

TEST(ClusterConfig, ReplicasMayBeListedInAnyOrderAndComeOutByID) {
  std::string text = "cluster_id = \"c\"\n" + replica_block(3, 7103) + replica_block(1, 7101) +
                     replica_block(0, 7100) + replica_block(2, 7102);
  auto result = parse_cluster_config(text, "cluster.toml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  for (ReplicaId id = 0; id < 4; ++id) EXPECT_EQ(result.value().replicas[id].id, id);
}

TEST(ClusterConfig, SevenReplicasToleratesTwoFaults) {
  auto result = parse_cluster_config(cluster_text(7), "cluster.toml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value().quorums().f(), 2u);
}

TEST(ClusterConfig, SyntaxErrorGivesLineAndColumn) {
  auto problems = problems_of("cluster_id = \"x\"\n[[replica]]\nid = = 3\n");
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_TRUE(problems[0].starts_with("cluster.toml:3:")) << problems[0];
  EXPECT_NE(problems[0].find("TOML syntax error"), std::string::npos) << problems[0];
}

TEST(ClusterConfig, ReplicaCountMustBeThreeFPlusOne) {
  EXPECT_PROBLEM(problems_of(cluster_text(5)),
                 "cluster.toml: 5 replicas, but PBFT needs n = 3f+1 with f >= 1 (4, 7, 10, ...)");
  // n = 1 is 3f+1 with f = 0: no fault tolerance, refused.
  EXPECT_PROBLEM(problems_of(cluster_text(1)),
                 "cluster.toml: 1 replicas, but PBFT needs n = 3f+1 with f >= 1 (4, 7, 10, ...)");
  EXPECT_PROBLEM(problems_of("cluster_id = \"c\"\n"),
                 "cluster.toml: no [[replica]] entries (PBFT needs n = 3f+1 replicas, f >= 1)");
}

TEST(ClusterConfig, DuplicateIdNamesBothLines) {
  // The fourth block (header at line 21) says id 0 again, so id 3 is missing.
  std::string text = "cluster_id = \"c\"\n" + replica_block(0, 7100) + replica_block(1, 7101) +
                     replica_block(2, 7102) + replica_block(0, 7103);
  auto problems = problems_of(text);
  EXPECT_PROBLEM(problems,
                 "cluster.toml:22: [[replica]] #4: id 0 is also used by the "
                 "[[replica]] at line 4");
  EXPECT_PROBLEM(problems, "cluster.toml: no replica has id 3 (ids must be 0..3)");
}

TEST(ClusterConfig, IdsMustBeZeroToNMinusOne) {
  std::string text = "cluster_id = \"c\"\n" + replica_block(0, 7100) + replica_block(1, 7101) +
                     replica_block(2, 7102) + replica_block(7, 7103);
  auto problems = problems_of(text);
  EXPECT_PROBLEM(problems,
                 "cluster.toml:22: replica 7: id 7 is out of range: with 4 replicas the ids are "
                 "0..3");
  EXPECT_PROBLEM(problems, "cluster.toml: no replica has id 3 (ids must be 0..3)");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "id = 1", "id = -1")),
                 "cluster.toml:10: [[replica]] #2: id -1 is out of range 0..99");
}

TEST(ClusterConfig, DuplicateEndpointNamesTheOtherReplica) {
  std::string text = replace(cluster_text(), "tcp://127.0.0.1:7102", "tcp://127.0.0.1:7100");
  EXPECT_PROBLEM(problems_of(text),
                 "cluster.toml:17: replica 2: endpoint tcp://127.0.0.1:7100 is also used by "
                 "replica 0 (line 5)");
}

TEST(ClusterConfig, EndpointMustBeTcpHostPortOrIpc) {
  for (std::string bad : {"127.0.0.1:7100", "tcp://127.0.0.1", "tcp://127.0.0.1:0",
                          "tcp://127.0.0.1:65536", "tcp://:7100", "udp://127.0.0.1:7100"}) {
    EXPECT_PROBLEM(problems_of(replace(cluster_text(), "tcp://127.0.0.1:7101", bad)),
                   "cluster.toml:11: replica 1: endpoint '" + bad +
                       "' is not tcp://HOST:PORT (port 1-65535) or ipc://PATH");
  }
  auto result = parse_cluster_config(
      replace(cluster_text(), "tcp://127.0.0.1:7101", "ipc:///tmp/r1"), "cluster.toml");
  EXPECT_TRUE(result.ok()) << result.error().message;
}

TEST(ClusterConfig, MetricsPortMustNotCollide) {
  std::string text = replace(cluster_text(), "id = 1\n", "id = 1\nmetrics_port = 7100\n");
  EXPECT_PROBLEM(problems_of(text),
                 "cluster.toml:11: replica 1: metrics_port 7100 on 127.0.0.1 is also used by "
                 "the endpoint of replica 0 (line 5)");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "id = 1\n", "id = 1\nmetrics_port = 70000\n")),
                 "cluster.toml:11: replica 1: metrics_port 70000 is out of range 1..65535");
}

TEST(ClusterConfig, BadPublicKeys) {
  std::string key1 = key_hex("replica", 1);
  EXPECT_PROBLEM(
      problems_of(replace(cluster_text(), key1, "zz" + key1.substr(2))),
      "cluster.toml:12: replica 1: public_key 'zz" + key1.substr(2) + "' is not 64 hex characters");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), key1, key1.substr(0, 62))),
                 "cluster.toml:12: replica 1: public_key '" + key1.substr(0, 62) +
                     "' is not 64 hex characters");
  std::string key0 = key_hex("replica", 0);
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), key1, key0)),
                 "cluster.toml:12: replica 1: public_key " + key0.substr(0, 8) +
                     "... is also the key of replica 0 (line 6)");
}

// Links and MAC clients use a replica key's X25519 counterpart: a point without one (here
// y = 2, not on the curve) is refused when the file is read, not when a client starts.
TEST(ClusterConfig, AReplicaKeyWithoutACurvePointIsRefused) {
  std::string key1 = key_hex("replica", 1);
  std::string not_a_point = "02" + std::string(62, '0');
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), key1, not_a_point)),
                 "cluster.toml:12: replica 1: public_key 02000000... is not a usable Ed25519 "
                 "public key (it has no X25519 counterpart)");
}

TEST(ClusterConfig, UnknownKeysAnywhereAreErrors) {
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "endpoint = \"tcp://127.0.0.1:7101\"",
                                     "endpont = \"tcp://127.0.0.1:7101\"")),
                 "cluster.toml:11: replica 1: unknown key 'endpont' (did you mean 'endpoint'?)");
  EXPECT_PROBLEM(problems_of("verbose = true\n" + cluster_text()),
                 "cluster.toml:1: top level: unknown key 'verbose' (known keys: cluster_id "
                 "replica client options client_options)");
  EXPECT_PROBLEM(problems_of(cluster_text(4, "\n[options]\ncheckpoint_intervl = 64\n")),
                 "cluster.toml:33: [options]: unknown key 'checkpoint_intervl' (did you mean "
                 "'checkpoint_interval'?)");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "name = \"client-0\"",
                                     "name = \"client-0\"\nweight = 2")),
                 "cluster.toml:29: client 'client-0': unknown key 'weight' (known keys: name "
                 "public_key key_file)");
}

TEST(ClusterConfig, MissingRequiredFields) {
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "endpoint = \"tcp://127.0.0.1:7101\"\n", "")),
                 "cluster.toml:9: replica 1: missing endpoint");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "id = 1\n", "")),
                 "cluster.toml:9: [[replica]] #2: missing id");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "key_file = \"keys/replica-2.key\"\n", "")),
                 "cluster.toml:15: replica 2: missing key_file");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "cluster_id = \"phalanx-test-1\"\n", "")),
                 "cluster.toml: missing cluster_id");
  std::string client_key = "public_key = \"" + key_hex("client", 0) + "\"\n";
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), client_key, "")),
                 "cluster.toml:27: client 'client-0': missing public_key");
}

TEST(ClusterConfig, ClusterIdMustBeShortAndNonEmpty) {
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "\"phalanx-test-1\"", "\"\"")),
                 "cluster.toml:1: cluster_id is empty");
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "\"phalanx-test-1\"",
                                     "\"" + std::string(65, 'x') + "\"")),
                 "cluster.toml:1: cluster_id is 65 bytes, more than 64");
  EXPECT_TRUE(parse_cluster_config(
                  replace(cluster_text(), "\"phalanx-test-1\"", "\"" + std::string(64, 'x') + "\""),
                  "cluster.toml")
                  .ok());
}

TEST(ClusterConfig, WrongTypesAreNamed) {
  EXPECT_PROBLEM(problems_of(replace(cluster_text(), "id = 1\n", "id = \"1\"\n")),
                 "cluster.toml:10: [[replica]] #2: id must be an integer");
  EXPECT_PROBLEM(
      problems_of(replace(cluster_text(), "cluster_id = \"phalanx-test-1\"", "cluster_id = 7")),
      "cluster.toml:1: cluster_id must be a string");
  EXPECT_PROBLEM(problems_of("replica = 3\ncluster_id = \"c\"\n"),
                 "cluster.toml:1: replica must be written as [[replica]] tables");
}

TEST(ClusterConfig, OptionsAreBounded) {
  auto problems =
      problems_of(cluster_text(4,
                               "\n[options]\nbatch_requests_max = 0\nview_timeout_floor_ms = 1500\n"
                               "checkpoint_interval = 4096\n"));
  EXPECT_PROBLEM(problems,
                 "cluster.toml:33: [options] batch_requests_max = 0 is out of range "
                 "1..1024");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:32: [options] view timeouts must satisfy view_timeout_floor_ms <= "
                 "view_timeout_initial_ms <= view_timeout_ceiling_ms");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:32: [options] checkpoint_interval * window_checkpoints "
                 "= 8192 exceeds the log window limit 4096");
}

// A key may hold any byte in quotes; the problem that quotes it stays one line.
TEST(ClusterConfig, AProblemQuotingANewlineStaysOneLine) {
  std::string text = "cluster_id = \"c\"\n\"a\\nb\" = 1\n" + replica_block(0, 7100) +
                     replica_block(1, 7101) + replica_block(2, 7102) + replica_block(3, 7103);
  auto problems = problems_of(text);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_EQ(problems[0].find('\n'), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("unknown key 'a\\x0ab'"), std::string::npos) << problems[0];
}

TEST(ClusterConfig, AllProblemsAreReportedTogether) {
  std::string text = "cluster_id = \"\"\ncolour = \"blue\"\n" + replica_block(0, 7100) +
                     replica_block(0, 7100) + replica_block(2, 7102, "endpont = \"x\"\n") +
                     replica_block(3, 7103) + replica_block(4, 7104);
  auto problems = problems_of(text);
  EXPECT_PROBLEM(problems, "cluster.toml:1: cluster_id is empty");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:2: top level: unknown key 'colour' (known keys: "
                 "cluster_id replica client options client_options)");
  EXPECT_PROBLEM(problems,
                 "cluster.toml: 5 replicas, but PBFT needs n = 3f+1 with f >= 1 "
                 "(4, 7, 10, ...)");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:11: [[replica]] #2: id 0 is also used by the "
                 "[[replica]] at line 5");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:12: replica 0: endpoint tcp://127.0.0.1:7100 is also "
                 "used by replica 0 (line 6)");
  EXPECT_PROBLEM(problems, "cluster.toml:13: replica 0: public_key " +
                               key_hex("replica", 0).substr(0, 8) +
                               "... is also the key of replica 0 (line 7)");
  EXPECT_PROBLEM(problems,
                 "cluster.toml:21: replica 2: unknown key 'endpont' (did you mean "
                 "'endpoint'?)");
  EXPECT_PROBLEM(problems, "cluster.toml: no replica has id 1 (ids must be 0..4)");
  EXPECT_EQ(problems.size(), 8u) << joined(problems);
  // In the order of the file, problems about the whole file first.
  std::vector<int> lines;
  for (const auto& problem : problems) {
    std::size_t colon = problem.find(':');
    lines.push_back(problem[colon + 1] == ' ' ? 0 : std::stoi(problem.substr(colon + 1)));
  }
  EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end())) << joined(problems);
}

// Files: a scratch directory per test, removed afterwards.
class ClusterConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("phalanx-config-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "keys");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A loaded config whose key files exist (mode 0600) and match.
  ClusterConfig write_cluster() {
    std::ofstream(path("cluster.toml")) << cluster_text();
    for (std::uint32_t id = 0; id < 4; ++id) {
      auto status =
          crypto::write_secret_key_file(path("keys/replica-" + std::to_string(id) + ".key"),
                                        crypto::SecretKey::derive_for_testing("replica", id));
      EXPECT_TRUE(status.ok());
    }
    auto status = crypto::write_secret_key_file(path("keys/client-0.key"),
                                                crypto::SecretKey::derive_for_testing("client", 0));
    EXPECT_TRUE(status.ok());
    auto config = load_cluster_config(path("cluster.toml"));
    EXPECT_TRUE(config.ok()) << config.error().message;
    return config.value();
  }

  fs::path dir_;
};

TEST_F(ClusterConfigFiles, LoadResolvesKeyFilesNextToTheClusterFile) {
  ClusterConfig config = write_cluster();
  EXPECT_EQ(config.base_dir, dir_.string());
  for (ReplicaId id = 0; id < 4; ++id) {
    EXPECT_TRUE(check_key_file_matches(config, id).ok());
  }
  auto client = load_client_key(config, "client-0");
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_EQ(client.value().public_key().hex(), key_hex("client", 0));
}

TEST_F(ClusterConfigFiles, MissingFileAndDirectoryAreErrors) {
  auto missing = load_cluster_config(path("nope.toml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, path("nope.toml") +
                                         ": cannot open cluster file: No such "
                                         "file or directory");
  EXPECT_FALSE(load_cluster_config(dir_.string()).ok());
}

TEST_F(ClusterConfigFiles, KeyFileMissing) {
  ClusterConfig config = write_cluster();
  fs::remove(path("keys/replica-1.key"));
  Status status = check_key_file_matches(config, 1);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, path("keys/replica-1.key") + ": key file does not exist");
}

TEST_F(ClusterConfigFiles, KeyFileWithLoosePermissions) {
  ClusterConfig config = write_cluster();
  ::chmod(path("keys/replica-2.key").c_str(), 0644);
  Status status = check_key_file_matches(config, 2);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("mode 0644"), std::string::npos) << status.error().message;
}

TEST_F(ClusterConfigFiles, KeyFileHoldingAnotherKey) {
  ClusterConfig config = write_cluster();
  ASSERT_TRUE(crypto::write_secret_key_file(path("keys/replica-3.key"),
                                            crypto::SecretKey::derive_for_testing("replica", 9),
                                            crypto::Overwrite::kYes)
                  .ok());
  Status status = check_key_file_matches(config, 3);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, path("keys/replica-3.key") + ": holds the key " +
                                        key_hex("replica", 9).substr(0, 8) +
                                        "..., but the cluster file lists " +
                                        key_hex("replica", 3).substr(0, 8) + "... for replica 3");
}

TEST_F(ClusterConfigFiles, UnknownReplicaOrClient) {
  ClusterConfig config = write_cluster();
  EXPECT_FALSE(check_key_file_matches(config, 4).ok());
  EXPECT_FALSE(load_client_key(config, "client-9").ok());
}

TEST_F(ClusterConfigFiles, WriteThenLoadGivesTheSameConfig) {
  ClusterConfig config = write_cluster();
  config.replicas[1].metrics_port = 9101;
  config.replica_options.view_timeout_initial = 750 * kMillisecond;
  config.client_options.retry_timeout_max = 8 * kSecond;
  config.cluster_id = "quote\"and\\slash";  // printable, no spaces: must survive escaping
  ASSERT_TRUE(write_cluster_config(config, path("copy.toml")).ok());
  auto copy = load_cluster_config(path("copy.toml"));
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(copy.value().cluster_id, config.cluster_id);
  ASSERT_EQ(copy.value().replicas.size(), 4u);
  for (ReplicaId id = 0; id < 4; ++id) {
    EXPECT_EQ(copy.value().replicas[id].endpoint, config.replicas[id].endpoint);
    EXPECT_EQ(copy.value().replicas[id].public_key, config.replicas[id].public_key);
    EXPECT_EQ(copy.value().replicas[id].key_file, config.replicas[id].key_file);
    EXPECT_EQ(copy.value().replicas[id].metrics_port, config.replicas[id].metrics_port);
  }
  EXPECT_EQ(copy.value().clients[0].public_key, config.clients[0].public_key);
  EXPECT_EQ(copy.value().replica_options.view_timeout_initial, 750 * kMillisecond);
  EXPECT_EQ(copy.value().client_options.retry_timeout_max, 8 * kSecond);
}

TEST_F(ClusterConfigFiles, WriteRefusesAnExistingFileAndAnInvalidConfig) {
  ClusterConfig config = write_cluster();
  Status existing = write_cluster_config(config, path("cluster.toml"));
  ASSERT_FALSE(existing.ok());
  EXPECT_EQ(existing.error().message,
            path("cluster.toml") + ": already exists (use --force to overwrite)");
  EXPECT_TRUE(write_cluster_config(config, path("cluster.toml"), crypto::Overwrite::kYes).ok());

  config.replicas.pop_back();
  Status invalid = write_cluster_config(config, path("three.toml"));
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().message.find("3 replicas, but PBFT needs n = 3f+1"), std::string::npos)
      << invalid.error().message;
  EXPECT_FALSE(fs::exists(path("three.toml")));
}

}  // namespace
}  // namespace phalanx::pbft
