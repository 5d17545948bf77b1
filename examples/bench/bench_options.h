#pragma once
// What one phalanx-bench run is: the cluster, the load and what to write (main.cc parses
// the command line into this; the replica processes get the same command line).

#include <cstddef>
#include <string>
#include <vector>

#include "phalanx/pbft/options.h"

namespace phalanx::bench {

struct BenchOptions {
  bool threads = false;              // replicas as threads of this process, not processes
  std::size_t replicas = 4;          // n = 3f+1
  bool unreplicated = false;         // one server executing the application, no agreement
  std::string application = "null";  // null | kv
  std::size_t request_bytes = 0;     // the operation's size (kv: the value's)
  std::size_t reply_bytes = 0;       // the result's size (null application)
  std::vector<std::size_t> outstanding = {64};  // requests in flight; several: a sweep
  std::size_t clients = 1;                      // client objects sharing the outstanding requests
  std::size_t batch_requests_max = pbft::ReplicaOptions{}.batch_requests_max;
  double batch_delay_ms = 1;
  std::size_t pipeline_batches_max = pbft::ReplicaOptions{}.pipeline_batches_max;  // 0: off
  bool durable = false;  // disk storage with fsync (group commit) vs memory
  double warmup_seconds = 2;
  double seconds = 10;       // measured, per point
  bool plaintext = false;    // no CurveZMQ link encryption
  bool mac_clients = false;  // --client-auth mac: MAC authenticators instead of signatures
  bool send_to_all = pbft::ClientOptions{}.send_to_all;  // --send-to all|primary
  int base_port = 25500;      // replica i listens on base_port + i, on 127.0.0.1
  std::string data_dir;       // durable storage (default: a fresh temporary directory)
  std::string json_path;      // "": no JSON file
  std::string svg_path;       // "": no plot
  bool skip_machine = false;  // do not time the machine (no ceiling)
  bool replica_log = false;   // replicas log what they do (view changes, ...) on stderr

  std::size_t server_count() const { return unreplicated ? 1 : replicas; }
};

}  // namespace phalanx::bench
