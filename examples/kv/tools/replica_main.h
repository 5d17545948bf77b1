#pragma once
// The command line of a key-value replica process (see replica_main.cc for its options
// and exit codes), shared by phalanx-replica and by the adversary's
// phalanx-byzantine-replica, which adds options and wraps the transport. The honest
// binary passes no hooks and links nothing of adversary/.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "phalanx/base/result.h"
#include "phalanx/crypto/keys.h"
#include "phalanx/net/transport.h"
#include "phalanx/pbft/config.h"

namespace phalanx::examples {

struct ReplicaHooks {
  std::string description;  // --help's first line (empty: the default)
  std::function<void(CLI::App&)> add_options;
  // Called with the replica's transport once it is connected; returns what the node uses.
  std::function<Result<std::unique_ptr<net::Transport>>(std::unique_ptr<net::Transport>,
                                                        const pbft::ClusterConfig&, pbft::ReplicaId,
                                                        const crypto::SecretKey&)>
      wrap_transport;
};

int replica_main(int argc, char** argv, const ReplicaHooks& hooks);

}  // namespace phalanx::examples
