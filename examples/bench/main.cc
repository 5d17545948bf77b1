// phalanx-bench: throughput and latency of a Phalanx cluster on this machine, beside the
// machine's own bound. It times Ed25519, BLAKE2b and ZeroMQ first, starts n replicas (as
// processes, or threads with --threads) on 127.0.0.1 and closed-loop clients in this
// process, measures each number of outstanding requests after a warm-up, and prints (and
// with --json writes) throughput, latency percentiles, CPU, signatures, messages and bytes
// per request, and the result as a share of the crypto+messaging ceiling (cost_model.h),
// priced with the faster of two timings of the machine, before and after the runs.
//
//   phalanx-bench [--replicas N] [--outstanding K[,K...]] [--clients C]
//                 [--application null|kv] [--request-bytes B] [--reply-bytes B]
//                 [--batch-max B] [--batch-delay-ms MS] [--pipeline P] [--durable] [--plaintext]
//                 [--client-auth ed25519|mac] [--send-to all|primary]
//                 [--threads] [--unreplicated | --baseline] [--seconds S] [--warmup S]
//                 [--json FILE] [--svg FILE] [--base-port P] [--no-machine]
//                 [--replica-log]
//
// Several --outstanding values make a sweep (a throughput-latency curve; --svg draws it).
// --baseline runs the same load against the application unreplicated afterwards (one
// server, same transport, same signed requests) and prints the price of replication.
// docs/performance.md explains every figure and how the published ones were made.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "closed_loop.h"
#include "report.h"
#include "server_set.h"

using namespace phalanx;
using namespace phalanx::bench;

namespace {

int fail(const std::string& message) {
  std::cerr << "phalanx-bench: " << message << "\n";
  return 2;
}

void sleep_seconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

Result<RunReport> run_one(const BenchOptions& options, std::vector<std::string> arguments,
                          const MachineCosts& machine, bool machine_timed,
                          const std::string& data_dir) {
  RunReport report;
  report.label =
      options.unreplicated ? "unreplicated" : "replicated n=" + std::to_string(options.replicas);
  report.options = options;
  report.machine = machine;
  report.machine_timed = machine_timed;
  report.least = least_work(options.unreplicated ? 0 : options.replicas, options.batch_requests_max,
                            options.request_bytes, options.mac_clients);
  if (machine_timed) report.ceiling_per_second = ceiling_per_second(report.least, machine);

  if (options.unreplicated) arguments.push_back("--unreplicated");
  arguments.push_back("--base-port");
  arguments.push_back(std::to_string(options.base_port));
  auto servers = ServerSet::start(options, arguments, data_dir);
  if (!servers.ok()) return servers.error();
  auto loop = ClosedLoop::create(options);
  if (!loop.ok()) return loop.error();
  for (std::size_t outstanding : options.outstanding) {
    loop.value()->set_outstanding(outstanding);
    sleep_seconds(options.warmup_seconds);
    Counters own_before = process_counters();
    auto servers_before = servers.value()->counters();
    if (!servers_before.ok()) return servers_before.error();
    loop.value()->begin_window();
    sleep_seconds(options.seconds);
    WindowResult window = loop.value()->end_window();
    Counters own = process_counters() - own_before;
    auto servers_after = servers.value()->counters();
    if (!servers_after.ok()) return servers_after.error();
    report.points.push_back(make_point(outstanding, std::move(window), own,
                                       servers_after.value() - servers_before.value(),
                                       options.threads, report.ceiling_per_second));
    std::fprintf(stderr, "  %s, %zu outstanding: %.0f requests/s\n", report.label.c_str(),
                 outstanding, report.points.back().per_second);
  }
  loop.value()->drain(std::chrono::seconds(5));
  return report;
}

// The run's ceiling, and each point's share of it, from the machine's `machine` timings.
void rebase_ceiling(RunReport& report, const MachineCosts& machine) {
  report.machine = machine;
  report.ceiling_per_second = ceiling_per_second(report.least, machine);
  for (Point& point : report.points)
    point.of_ceiling =
        report.ceiling_per_second > 0 ? point.per_second / report.ceiling_per_second : 0;
}

void print_price(const RunReport& replicated, const RunReport& alone) {
  std::printf("\nprice of replication (replicated / unreplicated, same load):\n");
  for (std::size_t i = 0; i < replicated.points.size() && i < alone.points.size(); ++i) {
    const Point& r = replicated.points[i];
    const Point& a = alone.points[i];
    std::printf("  %zu outstanding: throughput x%.2f, p50 latency x%.2f, CPU per request x%.2f\n",
                r.outstanding, a.per_second > 0 ? r.per_second / a.per_second : 0,
                a.p50_ms > 0 ? r.p50_ms / a.p50_ms : 0,
                a.cpu_us_per_request > 0 ? r.cpu_us_per_request / a.cpu_us_per_request : 0);
  }
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  int serve_id = -1;
  bool baseline = false;
  CLI::App app{"Throughput and latency of a Phalanx cluster on this machine, beside its bound."};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--replicas", options.replicas, "replicas, n = 3f+1")->check(CLI::Range(4, 31));
  app.add_option("--outstanding", options.outstanding,
                 "requests in flight; several (comma-separated) make a sweep")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::Range(1, 100'000));
  app.add_option("--clients", options.clients, "client objects sharing the load")
      ->check(CLI::Range(1, 64));
  app.add_option("--application", options.application, "null or kv")
      ->check(CLI::IsMember({"null", "kv"}));
  app.add_option("--request-bytes", options.request_bytes, "operation size (kv: value size)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--reply-bytes", options.reply_bytes, "result size (null application)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--batch-max", options.batch_requests_max, "requests per batch at most")
      ->check(CLI::Range(1, 4096));
  app.add_option("--batch-delay-ms", options.batch_delay_ms, "longest wait to fill a batch")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--pipeline", options.pipeline_batches_max,
                 "adaptive batching: batches in flight before a non-full batch waits (0: off)")
      ->check(CLI::Range(0, 4096));
  app.add_flag("--durable", options.durable, "disk storage with fsync (default: memory)");
  app.add_flag("--plaintext", options.plaintext, "no CurveZMQ link encryption");
  std::string client_auth = "ed25519";
  app.add_option("--client-auth", client_auth,
                 "ed25519 (signed requests and replies) or mac (a MAC per replica)")
      ->check(CLI::IsMember({"ed25519", "mac"}));
  std::string send_to = options.send_to_all ? "all" : "primary";
  app.add_option("--send-to", send_to,
                 "clients send each request to all replicas (the backups watch the primary) "
                 "or to the primary only (the others get it in the pre-prepare)")
      ->check(CLI::IsMember({"all", "primary"}));
  app.add_flag("--threads", options.threads, "replicas as threads of this process");
  auto* unreplicated = app.add_flag("--unreplicated", options.unreplicated,
                                    "one server, no agreement, instead of the cluster");
  app.add_flag("--baseline", baseline, "after the cluster, the same load unreplicated")
      ->excludes(unreplicated);
  app.add_option("--seconds", options.seconds, "measured seconds per point")
      ->check(CLI::Range(0.5, 3600.0));
  app.add_option("--warmup", options.warmup_seconds, "warm-up seconds before each point")
      ->check(CLI::Range(0.0, 600.0));
  app.add_option("--json", options.json_path, "write the figures here as JSON");
  app.add_option("--svg", options.svg_path, "draw the throughput-latency curve here");
  app.add_option("--base-port", options.base_port, "replica i listens on 127.0.0.1:P+i")
      ->check(CLI::Range(1024, 65000));
  app.add_option("--data-dir", options.data_dir, "storage with --durable (default: temporary)");
  app.add_flag("--no-machine", options.skip_machine, "do not time the machine (no ceiling)");
  app.add_flag("--replica-log", options.replica_log,
               "replicas log view changes, state transfers and the like on stderr");
  app.add_option("--serve", serve_id, "(internal) run server ID and answer on stdin/stdout")
      ->group("");
  CLI11_PARSE(app, argc, argv);
  options.mac_clients = client_auth == "mac";
  options.send_to_all = send_to == "all";
  if ((options.replicas - 1) % 3 != 0) return fail("--replicas must be 3f+1 (4, 7, 10, ...)");
  if (serve_id >= 0)
    return serve_main(options, static_cast<std::uint32_t>(serve_id), options.data_dir);

  std::string data_dir = options.data_dir;
  bool temporary = false;
  if (options.durable && data_dir.empty()) {
    char pattern[] = "/tmp/phalanx-bench-XXXXXX";
    if (!mkdtemp(pattern)) return fail("cannot make a temporary directory");
    data_dir = pattern;
    temporary = true;
  }
  // Server processes get the same command line (and the data directory chosen here).
  std::vector<std::string> arguments;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) != "--baseline") arguments.push_back(argv[i]);
  arguments.push_back("--data-dir");
  arguments.push_back(data_dir);

  MachineCosts machine;
  if (!options.skip_machine) {
    machine = measure_machine(!options.plaintext);
    print_machine(machine);
  }
  std::vector<RunReport> runs;
  auto run = run_one(options, arguments, machine, !options.skip_machine, data_dir);
  if (!run.ok()) return fail(run.error().message);
  runs.push_back(std::move(run).value());
  if (baseline) {
    BenchOptions alone = options;
    alone.unreplicated = true;
    alone.base_port = options.base_port + 40;  // not the ports the cluster just let go
    auto second = run_one(alone, arguments, machine, !options.skip_machine, data_dir);
    if (!second.ok()) return fail(second.error().message);
    runs.push_back(std::move(second).value());
  }
  if (!options.skip_machine) {
    MachineCosts again = measure_machine(!options.plaintext);
    print_machine(again, "machine after the runs");
    machine = fastest_of(machine, again);
    print_machine(machine, "ceilings priced with (the faster of each)");
    for (auto& report : runs) rebase_ceiling(report, machine);
  }
  for (const auto& report : runs) print_run(report);
  if (runs.size() == 2) print_price(runs[0], runs[1]);
  if (temporary) std::filesystem::remove_all(data_dir);
  if (!options.json_path.empty() && !write_file(options.json_path, to_json(runs)))
    return fail("cannot write " + options.json_path);
  if (!options.svg_path.empty() && !write_file(options.svg_path, to_svg(runs)))
    return fail("cannot write " + options.svg_path);
  for (const auto& report : runs)
    for (const auto& point : report.points)
      if (point.completed == 0) return fail("a point completed no request");
  return 0;
}
