#pragma once
// The servers of a run, as threads of this process or as processes of their own (the
// default: each replica then has its own CPU, as in a deployment, and its own figures).
//
// A server process is this program run again with `--serve ID` before the run's own
// options; it answers each line "counters" on its stdin with one line of Counters on its
// stdout, and stops when its stdin closes (so it cannot outlive the bench). serve_main()
// is that process's main.
//
// Thread-safety: one thread uses a ServerSet.

#include <memory>
#include <string>
#include <vector>

#include "server.h"

namespace phalanx::bench {

class ServerSet {
 public:
  // `arguments`: the bench's own command line (argv[1..]), given to server processes.
  static Result<std::unique_ptr<ServerSet>> start(const BenchOptions& options,
                                                  const std::vector<std::string>& arguments,
                                                  const std::string& data_dir);
  virtual ~ServerSet() = default;
  // Every server's network figures, and the CPU and crypto counts of server processes
  // (threads are counted with this process's own).
  virtual Result<Counters> counters() = 0;
};

int serve_main(const BenchOptions& options, std::uint32_t id, const std::string& data_dir);

}  // namespace phalanx::bench
