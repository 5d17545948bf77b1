// check-cluster DIR: exits 0 when DIR/cluster.toml loads and every replica and client key
// file it lists is private and holds the listed key. Used by tests/tools/keygen_test.sh
// to check what phalanx-keygen wrote through the same loader the replicas use.
#include <cstdio>
#include <string>

#include "phalanx/pbft/config.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: check-cluster DIR\n");
    return 2;
  }
  auto config = phalanx::pbft::load_cluster_config(std::string(argv[1]) + "/cluster.toml");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.error().message.c_str());
    return 1;
  }
  int failures = 0;
  for (const auto& replica : config.value().replicas) {
    auto status = phalanx::pbft::check_key_file_matches(config.value(), replica.id);
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.error().message.c_str());
      ++failures;
    }
  }
  for (const auto& client : config.value().clients) {
    auto key = phalanx::pbft::load_client_key(config.value(), client.name);
    if (!key.ok()) {
      std::fprintf(stderr, "%s\n", key.error().message.c_str());
      ++failures;
    }
  }
  std::printf("%s: %zu replicas, %zu clients, %d key problem(s)\n", argv[1],
              config.value().replicas.size(), config.value().clients.size(), failures);
  return failures == 0 ? 0 : 1;
}
