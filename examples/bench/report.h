#pragma once
// The figures of a run, as a table on stdout, as JSON and as an SVG throughput-latency
// curve (one point per number of outstanding requests).

#include <string>
#include <vector>

#include "bench_options.h"
#include "closed_loop.h"
#include "cost_model.h"
#include "machine_costs.h"
#include "server.h"

namespace phalanx::bench {

struct Point {
  std::size_t outstanding = 0;
  double seconds = 0;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;
  double per_second = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0;
  double cpu_us_per_request = 0;         // every process: servers and clients
  double server_cpu_us_per_request = 0;  // server processes only (0 with --threads)
  double signs_per_request = 0;
  double verifies_per_request = 0;
  double messages_per_request = 0;
  double bytes_per_request = 0;
  double batch_size = 0;  // requests per executed batch
  double of_ceiling = 0;  // per_second / ceiling (0 when the machine was not timed)
};

// `own`: this process's counters over the window; `servers`: the server set's.
Point make_point(std::size_t outstanding, WindowResult window, const Counters& own,
                 const Counters& servers, bool threads, double ceiling);

struct RunReport {
  std::string label;  // "replicated n=4" or "unreplicated"
  BenchOptions options;
  MachineCosts machine;
  bool machine_timed = false;
  WorkPerRequest least;
  double ceiling_per_second = 0;
  std::vector<Point> points;
};

void print_machine(const MachineCosts& machine, const char* label = "machine");
void print_run(const RunReport& run);
std::string to_json(const std::vector<RunReport>& runs);
// Throughput (x) against p50 and p99 latency (y), one curve per run.
std::string to_svg(const std::vector<RunReport>& runs);

}  // namespace phalanx::bench
