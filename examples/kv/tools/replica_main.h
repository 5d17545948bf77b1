#pragma once
// The command line of a replica process (see replica_main.cc for its options and exit
// codes), shared by phalanx-replica (the key-value store), phalanx-ledger-replica (which
// makes its own application) and the adversary's phalanx-byzantine-replica, which adds
// options, wraps the transport and may lie about its clock. The honest binaries link
// nothing of adversary/.

#include <functional>
#include <memory>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/net/clock.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/application.h"
#include "phalanx/pbft/config.h"

// CLI11 costs ~8 s of compile time per file that includes it; only the files that add
// options include it.
namespace CLI {
class App;
}  // namespace CLI

namespace phalanx::examples {

struct ReplicaHooks {
  std::string description;  // --help's first line (empty: the default)
  std::function<void(CLI::App&)> add_options;
  // Called with the replica's transport once it is connected; returns what the node uses.
  std::function<Result<std::unique_ptr<net::Transport>>(std::unique_ptr<net::Transport>,
                                                        const pbft::ClusterConfig&, pbft::ReplicaId,
                                                        const crypto::SecretKey&)>
      wrap_transport;
  // Makes the application of replica `id`, whose durable state is in `data_dir` (default:
  // the key-value store). Called after the options are parsed; `data_dir` is empty for
  // offline inspection and --storage memory (keep nothing on disk then).
  std::function<Result<std::unique_ptr<pbft::Application>>(
      const pbft::ClusterConfig&, pbft::ReplicaId id, const std::string& data_dir)>
      make_application;
  // Adjusts the protocol options read from the cluster file (an application that needs
  // batch times turns them on). Every replica of a cluster must adjust alike.
  std::function<void(pbft::ReplicaOptions&)> adjust_options;
  // What the replica is, for the first line of its trace file (default: "honest").
  std::function<std::string()> role;
  // The node's clock (default: the machine's); a Byzantine replica may lie with it.
  std::function<std::shared_ptr<const net::Clock>()> make_clock;
};

int replica_main(int argc, char** argv, const ReplicaHooks& hooks);

}  // namespace phalanx::examples
