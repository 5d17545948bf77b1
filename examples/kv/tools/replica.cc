// phalanx-replica: one replica of the replicated key-value store, as a process. Its
// command line is in replica_main.cc (`phalanx-replica --help`).
#include "replica_main.h"

int main(int argc, char** argv) {
  return phalanx::examples::replica_main(argc, argv, {});
}
