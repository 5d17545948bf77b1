// The ledger against liars, in the simulator: n = 7 (f = 2) with an equivocating primary
// and a forging backup, over a lossy network, many seeds. Clients race to spend the same
// account's money (two clients, one account, the same nonces), replay transfers, forge
// signatures and overdraw. Every correct replica ends with the same chain and balances;
// each nonce of the raced account is spent once; money is neither made nor lost; and each
// correct replica's SQLite block store verifies offline and agrees with the others'.
#include <gtest/gtest.h>

#include <filesystem>

#include "phalanx/adversary/behaviour.h"
#include "phalanx/adversary/sim_cluster.h"
#include "phalanx/ledger/ledger_application.h"
#include "phalanx/ledger/verify.h"
#include "sim/seed_runner.h"

namespace phalanx::ledger {
namespace {

using adversary::SimCluster;
using adversary::SimClusterOptions;
namespace fs = std::filesystem;

constexpr std::uint32_t kReplicas = 7;
constexpr pbft::ReplicaId kEquivocator = 0;  // the primary of view 0
constexpr pbft::ReplicaId kForger = 4;
constexpr Amount kStartBalance = 1000;

crypto::SecretKey account(std::uint64_t index) {
  return crypto::SecretKey::derive_for_testing("account", index);
}

Genesis genesis() {
  Genesis genesis{"sim-chain", adversary::SimCluster::kWallEpochMs, {}};
  for (std::uint64_t i = 0; i < 4; ++i)
    genesis.accounts[account(i).public_key()] = Account{kStartBalance, 0};
  return genesis;
}

// What client `client` submits as its `number`-th request:
//   0 and 1  race: both spend account 0 with nonce `number` (150 each: account 0 runs dry
//            after six, and later ones are overdrafts)
//   2        pays account 0 back from account 1, so the race goes on
//   3        misbehaves: replays client 2's transfers, forges account 3's signature,
//            asks for balances and history
Bytes operation(std::uint32_t client, std::uint32_t number) {
  auto to = [](std::uint64_t index) { return account(index).public_key(); };
  switch (client) {
    case 0:
      return encode_operation(sign_transfer(account(0), to(2), 150, number, "sim-chain"));
    case 1:
      return encode_operation(sign_transfer(account(0), to(3), 150, number, "sim-chain"));
    case 2:
      return encode_operation(sign_transfer(account(1), to(0), 40, number, "sim-chain"));
    default:
      switch (number % 4) {
        case 0:
          return encode_operation(sign_transfer(account(1), to(0), 40, number / 2, "sim-chain"));
        case 1: {
          Transfer forged = sign_transfer(account(2), to(1), 500, 1, "sim-chain");
          forged.from = to(3);  // signed by account 2, claiming account 3
          return encode_operation(forged);
        }
        case 2:
          return encode_operation(AccountQuery{to(0)});
        default:
          return encode_operation(HistoryQuery{to(0), 5});
      }
  }
}

std::string store_problem(const std::string& path) {
  auto store = BlockStore::open(path, BlockStore::Mode::kReadOnly);
  if (!store.ok()) return store.error().message;
  auto summary = verify_store(*store.value(), genesis());
  return summary.ok() ? "" : summary.error().message;
}

struct Stores {
  fs::path dir;
  std::shared_ptr<std::size_t> made = std::make_shared<std::size_t>(0);
  std::vector<std::string> paths;  // by replica id
  // The replica the next application is for: the cluster builds them in id order at the
  // start; a test that restarts a replica sets this first.
  std::optional<pbft::ReplicaId> next_owner;
};

SimClusterOptions options_for(std::uint64_t seed, Stores& stores,
                              std::uint32_t replicas = kReplicas) {
  net::Rng rng(seed);
  SimClusterOptions options;
  options.seed = seed;
  options.replicas = replicas;
  options.clients = 4;
  options.requests_per_client = static_cast<std::uint32_t>(rng.uniform(10, 16));
  options.network.latency_min_ns = 1 * pbft::kMillisecond;
  options.network.latency_max_ns = rng.uniform(2, 15) * pbft::kMillisecond;
  options.network.drop_probability = static_cast<double>(rng.uniform(0, 5)) / 100;
  options.replica_options.batch_time_skew_max = 1 * pbft::kSecond;
  options.replica_options.checkpoint_interval = 8;  // snapshots of the chain, often
  options.time_limit = 120 * pbft::kSecond;
  options.settle_time = 2 * pbft::kSecond;
  options.make_operation = operation;
  for (pbft::ReplicaId id = 0; id < replicas; ++id)
    stores.paths.push_back((stores.dir / ("replica-" + std::to_string(id) + ".db")).string());
  // The cluster builds the replicas' applications in id order (no restarts here).
  options.make_application = [&stores]() -> std::unique_ptr<pbft::Application> {
    std::size_t id = stores.next_owner ? *stores.next_owner : (*stores.made)++;
    auto store = BlockStore::open(stores.paths.at(id), BlockStore::Mode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return std::make_unique<LedgerApplication>(genesis(), std::move(store).value());
  };
  return options;
}

const LedgerApplication& ledger_of(const SimCluster& cluster, pbft::ReplicaId id) {
  return dynamic_cast<const LedgerApplication&>(cluster.application(id));
}

void check_correct_replicas(const SimCluster& cluster, const Stores& stores, std::uint64_t seed) {
  std::vector<pbft::ReplicaId> correct;
  for (pbft::ReplicaId id = 0; id < kReplicas; ++id)
    if (id != kEquivocator && id != kForger) correct.push_back(id);
  const LedgerState& reference = ledger_of(cluster, correct.front()).state();
  std::vector<std::vector<std::string>> hashes;
  std::vector<std::string> paths;
  for (pbft::ReplicaId id : correct) {
    const LedgerState& state = ledger_of(cluster, id).state();
    EXPECT_EQ(state.head_hash(), reference.head_hash())
        << "seed " << seed << ": replica " << id << " ends on another chain";
    EXPECT_EQ(state.accounts(), reference.accounts()) << "seed " << seed << ": replica " << id;
    auto store = BlockStore::open(stores.paths[id], BlockStore::Mode::kReadOnly);
    ASSERT_TRUE(store.ok());
    auto summary = verify_store(*store.value(), genesis());
    EXPECT_TRUE(summary.ok()) << "seed " << seed << ": " << summary.error().message;
    hashes.push_back(store.value()->block_hashes().value());
    paths.push_back(stores.paths[id]);
  }
  Status agreed = compare_heads(paths, hashes);
  EXPECT_TRUE(agreed.ok()) << "seed " << seed << ": " << agreed.error().message;

  // Money is conserved; each nonce of the raced account was spent once; the forgeries
  // and replays never made it into a block.
  Amount total = 0;
  for (const auto& [key, held] : reference.accounts()) total += held.balance;
  EXPECT_EQ(total, 4 * kStartBalance) << "seed " << seed;
  std::map<Nonce, int> spent;
  std::size_t transfers = 0;
  for (const Block& block : reference.chain()) {
    for (const Transfer& transfer : block.transfers) {
      ++transfers;
      if (transfer.from == account(0).public_key()) ++spent[transfer.nonce];
      EXPECT_NE(transfer.from, account(3).public_key()) << "seed " << seed << ": a forgery";
    }
  }
  for (const auto& [nonce, times] : spent)
    EXPECT_EQ(times, 1) << "seed " << seed << ": nonce " << nonce << " spent twice";
  EXPECT_GT(transfers, 0u) << "seed " << seed;
  EXPECT_FALSE(spent.empty()) << "seed " << seed << ": the race never spent anything";
}

TEST(LedgerByzantine, EquivocatingPrimaryAndForgingBackup) {
  const char* modes[] = {"bad-signature", "impersonate", "tamper", "fake-certificate",
                         "client-request"};
  for (std::uint64_t seed : adversary::sim_test::seeds(30)) {
    Stores stores;
    stores.dir = fs::temp_directory_path() /
                 ("phalanx-ledger-sim-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
    fs::remove_all(stores.dir);
    fs::create_directories(stores.dir);
    {
      SimCluster cluster(options_for(seed, stores));
      auto equivocate =
          adversary::make_behaviour("equivocate", cluster.behaviour_context(kEquivocator));
      ASSERT_TRUE(equivocate.ok()) << equivocate.error().message;
      cluster.set_behaviour(kEquivocator, std::move(equivocate).value());
      auto forge = adversary::make_behaviour(
          "forge", cluster.behaviour_context(kForger, {{"mode", modes[seed % 5]}}));
      ASSERT_TRUE(forge.ok()) << forge.error().message;
      cluster.set_behaviour(kForger, std::move(forge).value());

      adversary::RunResult result = cluster.run();
      EXPECT_EQ(result.stop, adversary::RunResult::Stop::kCompleted)
          << "seed " << seed << ": " << result.summary() << "\n"
          << adversary::sim_test::reproduce_command(seed);
      auto violations = cluster.check();
      EXPECT_TRUE(violations.empty())
          << "seed " << seed << ": " << violations.size() << " violations";
      check_correct_replicas(cluster, stores, seed);
      if (HasFailure()) {
        ADD_FAILURE() << adversary::sim_test::reproduce_command(seed);
        break;
      }
    }
    fs::remove_all(stores.dir);
  }
}

fs::path scratch(const std::string& name, std::uint64_t seed) {
  fs::path dir =
      fs::temp_directory_path() /
      ("phalanx-ledger-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A primary whose wall clock lies by a minute, ahead or behind: its batches are never
// prepared, it is replaced, and every block time stays within the bound of true time.
TEST(LedgerClock, APrimaryWithALyingClockCannotMoveBlockTimes) {
  for (std::uint64_t seed : adversary::sim_test::seeds(10)) {
    Stores stores;
    stores.dir = scratch("clock", seed);
    {
      SimCluster cluster(options_for(seed, stores, 4));
      cluster.set_wall_clock_skew(0, seed % 2 ? 60'000 : -60'000);
      adversary::RunResult result = cluster.run();
      EXPECT_EQ(result.stop, adversary::RunResult::Stop::kCompleted) << "seed " << seed;
      pbft::UnixMillis start = SimCluster::kWallEpochMs;
      pbft::UnixMillis end = start + result.sim_time / pbft::kMillisecond;
      const auto& chain = ledger_of(cluster, 1).state().chain();
      EXPECT_GT(chain.size(), 1u) << "seed " << seed;
      for (const Block& block : chain) {
        if (block.height == 0) continue;
        EXPECT_GE(block.time + 1000, start) << "seed " << seed << ": block " << block.height;
        EXPECT_LE(block.time, end + 1000) << "seed " << seed << ": block " << block.height;
      }
      EXPECT_GE(cluster.replica(1).status().view, 1u) << "seed " << seed;
      EXPECT_EQ(store_problem(stores.paths[1]), "") << "seed " << seed;
    }
    fs::remove_all(stores.dir);
  }
}

// A replica loses its disk (block store included) and rejoins: it gets the state by
// state transfer, its application restores the chain from the snapshot and rewrites the
// store, and the store verifies and agrees with the others'.
TEST(LedgerRecovery, ARejoinedReplicaRebuildsItsStoreFromTheSnapshot) {
  for (std::uint64_t seed : adversary::sim_test::seeds(10)) {
    Stores stores;
    stores.dir = scratch("rejoin", seed);
    {
      SimClusterOptions options = options_for(seed, stores, 4);
      options.requests_per_client = 40;
      options.think_time = 20 * pbft::kMillisecond;
      options.replica_options.checkpoint_interval = 4;
      options.replica_options.window_checkpoints = 2;
      SimCluster cluster(options);
      cluster.schedule_action(300 * pbft::kMillisecond, [&stores](SimCluster& sim) {
        sim.crash(3);
        fs::remove(stores.paths[3]);  // the disk is gone
        stores.next_owner = 3;
        sim.rejoin(3);
        stores.next_owner.reset();
      });
      adversary::RunResult result = cluster.run();
      EXPECT_EQ(result.stop, adversary::RunResult::Stop::kCompleted) << "seed " << seed;
      EXPECT_GT(result.harness.state_transfers, 0u) << "seed " << seed;
      EXPECT_EQ(ledger_of(cluster, 3).state().head_hash(),
                ledger_of(cluster, 1).state().head_hash())
          << "seed " << seed;
      EXPECT_EQ(store_problem(stores.paths[3]), "") << "seed " << seed;
      std::vector<std::vector<std::string>> hashes;
      for (pbft::ReplicaId id : {1u, 3u}) {
        auto store = BlockStore::open(stores.paths[id], BlockStore::Mode::kReadOnly);
        hashes.push_back(store.value()->block_hashes().value());
      }
      EXPECT_EQ(hashes[0], hashes[1]) << "seed " << seed;
    }
    fs::remove_all(stores.dir);
  }
}

}  // namespace
}  // namespace phalanx::ledger
