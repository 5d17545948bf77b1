// Attacking your own Application (docs/adversary.md): the scenario suite runs any
// pbft::Application, not only the key-value store. Here a hash-chain ledger (each
// operation is folded into a running digest) goes through the equivocating-primary and
// crash-restart scenario files with RunSettings::make_application / make_operation, and
// every property holds. A ledger whose replicas disagree would show it: equal chains need
// equal operations in equal order, which is what the checker compares.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "phalanx/adversary/scenario.h"
#include "phalanx/crypto/digest.h"
#include "phalanx/pbft/application.h"

namespace phalanx::adversary {
namespace {

// A ledger: how many operations it took and the digest of their chain.
class ChainLedger : public pbft::Application {
 public:
  explicit ChainLedger(std::shared_ptr<std::atomic<std::uint64_t>> executed)
      : executed_(std::move(executed)) {}

  Bytes execute(ByteView operation, const pbft::RequestContext& context) override {
    ++length_;
    head_ =
        crypto::blake2b(head_.bytes() + std::to_string(context.seq) + ":" + std::string(operation));
    executed_->fetch_add(1, std::memory_order_relaxed);
    return std::to_string(length_);
  }
  Bytes snapshot() const override { return std::to_string(length_) + "/" + head_.bytes(); }
  Status restore(ByteView snapshot) override {
    auto slash = snapshot.find('/');
    if (slash == ByteView::npos || slash == 0) return Error{"not a chain snapshot"};
    std::uint64_t length = 0;
    for (char digit : snapshot.substr(0, slash)) {
      if (digit < '0' || digit > '9') return Error{"chain snapshot with a bad length"};
      length = length * 10 + static_cast<std::uint64_t>(digit - '0');
    }
    auto head = crypto::Digest::from_bytes(snapshot.substr(slash + 1));
    if (!head) return Error{"chain snapshot with a bad head"};
    length_ = length;
    head_ = *head;
    return ok_status();
  }

 private:
  std::shared_ptr<std::atomic<std::uint64_t>> executed_;
  std::uint64_t length_ = 0;
  crypto::Digest head_;
};

void run_with_ledger(const std::string& file) {
  auto path = std::filesystem::path(PHALANX_SOURCE_DIR) / "adversary/scenarios" / file;
  auto loaded = load_scenario(path.string());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto executed = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto operations = std::make_shared<std::atomic<std::uint64_t>>(0);
  RunSettings settings;
  settings.make_application = [executed] { return std::make_unique<ChainLedger>(executed); };
  settings.make_operation = [operations](std::uint32_t client, std::uint32_t number) {
    operations->fetch_add(1, std::memory_order_relaxed);
    return "append c" + std::to_string(client) + " #" + std::to_string(number);
  };
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    SeedOutcome outcome = run_scenario(loaded.value(), seed, settings);
    EXPECT_TRUE(outcome.expected) << file << " seed " << seed << ": " << outcome.unexpected << "\n"
                                  << outcome.summary;
  }
  EXPECT_GT(operations->load(), 0u) << "the clients never asked the ledger for an operation";
  EXPECT_GE(executed->load(), operations->load()) << "the ledger did not execute them";
}

TEST(OwnApplication, HashChainLedgerUnderAnEquivocatingPrimary) {
  run_with_ledger("equivocating-primary.toml");
}

TEST(OwnApplication, HashChainLedgerThroughCrashesWithDurableLogs) {
  run_with_ledger("crash-restart-all-log.toml");
}

}  // namespace
}  // namespace phalanx::adversary
