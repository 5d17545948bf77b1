#pragma once
// One server of a benchmark run: replica `id` of the cluster (a node::Node), or the
// unreplicated server, with the application the options name; and the figures a run
// reads from it. The cluster is made from the options alone (keys derived from fixed
// labels, endpoints 127.0.0.1:base_port+i), so replica processes need nothing but the
// command line.
//
// Thread-safety: counters() may be called from any thread; the rest from one.

#include <cstdint>
#include <memory>
#include <string>

#include "bench_options.h"
#include "phalanx/base/result.h"
#include "phalanx/pbft/config.h"

namespace phalanx::bench {

// Figures that only grow; a window's figures are the difference of two readings.
struct Counters {
  double cpu_us = 0;           // CPU of the process(es), every thread
  std::uint64_t signs = 0;     // Ed25519 signatures made
  std::uint64_t verifies = 0;  // and checked
  std::uint64_t messages = 0;  // every message on the wire (servers' receptions + replies)
  std::uint64_t bytes = 0;     // their envelope bytes
  std::uint64_t executed = 0;  // requests executed, summed over servers
  std::uint64_t batches = 0;   // batches executed, summed over servers

  Counters& operator+=(const Counters& other);
  Counters operator-(const Counters& earlier) const;
  std::string to_line() const;  // "cpu_us=... signs=... ..." (replica processes print it)
  static Result<Counters> from_line(const std::string& line);
};

// This process's CPU time and crypto counts; the network figures are left at zero.
Counters process_counters();

pbft::ClusterConfig bench_cluster(const BenchOptions& options);
crypto::SecretKey server_key(std::uint32_t id);
crypto::SecretKey client_key(std::size_t index);

class Server {
 public:
  virtual ~Server() = default;
  // The network figures of this server (messages, bytes, executed, batches).
  virtual Counters counters() const = 0;
};

// Starts server `id` (its own threads); `data_dir` holds its storage when durable.
Result<std::unique_ptr<Server>> start_server(const BenchOptions& options, std::uint32_t id,
                                             const std::string& data_dir);

}  // namespace phalanx::bench
