#include "ledger_hooks.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "phalanx/ledger/ledger_application.h"

namespace phalanx::ledger {

void add_ledger_to(examples::ReplicaHooks& hooks, LedgerReplicaOptions& options) {
  auto previous = hooks.add_options;
  hooks.add_options = [previous, &options](CLI::App& app) {
    if (previous) previous(app);
    app.add_option("--genesis", options.genesis_path,
                   "the chain's genesis file (default: genesis.toml beside the cluster file)");
  };
  hooks.adjust_options = [](pbft::ReplicaOptions& replica) {
    if (replica.batch_time_skew_max == 0) replica.batch_time_skew_max = kDefaultBatchTimeSkew;
  };
  hooks.make_application =
      [&options](const pbft::ClusterConfig& config, pbft::ReplicaId,
                 const std::string& data_dir) -> Result<std::unique_ptr<pbft::Application>> {
    std::string path =
        options.genesis_path.empty() ? config.resolve_path("genesis.toml") : options.genesis_path;
    auto genesis = load_genesis(path);
    if (!genesis.ok()) return genesis.error();
    std::unique_ptr<BlockStore> store;
    if (!data_dir.empty()) {
      std::error_code error;
      std::filesystem::create_directories(data_dir, error);
      auto opened = BlockStore::open(data_dir + "/ledger.db", BlockStore::Mode::kReadWrite);
      if (!opened.ok()) return opened.error();
      store = std::move(opened).value();
      spdlog::info("ledger: chain '{}', block store {}/ledger.db", genesis.value().chain_id,
                   data_dir);
    }
    return std::unique_ptr<pbft::Application>(
        std::make_unique<LedgerApplication>(std::move(genesis).value(), std::move(store)));
  };
}

}  // namespace phalanx::ledger
